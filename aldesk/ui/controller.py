"""The labeling loop as the views see it: the current item, the candidate list, and the user's actions.

Speed matters more than freshness here. A label is committed (journal) and learned (one mat-vec) before the
next item shows, but the full re-rank of the pool (~150 ms at 100k items) is deferred: the next item comes from
the ranking computed after the previous pause, and the pool is re-ranked once the user pauses (debounced timer).
So a key press never waits for a re-rank, and the candidates are at most a few labels stale.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from aldesk.core.dataset import Dataset, Problem
from aldesk.core.session import Candidate, Session

RERANK_DELAY_MS = 150


@dataclass
class Workspace:
    """Everything one open project holds in memory."""

    dataset: Dataset
    session: Session
    project: Any | None = None  # aldesk.core.project.Project (duck-typed: settings + close)
    problems: list[Problem] = field(default_factory=list)
    title: str = ""
    vectors_key: str = ""  # identifies the embeddings (model + item contents): keys derived caches


class Controller(QObject):
    """Owns the current item and applies the user's actions to the session."""

    current_changed = Signal()  # another item is shown
    labels_changed = Signal()  # labels, skips or classes changed (counts, browse list, why panel)
    classes_changed = Signal()
    ranking_changed = Signal()  # the candidate strip has a fresh ranking
    message = Signal(str)  # a short notice for the status bar

    def __init__(self, ws: Workspace, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.cands: list[Candidate] = []
        self.current: int | None = None
        self._label_times: deque[float] = deque(maxlen=21)
        self._rerank_timer = QTimer(self)
        self._rerank_timer.setSingleShot(True)
        self._rerank_timer.setInterval(RERANK_DELAY_MS)
        self._rerank_timer.timeout.connect(self._rerank)
        self.rerank_count = 0

    @property
    def session(self) -> Session:
        return self.ws.session

    # ----------------------------------------------------------------- state
    def start(self) -> None:
        """Show the best candidate, or the item the user was on when the project was closed."""
        self._rerank(keep_current=False)
        saved = self._setting("view/current", None)
        if isinstance(saved, int) and 0 <= saved < self.session.n and self.session.label_of(saved) is None \
                and self.session.eligible[saved]:
            self.jump(saved)

    def candidate(self, index: int | None = None) -> Candidate | None:
        index = self.current if index is None else index
        for c in self.cands:
            if c.index == index:
                return c
        return None

    def position(self) -> int:
        """Position of the current item in the candidate list (-1 if it is not a candidate)."""
        for i, c in enumerate(self.cands):
            if c.index == self.current:
                return i
        return -1

    def seconds_per_label(self) -> float | None:
        t = list(self._label_times)
        if len(t) < 2:
            return None
        gaps = sorted(b - a for a, b in itertools.pairwise(t))
        return gaps[len(gaps) // 2]

    # --------------------------------------------------------------- actions
    def label_current(self, cls: str) -> bool:
        if self.current is None:
            return False
        return self.label(self.current, cls, advance=True)

    def label_number(self, n: int) -> bool:
        """Key ``n`` (1-based) labels the current item with the n-th class."""
        if not 1 <= n <= len(self.session.classes):
            self.message.emit(f"There is no class {n}: press N to add one.")
            return False
        return self.label_current(self.session.classes[n - 1])

    def accept(self) -> bool:
        # The exact prediction (< 1 ms), not the candidate's: that one may predate the last few labels.
        pred = self.session.predict(self.current).predicted if self.current is not None else None
        if pred is None:
            self.message.emit("No suggestion yet: label a few items with the number keys first.")
            return False
        return self.label_current(pred)

    def label(self, index: int, cls: str, *, advance: bool = False) -> bool:
        """Store a label (committed by the journal before anything else happens) and move on."""
        try:
            self.session.label(index, cls, origin="user")
        except (ValueError, KeyError) as exc:
            self.message.emit(str(exc))
            return False
        self._label_times.append(time.monotonic())
        self.labels_changed.emit()
        if advance:
            self._advance_from(index)
        else:
            self._schedule_rerank()
        return True

    def label_items(self, indices: list[int], cls: str) -> bool:
        """Relabel several items at once (browse view): one action, one undo."""
        try:
            if len(indices) == 1:
                self.session.label(indices[0], cls, origin="user")
            else:
                self.session.label_many(indices, cls, origin="batch")
        except (ValueError, KeyError) as exc:
            self.message.emit(str(exc))
            return False
        self.labels_changed.emit()
        self.cands = [c for c in self.cands if self._in_pool(c.index)]
        self._schedule_rerank()
        return True

    def skip(self) -> None:
        if self.current is None:
            return
        index = self.current
        self.session.skip(index)
        self.labels_changed.emit()
        self._advance_from(index)

    def undo(self) -> None:
        target = self.session.undo()
        if target is None:
            self.message.emit("Nothing to undo.")
            return
        self.labels_changed.emit()
        self.message.emit(f"Undid {target.op} of item {target.items[0]}.")
        # Show the item again: the user undid it because they want to look at it once more.
        self.cands = [c for c in self.cands if c.index != target.items[0]]
        self.jump(target.items[0])
        self._schedule_rerank()

    def move(self, delta: int) -> None:
        if not self.cands:
            return
        pos = self.position()
        pos = 0 if pos < 0 else max(0, min(len(self.cands) - 1, pos + delta))
        self.current = self.cands[pos].index
        self.current_changed.emit()

    def jump(self, index: int) -> None:
        """Show any item (a neighbour, a browse row), candidate or not."""
        self.current = int(index)
        self.current_changed.emit()

    def add_class(self, name: str) -> bool:
        try:
            self.session.add_class(name.strip())
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        self.classes_changed.emit()
        self.labels_changed.emit()
        return True

    def rename_class(self, old: str, new: str) -> bool:
        try:
            self.session.rename_class(old, new.strip())
        except (ValueError, KeyError) as exc:
            self.message.emit(str(exc))
            return False
        self.classes_changed.emit()
        self.labels_changed.emit()
        self.current_changed.emit()  # the suggestion on screen may name the renamed class
        self._schedule_rerank()
        return True

    def set_strategy(self, spec: str) -> bool:
        """Switch the query strategy (saved with the project); the next ranking uses it, the item on screen stays."""
        try:
            self.session.set_strategy(spec)
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        self.set_setting("session/strategy", self.session.strategy.name)
        self._schedule_rerank()
        self.labels_changed.emit()  # the status bar names the strategy
        return True

    def set_density(self, density: Any, kind: str = "knn") -> None:
        """A density array, or a DensityGraph (density plus the neighbour graph)."""
        if hasattr(density, "indices"):
            self.session.set_density(density.density, kind, graph=(density.indices, density.similarities))
        else:
            self.session.set_density(density, kind)
        self._schedule_rerank()
        self.labels_changed.emit()  # the status bar shows the density state

    # ------------------------------------------------------------- internals
    def _advance_from(self, index: int) -> None:
        pos = next((i for i, c in enumerate(self.cands) if c.index == index), -1)
        self.cands = [c for c in self.cands if c.index != index and self._in_pool(c.index)]
        if not self.cands:
            self._rerank(keep_current=False)
            return
        self.current = self.cands[max(0, min(pos, len(self.cands) - 1))].index
        self.current_changed.emit()
        self._schedule_rerank()

    def _in_pool(self, index: int) -> bool:
        s = self.session
        return s.label_of(index) is None and not s.skipped[index] and bool(s.eligible[index])

    def _schedule_rerank(self) -> None:
        self._rerank_timer.start()  # restarts: a burst of keys costs one re-rank after the burst

    def rerank_pending(self) -> bool:
        return self._rerank_timer.isActive()

    def flush(self) -> None:
        """Run a pending re-rank now (tests, and before saving)."""
        if self._rerank_timer.isActive():
            self._rerank_timer.stop()
            self._rerank()

    @Slot()
    def _rerank(self, keep_current: bool = True) -> None:
        fresh = list(self.session.candidates())
        self.rerank_count += 1
        cur = self.current
        if keep_current and cur is not None and self._in_pool(cur):
            # Never swap the item under the user's eyes: it stays first, the fresh ranking follows.
            mine = next((c for c in fresh if c.index == cur), None) or self.candidate(cur)
            fresh = [c for c in fresh if c.index != cur]
            if mine is not None:
                fresh.insert(0, mine)
            self.cands = fresh
            self.ranking_changed.emit()
            return
        self.cands = fresh
        if keep_current and cur is not None and self.candidate(cur) is None and not self._in_pool(cur):
            # The user is looking at a labeled item (jumped to it): leave it on screen.
            self.ranking_changed.emit()
            return
        self.current = fresh[0].index if fresh else None
        self.ranking_changed.emit()
        self.current_changed.emit()

    def setting(self, key: str, default: Any) -> Any:
        """A setting of the open project (``default`` without a project or when it is unreadable)."""
        return self._setting(key, default)

    def set_setting(self, key: str, value: Any) -> None:
        if self.ws.project is not None:
            self.ws.project.set_setting(key, value)

    def _setting(self, key: str, default: Any) -> Any:
        p = self.ws.project
        if p is None:
            return default
        try:
            return p.get_setting(key, default)
        except Exception:  # noqa: BLE001 - a missing view position must never stop a project from opening
            return default

    def save_view(self) -> None:
        p = self.ws.project
        if p is not None and self.current is not None:
            p.set_setting("view/current", int(self.current))
