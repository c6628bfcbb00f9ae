"""The shape every op has (:mod:`aldesk.core.labeling.ops`): its effect on a session and on the project file."""

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
