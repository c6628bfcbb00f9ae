"""The ops that change the classes: add, rename, merge one into another, delete (see :mod:`aldesk.core.labeling.ops`).

A deleted or merged class keeps its id for its undo, which puts it back at its place in the class order."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, ClassVar

from aldesk.core.labeling.actions import Action
from aldesk.core.labeling.op_base import CheckClasses, Op, _cls


def _new_class_id(con: sqlite3.Connection) -> int:
    """An id above every class id ever used: a deleted (or merged) class keeps its id for its undo, which puts
    it back at its place in the class order (the order is by id)."""
    import json

    top = int(con.execute("SELECT coalesce(max(id), 0) FROM classes").fetchone()[0])
    for (data,) in con.execute("SELECT data FROM actions WHERE op IN ('merge_class', 'delete_class')"):
        top = max(top, int(json.loads(data).get("class_id", 0)))
    return top + 1


def _position(a: Action) -> int:
    """The class position a merge or delete removed (``prev_ids[0]``): where its undo puts the class back."""
    if len(a.prev_ids) != 1:
        raise ValueError(f"action {a.seq} ({a.op}) does not say where its class was")
    return a.prev_ids[0]


def _class_rows(con: sqlite3.Connection, ids: dict[str, int], name: str) -> tuple[int, list[list]]:
    if name not in ids:
        raise KeyError(f"unknown class {name!r}")
    cid = ids[name]
    rows = con.execute(
        "SELECT item, time, origin FROM labels WHERE class = ? ORDER BY item", (cid,)
    ).fetchall()
    return cid, [list(r) for r in rows]


@dataclass(frozen=True)
class MergeClass(Op):
    """Class ``prev[0]`` goes into class ``cls``: its items (``items``) get ``cls``, keeping their time and origin,
    and the class leaves the list. ``prev_ids[0]`` is its position; undo puts it back there with its items."""

    name: ClassVar[str] = "merge_class"
    undoable: ClassVar[bool] = True

    def apply(self, s: Any, a: Action) -> None:
        src, dst = _position(a), s.class_index(_cls(a))
        if s.classes[src] != a.prev[0]:
            raise ValueError(f"action {a.seq}: class {a.prev[0]!r} is not at position {src}")
        s.knn.move_items(list(a.items), dst)  # votes move; no mat-vec
        s.knn.drop_class(src)
        s.classes.pop(src)

    def revert(self, s: Any, a: Action) -> None:
        src = _position(a)
        s.classes.insert(src, a.prev[0])
        s.knn.insert_class(src)
        s.knn.move_items(list(a.items), src)

    def project(self, con: sqlite3.Connection, a: Action, ids: dict[str, int], check: CheckClasses) -> dict:
        dst = _cls(a)
        if dst not in ids:
            raise KeyError(f"unknown class {dst!r}")
        src = a.prev[0] if a.prev else None
        if src is None:
            raise ValueError(f"action {a.seq} ({a.op}) names no merged class")
        cid, was = _class_rows(con, ids, src)
        con.execute("UPDATE labels SET class = ? WHERE class = ?", (ids[dst], cid))
        con.execute("DELETE FROM classes WHERE id = ?", (cid,))
        del ids[src]
        return {"class_id": cid, "class_name": src, "was": was}

    def unproject(self, con: sqlite3.Connection, seq: int, stored: dict) -> None:
        con.execute(
            "INSERT INTO classes (id, name) VALUES (?, ?)", (stored["class_id"], stored["class_name"])
        )
        con.executemany(
            "UPDATE labels SET class = ? WHERE item = ?", [(stored["class_id"], w[0]) for w in stored["was"]]
        )


@dataclass(frozen=True)
class DeleteClass(Op):
    """Class ``cls`` leaves the list and its items (``items``) become unlabeled (back in the pool). The file keeps
    their labels' time and origin in the record, so undo restores them exactly, at the class's old position."""

    name: ClassVar[str] = "delete_class"
    undoable: ClassVar[bool] = True

    def apply(self, s: Any, a: Action) -> None:
        pos = _position(a)
        if s.classes[pos] != a.cls:
            raise ValueError(f"action {a.seq}: class {a.cls!r} is not at position {pos}")
        s.knn.remove_many(list(a.items))
        s.knn.drop_class(pos)
        s.classes.pop(pos)

    def revert(self, s: Any, a: Action) -> None:
        pos = _position(a)
        s.classes.insert(pos, _cls(a))
        s.knn.insert_class(pos)
        s.knn.restore_many(list(a.items), pos)

    def project(self, con: sqlite3.Connection, a: Action, ids: dict[str, int], check: CheckClasses) -> dict:
        name = _cls(a)
        cid, was = _class_rows(con, ids, name)
        con.execute("DELETE FROM labels WHERE class = ?", (cid,))
        con.execute("DELETE FROM classes WHERE id = ?", (cid,))
        del ids[name]
        return {"class_id": cid, "class_name": name, "was": was}

    def unproject(self, con: sqlite3.Connection, seq: int, stored: dict) -> None:
        cid = stored["class_id"]
        con.execute("INSERT INTO classes (id, name) VALUES (?, ?)", (cid, stored["class_name"]))
        con.executemany(
            "INSERT OR REPLACE INTO labels VALUES (?, ?, ?, ?)",
            [(w[0], cid, w[1], w[2]) for w in stored["was"]],
        )


@dataclass(frozen=True)
class AddClass(Op):
    name: ClassVar[str] = "add_class"

    def apply(self, s: Any, a: Action) -> None:
        s.classes.append(a.cls)

    def project(self, con: sqlite3.Connection, a: Action, ids: dict[str, int], check: CheckClasses) -> dict:
        name = _cls(a)
        check([*ids, name])
        new_id = _new_class_id(con)
        con.execute("INSERT INTO classes (id, name) VALUES (?, ?)", (new_id, name))
        ids[name] = new_id
        return {}


@dataclass(frozen=True)
class RenameClass(Op):
    """``prev`` = (old name,), ``cls`` = the new name; the class keeps its id and its position (its key)."""

    name: ClassVar[str] = "rename_class"

    def apply(self, s: Any, a: Action) -> None:
        s.classes[s.class_index(a.prev[0])] = a.cls

    def project(self, con: sqlite3.Connection, a: Action, ids: dict[str, int], check: CheckClasses) -> dict:
        old = a.prev[0]
        if old not in ids:
            raise KeyError(f"unknown class {old!r}")
        new = _cls(a)
        if new != old:
            check([*(c for c in ids if c != old), new])
            con.execute("UPDATE classes SET name = ? WHERE id = ?", (new, ids[old]))
            # Keep the order of classes (a plain pop/insert would move it to the end); in place: the caller
            # adopts this dict once the commit succeeded.
            renamed = {(new if k == old else k): v for k, v in ids.items()}
            ids.clear()
            ids.update(renamed)
        return {}
