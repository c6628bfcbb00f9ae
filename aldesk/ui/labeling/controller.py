"""The labeling loop as the views see it: the current item, the candidate list, and the user's actions.

Speed matters more than freshness here. A label is committed (journal) and learned (one mat-vec) before the
next item shows, but the full re-rank of the pool (~150 ms at 100k items) is deferred: the next item comes from
the ranking computed after the previous pause, and the pool is re-ranked once the user pauses (debounced timer).
So a key press never waits for a re-rank, and the candidates are at most a few labels stale.

Nothing is shown as done that is not committed. When the project file refuses a commit (disk full, read-only,
the lock lost), the action is kept as the *pending failure*: :attr:`Controller.failure` names the cause,
``commit_failed`` tells the window, and every further action is refused (re-showing the cause) until
:meth:`Controller.retry` commits the very same action, or the project is closed. Otherwise the user would go
on pressing keys that look like labels and are not saved.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from aldesk.app.settings import STRATEGY_SETTING, VIEW_SETTING  # one name per stored setting
from aldesk.core.dataset import Dataset, Problem
from aldesk.core.labeling.actions import Action
from aldesk.core.labeling.ranking import Candidate
from aldesk.core.labeling.session import Session
from aldesk.core.names import clean_class_name
from aldesk.core.progress import UserError

RERANK_DELAY_MS = 150
# A steady stream of keys restarts the debounce timer forever; past this the re-rank runs anyway, so the
# candidates are never more than about a second behind the labels.
RERANK_MAX_WAIT_S = 1.0
CLASS_OPS = ("merge_class", "delete_class")
log = logging.getLogger(__name__)
# What a commit that did not happen raises: ProjectError (a UserError naming the cause: disk full, read-only,
# another program changed the project), or, should a rollback itself fail, the raw sqlite3/OS error.
_SAVE_ERRORS = (UserError, sqlite3.Error, OSError)


def describe(a: Action) -> str:
    """An action in the status bar's words, with 1-based item numbers (as the header shows them)."""
    if a.op == "merge_class":
        return f"the merge of {a.prev[0]} into {a.cls}"
    if a.op == "delete_class":
        return f"the delete of class {a.cls}"
    what = a.op if a.op != "label" or a.cls is None else f"label {a.cls}"
    if len(a.items) == 1:
        return f"{what} of item {a.items[0] + 1:,}"
    return f"{what} of {len(a.items):,} items"


def _failure_text(exc: BaseException) -> str:
    """One line for the banner: a UserError's own message, else the cause in SQLite's or the OS's words."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, UserError):
        return text
    return f"Your last action could not be saved ({text})."


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
    commit_failed = Signal(str)  # an action was not saved (the cause); emitted again for each refused action
    commit_restored = Signal()  # the pending failed action was saved by retry()

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
        self._stale_since = 0.0  # when the pending re-rank was first asked for
        self.failure: str | None = None  # why the last action was not saved; None while every commit succeeds
        self._pending: Callable[[], bool] | None = None  # re-attempts that action

    @property
    def session(self) -> Session:
        return self.ws.session

    # ----------------------------------------------------------------- state
    def start(self) -> None:
        """Show the best candidate, or the item the user was on when the project was closed."""
        self._rerank(keep_current=False)
        saved = self._setting(VIEW_SETTING, None)
        if (
            isinstance(saved, int)
            and 0 <= saved < self.session.n
            and self.session.label_of(saved) is None
            and self.session.eligible[saved]
        ):
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
    def label_current(self, cls: str, origin: str = "user") -> bool:
        if self.current is None:
            return False
        return self.label(self.current, cls, advance=True, origin=origin)

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
        # Logged as "suggestion": exports and the audit can tell an accepted prediction from a typed label.
        return self.label_current(pred, origin="suggestion")

    def label(self, index: int, cls: str, *, advance: bool = False, origin: str = "user") -> bool:
        """Store a label (committed by the journal before anything else happens) and move on. ``origin``: "user"
        for a typed class key, "suggestion" for Enter (the k-NN's prediction accepted)."""
        if self._refused():
            return False
        try:
            self.session.label(index, cls, origin=origin)
        except _SAVE_ERRORS as exc:
            return self._failed(exc, lambda: self.label(index, cls, advance=advance, origin=origin))
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

    def label_items(self, indices: list[int], cls: str, origin: str | None = None) -> bool:
        """Relabel several items at once (browse view, the map's lasso, the grid): one action, one undo.
        ``origin``: None logs "user" for one item and "batch" for more; the grid passes "grid"."""

        def do() -> None:
            if origin is not None:
                self.session.label_many(indices, cls, origin=origin)
            elif len(indices) == 1:
                self.session.label(indices[0], cls, origin="user")
            else:
                self.session.label_many(indices, cls, origin="batch")

        return self._label_several(do, lambda: self.label_items(indices, cls, origin))

    def label_by_class(self, by_class: dict[str, list[int]], origin: str = "grid") -> bool:
        """Several classes at once (the grid's Enter: each item its shown prediction): one undo for them all."""
        return self._label_several(
            lambda: self.session.label_by_class(by_class, origin=origin),
            lambda: self.label_by_class(by_class, origin),
        )

    def _label_several(self, do: Callable[[], object], retry: Callable[[], bool]) -> bool:
        """One batch action on the session: a save error pauses with ``retry`` offered, a refused one is a
        message; then the candidates drop the labeled items and re-rank after the pause."""
        if self._refused():
            return False
        try:
            do()
        except _SAVE_ERRORS as exc:
            return self._failed(exc, retry)
        except (ValueError, KeyError) as exc:
            self.message.emit(str(exc))
            return False
        self.labels_changed.emit()
        self.cands = [c for c in self.cands if self._in_pool(c.index)]
        self._schedule_rerank()
        return True

    def keep(self, index: int) -> bool:
        """The review queue's K (aldesk/ui/quality/review_view.py): the label of ``index`` stays, logged so that
        the queue does not ask again; undoable."""
        if self._refused():
            return False
        try:
            self.session.keep(index)
        except _SAVE_ERRORS as exc:
            return self._failed(exc, lambda: self.keep(index))
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        self.labels_changed.emit()
        return True

    def skip(self) -> bool:
        if self.current is None or self._refused():
            return False
        return self._skip(self.current)

    def _skip(self, index: int) -> bool:
        try:
            self.session.skip(index)
        except _SAVE_ERRORS as exc:
            return self._failed(exc, lambda: self._skip(index))
        self.labels_changed.emit()
        self._advance_from(index)
        return True

    def undo(self) -> bool:
        if self._refused():
            return False
        try:
            target = self.session.undo()
        except _SAVE_ERRORS as exc:
            return self._failed(exc, self.undo)  # nothing changed: the same target is undone on retry
        if target is None:
            self.message.emit("Nothing to undo.")
            return False
        self.message.emit(f"Undid {describe(target)}.")
        if target.op in CLASS_OPS:
            self._classes_moved()
            return True
        self.labels_changed.emit()
        # Show the item again: the user undid it because they want to look at it once more.
        self.cands = [c for c in self.cands if c.index != target.items[0]]
        self.jump(target.items[0])
        self._schedule_rerank()
        return True

    def redo(self) -> bool:
        """Apply again what the last undo reverted (nothing after a new label: that empties the redo stack)."""
        if self._refused():
            return False
        try:
            entry = self.session.redo()
        except _SAVE_ERRORS as exc:
            return self._failed(exc, self.redo)
        if entry is None:
            self.message.emit("Nothing to redo.")
            return False
        self.message.emit(f"Redid {describe(entry[-1])}.")
        if any(a.op in CLASS_OPS for a in entry):
            self._classes_moved()
            return True
        self.labels_changed.emit()
        if (
            self.current is not None
            and not self._in_pool(self.current)
            and any(self.current in a.items for a in entry)
        ):
            self._advance_from(self.current)  # the item on screen got its label back: move on, as a key does
        else:
            self.cands = [c for c in self.cands if self._in_pool(c.index)]
            self._schedule_rerank()
        return True

    def merge_class(self, source: str, target: str) -> bool:
        """Merge class ``source`` into ``target`` (one undoable action; the dialog said what happens first)."""
        return self._class_op(
            lambda: self.session.merge_class(source, target), lambda: self.merge_class(source, target)
        )

    def delete_class(self, name: str) -> bool:
        """Delete class ``name``; its items become unlabeled (one undoable action)."""
        return self._class_op(lambda: self.session.delete_class(name), lambda: self.delete_class(name))

    def _class_op(self, do: Callable[[], Any], again: Callable[[], bool]) -> bool:
        if self._refused():
            return False
        try:
            a = do()
        except _SAVE_ERRORS as exc:
            return self._failed(exc, again)
        except (ValueError, KeyError) as exc:
            self.message.emit(str(exc.args[0]) if exc.args else str(exc))
            return False
        self.message.emit(f"Done: {describe(a)}. Ctrl+Z undoes it.")
        self._classes_moved()
        return True

    def _classes_moved(self) -> None:
        """Classes came or went (merge, delete, or their undo/redo): keys, buttons, labels and the pool changed."""
        self.classes_changed.emit()
        self.labels_changed.emit()
        self.cands = [c for c in self.cands if self._in_pool(c.index)]
        self.current_changed.emit()  # the suggestion on screen may name the class that went
        self._schedule_rerank()

    # ----------------------------------------------------- failed commits
    def _failed(self, exc: BaseException, again: Callable[[], bool]) -> bool:
        """A commit did not happen (the session is unchanged: journal first): hold the action, say why."""
        self.failure = _failure_text(exc)
        self._pending = again
        log.warning("commit failed: %s", self.failure)
        self.commit_failed.emit(self.failure)
        return False

    def _refused(self) -> bool:
        """While a failed action waits for retry(), any action is refused and its cause shown again."""
        if self.failure is None:
            return False
        self.commit_failed.emit(self.failure)
        return True

    def retry(self) -> bool:
        """Re-attempt the action that failed to commit; True once it is saved (then actions work again)."""
        again = self._pending
        if again is None:
            return True
        self.failure = None
        self._pending = None
        ok = again()
        if self.failure is None:
            self.commit_restored.emit()
        return ok and self.failure is None

    def move(self, delta: int) -> None:
        if not self.cands or self._refused():
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
        if self._refused():
            return False
        try:
            self.session.add_class(clean_class_name(name))
        except _SAVE_ERRORS as exc:
            return self._failed(exc, lambda: self.add_class(name))
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        self.classes_changed.emit()
        self.labels_changed.emit()
        return True

    def rename_class(self, old: str, new: str) -> bool:
        if self._refused():
            return False
        try:
            self.session.rename_class(old, clean_class_name(new))
        except _SAVE_ERRORS as exc:
            return self._failed(exc, lambda: self.rename_class(old, new))
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
        if self._refused():
            return False
        try:
            self.session.set_strategy(spec)
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        self._schedule_rerank()
        self.labels_changed.emit()  # the status bar names the strategy
        return self.set_setting(STRATEGY_SETTING, self.session.strategy.name)

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
        """A re-rank after the keys stop (the trailing one), and at the latest RERANK_MAX_WAIT_S after the first
        key of a burst: a burst costs one re-rank, yet the ranking never falls far behind."""
        now = time.monotonic()
        if not self._rerank_timer.isActive():
            self._stale_since = now
        elif now - self._stale_since >= RERANK_MAX_WAIT_S:
            return  # let the running timer fire: the burst has waited long enough
        self._rerank_timer.start()

    def rerank_now(self, keep_current: bool = True) -> None:
        """A fresh ranking at once (the session's predictions changed: a zero-shot prior arrived);
        ``keep_current`` False also shows the new first candidate."""
        self._rerank_timer.stop()
        self._rerank(keep_current=keep_current)

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

    def set_setting(self, key: str, value: Any) -> bool:
        """Save a project setting; a failed save is a failed commit like any other (shown, retried)."""
        if self.ws.project is None:
            return True
        try:
            self.ws.project.set_setting(key, value)
        except _SAVE_ERRORS as exc:
            return self._failed(exc, lambda: self.set_setting(key, value))
        return True

    def _setting(self, key: str, default: Any) -> Any:
        p = self.ws.project
        if p is None:
            return default
        try:
            return p.get_setting(key, default)
        except Exception:  # noqa: BLE001 - a missing view position must never stop a project from opening
            return default

    def save_view(self) -> None:
        """Remember the item on screen for the next open. A project that cannot be written loses only this (a
        convenience) on closing, so the close goes on."""
        p = self.ws.project
        if p is not None and self.current is not None:
            try:
                p.set_setting(VIEW_SETTING, int(self.current))
            except _SAVE_ERRORS as exc:
                log.warning("view position not saved: %s", _failure_text(exc))
