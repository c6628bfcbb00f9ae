"""What each kind of action means, in one place: one small frozen class per op, with its effect on a session in
memory (``apply`` / ``revert``) and on the project file (``project`` / ``unproject``, SQL).

The :class:`~aldesk.core.labeling.actions.Action` record stays the one JSON shape in the file (no schema change);
``OPS[action.op]`` says what it does. :class:`~aldesk.core.labeling.session.Session` and
:class:`~aldesk.core.project.store.Project` dispatch here instead of each keeping an ``if op ==`` ladder, so a new
op (a later issue's) is one class here and nothing else.

``apply``/``revert`` take the session (its ``knn``, ``skipped``, ``classes``, ``class_index`` and ``pop_history``);
``project`` takes an SQLite connection inside the journal's transaction, the name -> class id map (updated in
place, adopted by the caller once the commit succeeded) and the project's class-name check, and returns what the
stored record needs beyond the action itself (a label's previous labels, for undo).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from aldesk.core.labeling.actions import Action

CheckClasses = Callable[[list[str]], None]


@dataclass(frozen=True)
class Op:
    name: ClassVar[str] = ""
    undoable: ClassVar[bool] = False

    def apply(self, s: Any, a: Action) -> None:
        raise NotImplementedError

    def revert(self, s: Any, a: Action) -> None:
        raise ValueError(f"action {a.seq} ({a.op}) cannot be undone")

    def project(self, con: sqlite3.Connection, a: Action, ids: dict[str, int], check: CheckClasses) -> dict:
        raise NotImplementedError

    def unproject(self, con: sqlite3.Connection, seq: int, stored: dict) -> None:
        raise ValueError(f"action {seq} ({self.name}) cannot be undone")


def _cls(a: Action) -> str:
    """The class an action names (label, add_class, rename_class always name one)."""
    if a.cls is None:
        raise ValueError(f"action {a.seq} ({a.op}) names no class")
    return a.cls


def _items(stored: dict) -> list[int]:
    return [int(i) for i in stored["items"]]


@dataclass(frozen=True)
class Label(Op):
    """Items get class ``cls``; the record keeps what each had before (``prev``/``prev_ids``, and ``was`` in the
    file with time and origin), so undo restores it exactly, even after a rename."""

    name: ClassVar[str] = "label"
    undoable: ClassVar[bool] = True

    def apply(self, s: Any, a: Action) -> None:
        c = s.class_index(a.cls)
        items = np.asarray(a.items, dtype=np.int64)
        unlabeled = s.knn.label[items] < 0
        if items.size > 1 and unlabeled.any():
            # A batch (a grid page, a lasso): one N x m product for the new labels, not m mat-vecs (a page of
            # 200 at 100k items took 15 s one by one, on the GUI thread). Same slots as one add() per item.
            for i in items[~unlabeled].tolist():
                s.knn.add(i, c)  # a relabel only moves votes
            s.knn.restore_many(items[unlabeled], c)
        else:
            for i in a.items:
                s.knn.add(i, c)
        for i in a.items:
            s.skipped[i] = False

    def revert(self, s: Any, a: Action) -> None:
        if len(a.prev_ids) == len(a.items):
            prev = a.prev_ids
        else:  # logs written before prev_ids existed: names (right unless a class was renamed since)
            prev = tuple(-1 if p is None else s.class_index(p) for p in a.prev)
        gone = [i for i, p in zip(a.items, prev, strict=True) if p < 0]
        for i, p in zip(a.items, prev, strict=True):
            if p >= 0:
                s.knn.add(i, p)  # back to its old class: its votes move
        if len(gone) > 1:  # the rows that held any of them are recomputed once, not once per label
            s.knn.remove_many(np.asarray(gone, dtype=np.int64))
        elif gone:
            s.knn.remove(gone[0])

    def project(self, con: sqlite3.Connection, a: Action, ids: dict[str, int], check: CheckClasses) -> dict:
        if a.cls not in ids:
            raise KeyError(f"unknown class {a.cls!r}")
        # Class ids, not names: a rename later does not change what undo restores.
        was = []
        for i in a.items:
            row = con.execute("SELECT class, time, origin FROM labels WHERE item = ?", (i,)).fetchone()
            was.append(None if row is None else list(row))
        con.executemany(
            "INSERT OR REPLACE INTO labels VALUES (?, ?, ?, ?)",
            [(i, ids[a.cls], a.time, a.origin) for i in a.items],
        )
        con.executemany("DELETE FROM skipped WHERE item = ?", [(i,) for i in a.items])
        return {"was": was}

    def unproject(self, con: sqlite3.Connection, seq: int, stored: dict) -> None:
        for i, w in zip(_items(stored), stored["was"], strict=True):
            if w is None:
                con.execute("DELETE FROM labels WHERE item = ?", (i,))
            else:
                con.execute("INSERT OR REPLACE INTO labels VALUES (?, ?, ?, ?)", (i, *w))


@dataclass(frozen=True)
class Skip(Op):
    """Items are set aside (not offered again until unskipped or labeled)."""

    name: ClassVar[str] = "skip"
    undoable: ClassVar[bool] = True

    def apply(self, s: Any, a: Action) -> None:
        s.skipped[list(a.items)] = True

    def revert(self, s: Any, a: Action) -> None:
        s.skipped[list(a.items)] = False

    def project(self, con: sqlite3.Connection, a: Action, ids: dict[str, int], check: CheckClasses) -> dict:
        con.executemany("INSERT OR IGNORE INTO skipped VALUES (?)", [(i,) for i in a.items])
        return {}

    def unproject(self, con: sqlite3.Connection, seq: int, stored: dict) -> None:
        con.executemany("DELETE FROM skipped WHERE item = ?", [(i,) for i in _items(stored)])


@dataclass(frozen=True)
class Unskip(Op):
    name: ClassVar[str] = "unskip"
    undoable: ClassVar[bool] = True

    def apply(self, s: Any, a: Action) -> None:
        s.skipped[list(a.items)] = False

    def revert(self, s: Any, a: Action) -> None:
        s.skipped[list(a.items)] = True

    def project(self, con: sqlite3.Connection, a: Action, ids: dict[str, int], check: CheckClasses) -> dict:
        con.executemany("DELETE FROM skipped WHERE item = ?", [(i,) for i in a.items])
        return {}

    def unproject(self, con: sqlite3.Connection, seq: int, stored: dict) -> None:
        con.executemany("INSERT OR IGNORE INTO skipped VALUES (?)", [(i,) for i in _items(stored)])


@dataclass(frozen=True)
class Undo(Op):
    """Reverts the actions ``a.undone`` names, newest first (one undo of a grouped import reverts all of it); they
    become the top of the redo stack, as one entry."""

    name: ClassVar[str] = "undo"

    def apply(self, s: Any, a: Action) -> None:
        reverted = []
        for seq in a.undone:
            target = s.pop_history(seq)
            OPS[target.op].revert(s, target)
            reverted.append(target)
        s.push_redo(tuple(reversed(reverted)))

    def project(self, con: sqlite3.Connection, a: Action, ids: dict[str, int], check: CheckClasses) -> dict:
        for seq in a.undone:
            stored = _stored(con, seq, "undo")
            op(stored["op"]).unproject(con, seq, stored)
        _reload_ids(con, ids)  # the undo of a merge or delete brings a class back
        return {}


@dataclass(frozen=True)
class Redo(Op):
    """Applies again the actions ``a.targets`` names (oldest first): the top entry of the redo stack, i.e. what
    the most recent undo still in force reverted. The file applies each as the original op, with its original
    record: the state it meets is the one that op met first (an undo restored it exactly, and any other action
    in between would have emptied the redo stack)."""

    name: ClassVar[str] = "redo"

    def apply(self, s: Any, a: Action) -> None:
        for target in s.pop_redo(a.targets):
            OPS[target.op].apply(s, target)
            s.history.append(target)

    def project(self, con: sqlite3.Connection, a: Action, ids: dict[str, int], check: CheckClasses) -> dict:
        for seq in a.targets:
            stored = _stored(con, seq, "redo")
            op(stored["op"]).project(con, Action.from_dict(stored), ids, check)
        return {}


def _stored(con: sqlite3.Connection, seq: int, what: str) -> dict:
    """The stored record of action ``seq`` (its op and data, with what ``project`` added, such as ``was``)."""
    import json

    row = con.execute("SELECT op, data FROM actions WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        raise ValueError(f"cannot {what} action {seq}: it is not in the log")
    return json.loads(row[1]) | {"op": row[0]}


def _reload_ids(con: sqlite3.Connection, ids: dict[str, int]) -> None:
    """The name -> id map from the file, in class order (in place: the caller adopts it after the commit)."""
    rows = con.execute("SELECT name, id FROM classes ORDER BY id").fetchall()
    ids.clear()
    ids.update({n: int(i) for n, i in rows})


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


@dataclass(frozen=True)
class Rescan(Op):
    """The item list changed (``aldesk rescan``, ``aldesk add-source``): new items joined, items whose file is gone
    were marked missing or came back, renamed files were followed. ``items`` are the new items' ids.

    The item table is changed by :mod:`aldesk.core.project.rescan` in the same transaction as this record
    (``Project.commit_items``); a session never sees it happen (the workspace is reopened over the new list),
    so replaying it changes nothing in memory. Not undoable: labels and their undo history are untouched by it."""

    name: ClassVar[str] = "rescan"

    def apply(self, s: Any, a: Action) -> None:
        return None

    def project(self, con: sqlite3.Connection, a: Action, ids: dict[str, int], check: CheckClasses) -> dict:
        return {}


class Keep(Op):
    """The reviewer looked at labeled items in the review queue (:mod:`aldesk.core.quality.review`) and kept
    their labels. Nothing changes in memory or in the tables: the logged action itself is the record, which the
    queue reads so that it does not ask again. Undoable, so that Ctrl+Z after a hasty K brings the item back."""

    name: ClassVar[str] = "keep"
    undoable: ClassVar[bool] = True

    def apply(self, s: Any, a: Action) -> None:
        if not a.items:
            raise ValueError(f"action {a.seq} (keep) names no item")

    def revert(self, s: Any, a: Action) -> None:
        return None

    def project(self, con: sqlite3.Connection, a: Action, ids: dict[str, int], check: CheckClasses) -> dict:
        if not a.items:
            raise ValueError(f"action {a.seq} (keep) names no item")
        return {}

    def unproject(self, con: sqlite3.Connection, seq: int, stored: dict) -> None:
        return None


OPS: dict[str, Op] = {
    o.name: o
    for o in (
        Label(),
        Skip(),
        Unskip(),
        Undo(),
        Redo(),
        AddClass(),
        RenameClass(),
        MergeClass(),
        DeleteClass(),
        Rescan(),
        Keep(),
    )
}
UNDOABLE = tuple(name for name, o in OPS.items() if o.undoable)


def op(name: str) -> Op:
    """The op an action names; an unknown one (a newer aldesk's, a crafted file) is a ValueError."""
    try:
        return OPS[name]
    except KeyError:
        raise ValueError(f"unknown action {name!r}") from None
