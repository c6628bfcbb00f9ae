"""The labeling log: every state change of a session is an :class:`Action`, journaled before it applies."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

UNDOABLE = ("label", "skip", "unskip", "merge_class", "delete_class", "keep")  # = ops.UNDOABLE (see ops.py)
# Origins of labels given one by one in the labeling view (they count towards the audit rhythm).
INTERACTIVE = ("user", "audit", "suggestion")
# Every origin a label can have. "grid": a class key or Enter in the grid view labeled a page of items at once
# (a batch, so it does not count towards the audit rhythm), kept apart from "batch" (browse, the map's lasso) so
# exports and the audit can tell a confirmed page of predictions from a hand-picked selection.
# Where a label came from; "merge:<project>" (aldesk compare --merge) names the project whose label won.
ORIGINS = ("user", "batch", "imported", "prelabel", "audit", "suggestion", "grid", "review")


@dataclass(frozen=True)
class Action:
    """One user action.

    op: "label" (items get ``cls``; ``prev`` holds their previous labels, None = unlabeled), "skip", "unskip",
    "undo" (``target`` = seq of the undone action), "add_class" (``cls`` = new name), "rename_class"
    (``prev`` = (old name,), ``cls`` = new name), "keep" (the review queue's K: labels kept as they are).
    origin: one of ``ORIGINS`` ("user" | "batch" | "imported" | "prelabel" | "audit" | "suggestion" | "grid" |
    "review": a relabel from the review queue; not interactive: it adds no label, so it does not move the audit
    rhythm), or "merge:<project>".
    seq: position in the log, given by the session (0, 1, 2, …).
    """

    op: str
    items: tuple[int, ...] = ()
    cls: str | None = None
    prev: tuple[str | None, ...] = ()
    origin: str = "user"
    time: float = field(default_factory=time.time)
    seq: int = -1
    target: int | None = None
    # For audit labels: what the k-NN predicted just before the label was given (None = no prediction yet).
    predicted: str | None = None
    # Class positions of ``prev`` (-1 = unlabeled): names can be renamed later, positions never change.
    prev_ids: tuple[int, ...] = ()
    # Actions sharing a group (e.g. one import of several classes) are undone together by one undo, whose
    # ``targets`` lists their seqs, most recent first.
    group: int | None = None
    targets: tuple[int, ...] = ()

    @property
    def undone(self) -> tuple[int, ...]:
        """The seqs an undo action reverts, most recent first."""
        return self.targets or ((self.target,) if self.target is not None else ())

    def to_dict(self) -> dict:
        return {
            "op": self.op,
            "items": list(self.items),
            "cls": self.cls,
            "prev": list(self.prev),
            "origin": self.origin,
            "time": self.time,
            "seq": self.seq,
            "target": self.target,
            "predicted": self.predicted,
            "prev_ids": list(self.prev_ids),
            "group": self.group,
            "targets": list(self.targets),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Action:
        return cls(
            op=d["op"],
            items=tuple(int(i) for i in d.get("items", ())),
            cls=d.get("cls"),
            prev=tuple(d.get("prev", ())),
            origin=d.get("origin", "user"),
            time=float(d.get("time", 0.0)),
            seq=int(d.get("seq", -1)),
            target=d.get("target"),
            predicted=d.get("predicted"),
            prev_ids=tuple(int(c) for c in d.get("prev_ids", ())),
            group=d.get("group"),
            targets=tuple(int(t) for t in d.get("targets", ())),
        )


def undo_stack(actions: Iterable[Action]) -> list[Action]:
    """The undoable actions still in force after a log (undo pops the most recent)."""
    return stacks(actions)[0]


def stacks(actions: Iterable[Action]) -> tuple[list[Action], list[tuple[Action, ...]]]:
    """(undo stack, redo stack) after a log, as the session held them: an undo moves what it reverted to the redo
    stack (one entry, oldest first), a redo moves that entry back, and any other action empties the redo stack
    (a redo must meet the state its actions met: a new label, skip or class change would break that)."""
    stack: list[Action] = []
    redo: list[tuple[Action, ...]] = []
    by_seq: dict[int, Action] = {}
    for a in actions:
        by_seq[a.seq] = a
        if a.op == "undo":
            reverted = []
            for t in a.undone:
                for j in range(len(stack) - 1, -1, -1):
                    if stack[j].seq == t:
                        reverted.append(stack.pop(j))
                        break
            redo.append(tuple(reversed(reverted)))
        elif a.op == "redo":
            if redo and tuple(r.seq for r in redo[-1]) == a.targets:
                redo.pop()
            stack.extend(by_seq[t] for t in a.targets if t in by_seq)
        else:
            redo.clear()
            if a.op in UNDOABLE:
                stack.append(a)
    return stack, redo


def grouped_labels(
    by_class: dict[str, list[int]], classes: list[str], current: dict[int, str], origin: str, seq: int
) -> list[Action]:
    """Actions that give ``by_class``'s items their class, as one undo group: an ``add_class`` for each class the
    project lacks (``classes`` is extended in place), then one ``label`` per class, numbered from ``seq``.
    ``current``: each item's label now (what undo restores). What an import and a merge of two projects journal."""
    actions: list[Action] = []
    for name in by_class:
        if name not in classes:
            actions.append(Action("add_class", cls=name, seq=seq + len(actions), origin=origin))
            classes.append(name)
    group = seq + len(actions)  # one undo reverts the whole batch, whatever the number of classes
    for name, items in by_class.items():
        prev = tuple(current.get(i) for i in items)
        prev_ids = tuple(-1 if p is None else classes.index(p) for p in prev)
        actions.append(
            Action(
                "label",
                tuple(items),
                name,
                prev,
                origin,
                seq=seq + len(actions),
                prev_ids=prev_ids,
                group=group,
            )
        )
    return actions
