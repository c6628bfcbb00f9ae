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
        for i in a.items:
            s.knn.add(i, c)
            s.skipped[i] = False

    def revert(self, s: Any, a: Action) -> None:
        if len(a.prev_ids) == len(a.items):
            prev = a.prev_ids
        else:  # logs written before prev_ids existed: names (right unless a class was renamed since)
            prev = tuple(-1 if p is None else s.class_index(p) for p in a.prev)
        for i, p in zip(a.items, prev, strict=True):
            if p < 0:
                s.knn.remove(i)
            else:
                s.knn.add(i, p)

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
    """Reverts the actions ``a.undone`` names, newest first (one undo of a grouped import reverts all of it)."""

    name: ClassVar[str] = "undo"

    def apply(self, s: Any, a: Action) -> None:
        for seq in a.undone:
            target = s.pop_history(seq)
            OPS[target.op].revert(s, target)

    def project(self, con: sqlite3.Connection, a: Action, ids: dict[str, int], check: CheckClasses) -> dict:
        import json

        for seq in a.undone:
            row = con.execute("SELECT op, data FROM actions WHERE seq = ?", (seq,)).fetchone()
            if row is None:
                raise ValueError(f"cannot undo action {seq}: it is not in the log")
            op(row[0]).unproject(con, seq, json.loads(row[1]))
        return {}


@dataclass(frozen=True)
class AddClass(Op):
    name: ClassVar[str] = "add_class"

    def apply(self, s: Any, a: Action) -> None:
        s.classes.append(a.cls)

    def project(self, con: sqlite3.Connection, a: Action, ids: dict[str, int], check: CheckClasses) -> dict:
        name = _cls(a)
        check([*ids, name])
        new_id = con.execute("INSERT INTO classes (name) VALUES (?)", (name,)).lastrowid
        assert new_id is not None  # an INSERT into a rowid table always gives one
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
    o.name: o for o in (Label(), Skip(), Unskip(), Undo(), AddClass(), RenameClass(), Keep())
}
UNDOABLE = tuple(name for name, o in OPS.items() if o.undoable)


def op(name: str) -> Op:
    """The op an action names; an unknown one (a newer aldesk's, a crafted file) is a ValueError."""
    try:
        return OPS[name]
    except KeyError:
        raise ValueError(f"unknown action {name!r}") from None
