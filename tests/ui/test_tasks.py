"""The one task runner: work in a worker thread, signals in the GUI thread, cancel-previous, errors as data."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, QThread, Slot

from aldesk.core.progress import Cancelled, UserError, check
from aldesk.ui.tasks import TaskError, TaskRunner


class Sink(QObject):
    """Records what reaches the GUI thread, and in which thread the slots ran."""

    def __init__(self, runner: TaskRunner) -> None:
        super().__init__()
        self.events: list[tuple] = []
        self.slot_threads: set[object] = set()
        runner.progress.connect(self.on_progress)
        runner.finished.connect(self.on_finished)
        runner.failed.connect(self.on_failed)
        runner.cancelled.connect(self.on_cancelled)

    @Slot(str, float, str, float)
    def on_progress(self, kind: str, f: float, m: str, e: float) -> None:
        self.slot_threads.add(QThread.currentThread())
        self.events.append(("progress", kind, f))

    @Slot(str, object)
    def on_finished(self, kind: str, result: object) -> None:
        self.slot_threads.add(QThread.currentThread())
        self.events.append(("finished", kind, result))

    @Slot(str, object)
    def on_failed(self, kind: str, err: object) -> None:
        self.events.append(("failed", kind, err))

    @Slot(str)
    def on_cancelled(self, kind: str) -> None:
        self.events.append(("cancelled", kind))

    def kinds(self, what: str) -> list[tuple]:
        return [e for e in self.events if e[0] == what]


@pytest.fixture
def runner(qtbot) -> Iterator[TaskRunner]:
    r = TaskRunner()
    yield r
    assert r.shutdown(30000)  # drained even when the test failed


def test_result_and_progress_arrive_in_gui_thread(qtbot, runner: TaskRunner) -> None:
    sink = Sink(runner)
    worker_threads: list[threading.Thread] = []

    def work(progress, cancel):
        worker_threads.append(threading.current_thread())
        for i in range(5):
            progress((i + 1) / 5, f"{i}")
            time.sleep(0.06)
        return 42

    runner.start("job", work)
    qtbot.waitUntil(lambda: bool(sink.kinds("finished")), timeout=5000)
    assert sink.kinds("finished") == [("finished", "job", 42)]
    assert sink.kinds("progress")
    assert worker_threads[0] is not threading.main_thread()
    assert sink.slot_threads == {QThread.currentThread()}


def test_starting_a_kind_cancels_the_previous(qtbot, runner: TaskRunner) -> None:
    sink = Sink(runner)
    first_cancelled = threading.Event()

    def slow(progress, cancel):
        for _ in range(500):
            if cancel():
                first_cancelled.set()
            check(cancel)
            time.sleep(0.01)
        return "slow"

    runner.start("embed", slow)
    time.sleep(0.05)
    runner.start("embed", lambda progress, cancel: "fast")
    qtbot.waitUntil(lambda: bool(sink.kinds("finished")), timeout=5000)
    assert first_cancelled.wait(5)
    runner.pool.waitForDone(5000)
    qtbot.wait(50)
    assert sink.kinds("finished") == [("finished", "embed", "fast")]
    assert not sink.kinds("cancelled")  # a superseded task is no news


def test_cancel_and_errors(qtbot, runner: TaskRunner) -> None:
    sink = Sink(runner)

    def wait_for_cancel(progress, cancel):
        while True:
            check(cancel)
            time.sleep(0.01)

    runner.start("a", wait_for_cancel)
    runner.cancel("a")
    qtbot.waitUntil(lambda: bool(sink.kinds("cancelled")), timeout=5000)

    def user_error(progress, cancel):
        raise UserError("That folder has no images.")

    def bug(progress, cancel):
        raise ZeroDivisionError("oops")

    runner.start("b", user_error)
    runner.start("c", bug)
    qtbot.waitUntil(lambda: len(sink.kinds("failed")) == 2, timeout=5000)
    errs = {e[1]: e[2] for e in sink.kinds("failed")}
    assert isinstance(errs["b"], TaskError) and errs["b"].user_error
    assert errs["b"].message == "That folder has no images."
    assert not errs["c"].user_error and "ZeroDivisionError" in errs["c"].details
    assert Cancelled  # the convention's exception is what the runner understands


def test_a_cancel_after_the_work_ended_still_ends_in_cancelled(qtbot, runner: TaskRunner) -> None:
    """The user pressed Cancel while the result (or error) was already on its way: the cancel wins, and the UI that
    waits for ``cancelled`` before offering Resume gets it. A superseded task's late result stays silent."""
    sink = Sink(runner)

    def bug(progress, cancel):
        raise ZeroDivisionError("oops")

    runner.start("a", lambda progress, cancel: "done")
    runner.start("b", bug)
    runner.start("c", lambda progress, cancel: "old")
    assert runner.pool.waitForDone(5000)  # all three ended; their signals wait in the GUI thread's queue
    runner.cancel("a")
    runner.cancel("b")
    runner.start("c", lambda progress, cancel: "new")
    qtbot.waitUntil(lambda: len(sink.kinds("cancelled")) == 2 and bool(sink.kinds("finished")), timeout=5000)
    runner.pool.waitForDone(5000)
    qtbot.wait(50)
    assert sorted(sink.kinds("cancelled")) == [("cancelled", "a"), ("cancelled", "b")]
    assert sink.kinds("finished") == [("finished", "c", "new")] and not sink.kinds("failed")
