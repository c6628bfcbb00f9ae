"""The one background task runner: core functions with ``progress``/``cancel`` run on a QThreadPool.

A task is a plain callable ``fn(progress=, cancel=) -> result`` (DESIGN.md convention 2).
:meth:`TaskRunner.start` returns a :class:`TaskHandle` (napari's worker shape): a QObject living in the GUI
thread with the task's own signals, so that whoever starts a task listens to that task only, instead of every
listener of the window filtering every task's signals by a kind string. Worker threads never touch widgets: they
emit signals of a small per-runner emitter, connected to ``@Slot`` methods of the runner, so that Qt queues the
call into the GUI thread (a lambda would run in the emitting thread — see DESIGN.md "Threads"); the runner then
emits the handle's signals there, so a handle's listeners always run in the GUI thread.

Starting a task of a kind cancels the previous task of that kind; a superseded task's results, errors and
cancel are dropped (its handle stays silent: the new task carries on). A task stopped by :meth:`TaskHandle.cancel`
or :meth:`TaskRunner.cancel` ends in exactly one ``cancelled``, sent once its function has returned or raised
(whatever it returned is dropped): the UI can wait for it before offering to resume.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from aldesk.core.progress import Cancelled

TaskFn = Callable[..., Any]


@dataclass
class TaskError:
    """A failure as the UI shows it: the message, and the traceback for "copy details"."""

    message: str
    details: str
    user_error: bool
    exception: BaseException | None = None


class TaskHandle(QObject):
    """One started task, as its starter sees it. Lives in the GUI thread; its signals are emitted there.

    Exactly one of ``finished``, ``failed`` or ``cancelled`` ends a task that was not superseded by a newer task
    of its kind; a superseded task's handle gets none of them (and no more progress).

    Signals
    -------
    progress(fraction, message, elapsed_seconds)
    finished(result)
    failed(TaskError)
    cancelled()
    """

    progress = Signal(float, str, float)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(self, runner: TaskRunner, task: _Task) -> None:
        super().__init__()  # no parent: the runner keeps it while the task runs, the starter as long as it likes
        self._runner = runner
        self._task = task

    @property
    def kind(self) -> str:
        return self._task.kind

    @property
    def is_running(self) -> bool:
        """True while this task is the live one of its kind: not ended, not cancelled, not superseded (a
        cancelled task's worker may still be winding down; ``cancelled`` says when it has)."""
        return self._runner._current.get(self._task.kind) is self._task

    def cancel(self) -> None:
        """Stop this task (it ends in one ``cancelled``); nothing if it already ended or was superseded."""
        if self.is_running:
            self._runner.cancel(self._task.kind)


@dataclass
class _Task:
    kind: str
    task_id: int
    cancel_event: threading.Event = field(default_factory=threading.Event)
    superseded: bool = False  # replaced by a newer task of its kind: its cancel is no news to the UI
    started: float = field(default_factory=time.monotonic)
    handle: TaskHandle | None = None


class _Emitter(QObject):
    """Lives in the GUI thread; its signals are emitted from the worker thread (queued to the runner)."""

    progress = Signal(int, float, str)
    done = Signal(int, object)
    failed = Signal(int, object)
    cancelled = Signal(int)


class _Runnable(QRunnable):
    def __init__(self, fn: TaskFn, task: _Task, emitter: _Emitter) -> None:
        super().__init__()
        self.fn = fn
        self.task = task
        self.emitter = emitter
        self.setAutoDelete(True)

    def run(self) -> None:  # worker thread
        task, em = self.task, self.emitter
        last = [0.0]

        def progress(fraction: float, message: str = "") -> None:
            # Rate-limit: a progress signal per item would flood the GUI event queue.
            now = time.monotonic()
            if now - last[0] >= 0.05 or fraction >= 1.0:
                last[0] = now
                em.progress.emit(task.task_id, float(fraction), str(message))

        def cancel() -> bool:
            return task.cancel_event.is_set()

        try:
            self._run(progress, cancel)
        except RuntimeError:
            pass  # the runner (and its emitter) was deleted while this task ran: nobody is listening

    def _run(self, progress: Callable[[float, str], None], cancel: Callable[[], bool]) -> None:
        task, em = self.task, self.emitter
        try:
            result = self.fn(progress=progress, cancel=cancel)
        except Cancelled:
            em.cancelled.emit(task.task_id)
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the GUI, not kill the thread
            from aldesk.core.progress import UserError

            em.failed.emit(
                task.task_id,
                TaskError(
                    message=str(exc) or type(exc).__name__,
                    details="".join(traceback.format_exception(exc)),
                    user_error=isinstance(exc, UserError),
                    exception=exc,
                ),
            )
        else:
            if task.cancel_event.is_set():
                em.cancelled.emit(task.task_id)
            else:
                em.done.emit(task.task_id, result)


class TaskRunner(QObject):
    """Runs tasks by kind, one live task per kind; each start returns the task's :class:`TaskHandle`.

    ``progress(kind, fraction, message, elapsed_seconds)`` repeats every live task's progress, with its kind, for
    monitors that watch the whole window (a test, a benchmark); UI code connects to the handle of the task it
    started instead.
    """

    progress = Signal(str, float, str, float)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool(self)
        self._current: dict[str, _Task] = {}
        self._by_id: dict[int, _Task] = {}
        self._next_id = 1
        self._emitter = _Emitter(self)
        self._emitter.progress.connect(self._on_progress)
        self._emitter.done.connect(self._on_done)
        self._emitter.failed.connect(self._on_failed)
        self._emitter.cancelled.connect(self._on_cancelled)

    def start(self, kind: str, fn: TaskFn) -> TaskHandle:
        """Run ``fn(progress=, cancel=)`` in the pool; cancels (silently) a running task of the same kind.

        Connect to the returned handle's signals at once, in the same turn of the event loop: none of them can be
        emitted before control returns to the loop."""
        previous = self._current.get(kind)
        if previous is not None:
            previous.superseded = True
        self.cancel(kind)
        task = _Task(kind, self._next_id)
        task.handle = TaskHandle(self, task)
        self._next_id += 1
        if not shiboken6.isValid(self.pool):  # the window that owned the pool is gone: nothing more runs
            return task.handle
        self._current[kind] = task
        self._by_id[task.task_id] = task
        self.pool.start(_Runnable(fn, task, self._emitter))
        return task.handle

    def cancel(self, kind: str) -> None:
        """Stop the live task of ``kind``, if any; its handle then gets one ``cancelled``."""
        task = self._current.pop(kind, None)
        if task is not None:
            task.cancel_event.set()

    def cancel_all(self) -> None:
        for kind in list(self._current):
            self.cancel(kind)

    def is_running(self, kind: str) -> bool:
        return kind in self._current

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel everything and wait for the workers (call before the app or a test ends)."""
        self.cancel_all()
        return self.pool.waitForDone(timeout_ms)

    # Slots run in the GUI thread: the emitter lives there, so these connections are queued.
    def _live(self, task_id: int) -> _Task | None:
        task = self._by_id.get(task_id)
        if task is None or self._current.get(task.kind) is not task:
            return None  # superseded or cancelled: drop its late signals
        return task

    @Slot(int, float, str)
    def _on_progress(self, task_id: int, fraction: float, message: str) -> None:
        task = self._live(task_id)
        if task is not None and task.handle is not None:
            elapsed = time.monotonic() - task.started
            task.handle.progress.emit(fraction, message, elapsed)
            self.progress.emit(task.kind, fraction, message, elapsed)

    @Slot(int, object)
    def _on_done(self, task_id: int, result: object) -> None:
        task = self._finish(task_id)
        if task is not None and task.handle is not None:
            task.handle.finished.emit(result)

    @Slot(int, object)
    def _on_failed(self, task_id: int, error: object) -> None:
        task = self._finish(task_id)
        if task is not None and task.handle is not None:
            task.handle.failed.emit(error)

    @Slot(int)
    def _on_cancelled(self, task_id: int) -> None:
        task = self._by_id.pop(task_id, None)
        if task is None:
            return
        if self._current.get(task.kind) is task:
            del self._current[task.kind]
        self._report_cancelled(task)

    def _finish(self, task_id: int) -> _Task | None:
        """The task whose result or error now counts, or None. A task stopped by :meth:`cancel` whose work had
        already ended (its result was queued when the user pressed Cancel) reports ``cancelled`` instead: every
        cancel ends in exactly one ``cancelled``, which a UI waiting for the worker to stop can rely on."""
        task = self._by_id.pop(task_id, None)
        if task is None:
            return None
        if self._current.get(task.kind) is task:
            del self._current[task.kind]
            return task
        self._report_cancelled(task)
        return None

    @staticmethod
    def _report_cancelled(task: _Task) -> None:
        if not task.superseded and task.handle is not None:
            task.handle.cancelled.emit()
