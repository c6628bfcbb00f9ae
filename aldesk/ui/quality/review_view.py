"""The review queue as a mode of the labeling loop: one suspicious label at a time, decided on keys.

K keeps the label (a logged ``keep`` action: the queue does not ask again), a class key relabels the item with
origin "review", Enter takes the k-NN's suggestion, Right / Left move through the queue, Ctrl+Z undoes like
anywhere (the window's Undo). The queue itself is computed in the task runner (:func:`compute_queue`), never on
the GUI thread.

:class:`ReviewActions` is the part a view of several items (the grid) needs: keep / relabel an item with the
same logging and the same save-failure handling. :meth:`ReviewView.show_queue` takes any queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QSizePolicy, QVBoxLayout, QWidget

from aldesk.core.labeling.session import Session
from aldesk.core.progress import CancelFn, ProgressFn
from aldesk.core.quality.review import REVIEW_ORIGIN, Suspect, review_queue, reviewed_items
from aldesk.ui.labeling.controller import Controller
from aldesk.ui.shell.thumbs import ThumbnailLoader

TaskFn = Callable[..., Any]
IMAGE_SIDE = 320


def compute_queue(session: Session) -> TaskFn:
    """The task for the runner (``fn(progress=, cancel=)`` returning the queue). What it reads of the session is
    copied here, on the GUI thread: the user may go on labeling while the worker computes."""
    X, labels, classes, k = session.X, session.label_index(), list(session.classes), session.k
    eligible, reviewed = session.eligible.copy(), reviewed_items(list(session.history))

    def task(progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> list[Suspect]:
        return review_queue(
            X, labels, classes, k, eligible=eligible, reviewed=reviewed, progress=progress, cancel=cancel
        )

    return task


@dataclass
class ReviewActions:
    """Keep / relabel one labeled item from the queue: logged, and refused / retried like every action while a
    save fails (the controller's handling). What a grid of several items calls per item, too."""

    ctl: Controller

    def keep(self, index: int) -> bool:
        return self.ctl.keep(index)

    def relabel(self, index: int, cls: str) -> bool:
        return self.ctl.label(index, cls, origin=REVIEW_ORIGIN)


class ReviewView(QWidget):
    """One suspect at a time; ``finished`` when the queue is done (or left with Escape)."""

    finished = Signal()

    def __init__(self, ctl: Controller, thumbs: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctl = ctl
        self.thumbs = thumbs
        self.actions_ = ReviewActions(ctl)
        self.queue: list[Suspect] = []
        self.pos = 0
        self.decided: dict[int, str] = {}  # item -> "kept" | "relabeled <class>" in this pass
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.why = QLabel()
        self.why.setWordWrap(True)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(160, 160)
        self.image.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the review
        self.keys = QLabel()
        self.keys.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.header)
        lay.addWidget(self.why)
        lay.addWidget(self.image, 1)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.keys)
        is_image = ctl.ws.dataset.kind == "image"
        self.image.setVisible(is_image)
        self.text.setVisible(not is_image)
        ctl.labels_changed.connect(self.show_current)  # an undo (Ctrl+Z) shows the item's state again

    # ---------------------------------------------------------------- queue
    def show_queue(self, queue: list[Suspect]) -> None:
        self.queue = list(queue)
        self.pos = 0
        self.decided = {}
        self.show_current()
        self.setFocus()

    def current(self) -> Suspect | None:
        return self.queue[self.pos] if 0 <= self.pos < len(self.queue) else None

    @Slot()
    def show_current(self) -> None:
        s = self.current()
        classes = self.ctl.session.classes
        keys = " &nbsp;·&nbsp; ".join(f"<b>{n % 10}</b> {c}" for n, c in enumerate(classes[:10], start=1))
        self.keys.setText(
            f"<b>K</b> keep the label &nbsp;·&nbsp; <b>Enter</b> take the suggestion &nbsp;·&nbsp; relabel: {keys}"
            " &nbsp;·&nbsp; <b>→ / ←</b> next / back &nbsp;·&nbsp; <b>Ctrl+Z</b> undo &nbsp;·&nbsp; <b>Esc</b> leave"
        )
        if s is None:
            n = len(self.decided)
            self.header.setText(
                f"<b>Review done:</b> {n} of {len(self.queue)} decided."
                if self.queue
                else "<b>Nothing to review:</b> the k-NN agrees with every label it can judge."
            )
            self.why.clear()
            self.image.clear()
            self.text.clear()
            return
        ds = self.ctl.ws.dataset
        now = self.ctl.session.label_of(s.index)
        name = ds.keys[s.index] if ds.kind == "image" else f"text {s.index + 1:,}"
        state = self.decided.get(s.index, "")
        self.header.setText(
            f"Review {self.pos + 1} of {len(self.queue)} · <b>{name}</b> · labeled <b>{now}</b>"
            + (f" · <i>{state}</i>" if state else "")
        )
        if s.kind == "duplicate" and s.other is not None and s.similarity is not None:
            other = self.ctl.session.label_of(s.other)
            other_name = ds.keys[s.other] if ds.kind == "image" else f"text {s.other + 1:,}"
            reason = (
                f"a near-duplicate (similarity {s.similarity:.3f}) of {other_name}, labeled <b>{other}</b>"
            )
        else:
            reason = (
                f"its neighbours give <b>{s.given}</b> {s.self_confidence:.0%}, below the "
                f"{s.threshold:.0%} that {s.given} items get on average"
            )
        self.why.setText(f"The k-NN suggests <b>{s.suggested}</b>: {reason}.")
        if ds.kind == "image":
            pm = self.thumbs.load_now(ds.path(s.index), IMAGE_SIDE)
            if pm is None:
                self.image.setText(f"Cannot read {ds.keys[s.index]}")
            else:
                self.image.setPixmap(pm)
        else:
            self.text.setPlainText(ds.text(s.index))

    # ---------------------------------------------------------------- keys
    def keyPressEvent(self, ev: QKeyEvent) -> None:
        key = Qt.Key(ev.key())
        s = self.current()
        mods = ev.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if mods not in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier):
            super().keyPressEvent(ev)  # Ctrl+Z and the like: the window's actions
            return
        if key == Qt.Key.Key_Escape:
            self.finished.emit()
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_J):
            self._move(1)
        elif key == Qt.Key.Key_Left:
            self._move(-1)
        elif s is None:
            super().keyPressEvent(ev)
        elif key == Qt.Key.Key_K:
            if self.actions_.keep(s.index):
                self._decided(s.index, "kept")
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._relabel(s.index, s.suggested)
        elif Qt.Key.Key_0 <= key <= Qt.Key.Key_9:
            n = (key - Qt.Key.Key_0) or 10
            classes = self.ctl.session.classes
            if n <= len(classes):
                self._relabel(s.index, classes[n - 1])
            else:
                self.ctl.message.emit(f"There is no class {n}.")
        else:
            super().keyPressEvent(ev)

    def _relabel(self, index: int, cls: str) -> None:
        if self.actions_.relabel(index, cls):
            self._decided(index, f"relabeled {cls}")

    def _decided(self, index: int, what: str) -> None:
        self.decided[index] = what
        self._move(1)

    def _move(self, delta: int) -> None:
        if not self.queue:
            return
        self.pos = max(0, min(len(self.queue), self.pos + delta))  # len(queue): the "done" page
        self.show_current()
