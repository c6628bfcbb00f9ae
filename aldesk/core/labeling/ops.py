"""What each kind of action means, in one place: one small frozen class per op, with its effect on a session in
memory (``apply`` / ``revert``) and on the project file (``project`` / ``unproject``, SQL).

The :class:`~aldesk.core.labeling.actions.Action` record stays the one JSON shape in the file (no schema change);
``OPS[action.op]`` says what it does. :class:`~aldesk.core.labeling.session.Session` and
:class:`~aldesk.core.project.store.Project` dispatch here instead of each keeping an ``if op ==`` ladder, so a new
op (a later issue's) is one class here and nothing else. The ops on classes (add, rename, merge, delete) are in
:mod:`.class_ops`, the base class :class:`Op` in :mod:`.op_base`; ``OPS`` here lists them all.

``apply``/``revert`` take the session (its ``knn``, ``skipped``, ``classes``, ``class_index`` and ``pop_history``);
``project`` takes an SQLite connection inside the journal's transaction, the name -> class id map (updated in
place, adopted by the caller once the commit succeeded) and the project's class-name check, and returns what the
stored record needs beyond the action itself (a label's previous labels, for undo).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from aldesk.core.labeling.actions import Action
from aldesk.core.labeling.class_ops import AddClass, DeleteClass, MergeClass, RenameClass
from aldesk.core.labeling.op_base import CheckClasses, Op, _items


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
