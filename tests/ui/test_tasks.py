"""The one task runner: work in a worker thread, signals in the GUI thread, cancel-previous, errors as data.

Every listener here connects to the :class:`TaskHandle` of the task it started, as the window's code does."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, QThread, Slot

from aldesk.core.progress import Cancelled, UserError, check
from aldesk.ui.shell.tasks import TaskError, TaskHandle, TaskRunner


class _Recorder(QObject):
    """The slots of one handle: they append to the sink's list, tagged with the handle's kind."""

    def __init__(self, sink: Sink, handle: TaskHandle) -> None:
        super().__init__()
        self.sink, self.kind = sink, handle.kind
        handle.progress.connect(self.on_progress)
        handle.finished.connect(self.on_finished)
        handle.failed.connect(self.on_failed)
        handle.cancelled.connect(self.on_cancelled)

    @Slot(float, str, float)
    def on_progress(self, f: float, m: str, e: float) -> None:
        self.sink.slot_threads.add(QThread.currentThread())
        self.sink.events.append(("progress", self.kind, f))

    @Slot(object)
    def on_finished(self, result: object) -> None:
        self.sink.slot_threads.add(QThread.currentThread())
        self.sink.events.append(("finished", self.kind, result))

    @Slot(object)
    def on_failed(self, err: object) -> None:
        self.sink.events.append(("failed", self.kind, err))

    @Slot()
    def on_cancelled(self) -> None:
        self.sink.events.append(("cancelled", self.kind))


class Sink:
    """Records what reaches the GUI thread through the handles it watches, and in which thread the slots ran."""

    def __init__(self, runner: TaskRunner) -> None:
        self.runner = runner
        self.events: list[tuple] = []
        self.slot_threads: set[object] = set()
        self._recorders: list[_Recorder] = []

    def start(self, kind: str, fn) -> TaskHandle:
        handle = self.runner.start(kind, fn)
        self._recorders.append(_Recorder(self, handle))
        return handle

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
    monitored: list[tuple[str, float]] = []
    runner.progress.connect(lambda kind, f, m, e: monitored.append((kind, f)))

    def work(progress, cancel):
        worker_threads.append(threading.current_thread())
        for i in range(5):
            progress((i + 1) / 5, f"{i}")
            time.sleep(0.06)
        return 42

    handle = sink.start("job", work)
    assert handle.kind == "job" and handle.is_running
    qtbot.waitUntil(lambda: bool(sink.kinds("finished")))
    assert sink.kinds("finished") == [("finished", "job", 42)]
    assert sink.kinds("progress")
    assert worker_threads[0] is not threading.main_thread()
    assert sink.slot_threads == {QThread.currentThread()}
    assert not handle.is_running
    # The runner-wide monitor saw the same progress, with the kind.
    assert [("job", e[2]) for e in sink.kinds("progress")] == monitored


def test_a_plain_function_on_a_handle_runs_in_the_gui_thread(qtbot, runner: TaskRunner) -> None:
    """The handle's signals are emitted in the GUI thread, so even a lambda connected to them runs there (a
    lambda on a signal emitted by the worker would run in the worker: DESIGN.md "Threads")."""
    threads: list[object] = []

    def work(progress, cancel):
        progress(0.5, "half")
        time.sleep(0.06)
        progress(1.0, "done")
        return "ok"

    handle = runner.start("job", work)
    handle.progress.connect(lambda f, m, e: threads.append(QThread.currentThread()))
    handle.finished.connect(lambda result: threads.append(QThread.currentThread()))
    qtbot.waitUntil(lambda: not runner.is_running("job"))
    assert len(threads) >= 2 and set(threads) == {QThread.currentThread()}


def test_each_handle_hears_only_its_own_task(qtbot, runner: TaskRunner) -> None:
    sink_a, sink_b = Sink(runner), Sink(runner)

    def bug(progress, cancel):
        progress(1.0, "b")
        raise ZeroDivisionError("oops")

    sink_a.start("a", lambda progress, cancel: (progress(1.0, "a"), "A")[1])
    sink_b.start("b", bug)
    qtbot.waitUntil(lambda: bool(sink_a.kinds("finished")) and bool(sink_b.kinds("failed")))
    runner.pool.waitForDone(5000)
    qtbot.wait(50)
    assert {e[1] for e in sink_a.events} == {"a"} and {e[1] for e in sink_b.events} == {"b"}
    assert sink_a.kinds("finished") == [("finished", "a", "A")] and not sink_a.kinds("failed")
    assert not sink_b.kinds("finished") and len(sink_b.kinds("failed")) == 1


def test_starting_a_kind_cancels_the_previous(qtbot, runner: TaskRunner) -> None:
    sink = Sink(runner)
    first_cancelled = threading.Event()

    def slow(progress, cancel):
        for i in range(500):
            if cancel():
                first_cancelled.set()
            check(cancel)
            progress(i / 500, "slow")
            time.sleep(0.01)
        return "slow"

    old = sink.start("embed", slow)
    time.sleep(0.05)
    new = sink.start("embed", lambda progress, cancel: "fast")
    assert not old.is_running and new.is_running
    qtbot.waitUntil(lambda: bool(sink.kinds("finished")))
    assert first_cancelled.wait(5)
    runner.pool.waitForDone(5000)
    qtbot.wait(50)
    assert sink.kinds("finished") == [("finished", "embed", "fast")]
    assert not sink.kinds("cancelled")  # a superseded task is no news
    old.cancel()  # cancelling a superseded handle is a no-op: it cannot stop its successor
    qtbot.wait(50)
    assert not sink.kinds("cancelled") and not new.is_running


def test_cancel_and_errors(qtbot, runner: TaskRunner) -> None:
    sink = Sink(runner)

    def wait_for_cancel(progress, cancel):
        while True:
            check(cancel)
            time.sleep(0.01)

    a = sink.start("a", wait_for_cancel)
    a.cancel()
    assert not a.is_running and not runner.is_running("a")
    qtbot.waitUntil(lambda: bool(sink.kinds("cancelled")))

    def user_error(progress, cancel):
        raise UserError("That folder has no images.")

    def bug(progress, cancel):
        raise ZeroDivisionError("oops")

    sink.start("b", user_error)
    sink.start("c", bug)
    qtbot.waitUntil(lambda: len(sink.kinds("failed")) == 2)
    errs = {e[1]: e[2] for e in sink.kinds("failed")}
    assert isinstance(errs["b"], TaskError) and errs["b"].user_error
    assert errs["b"].message == "That folder has no images."
    assert not errs["c"].user_error and "ZeroDivisionError" in errs["c"].details
    assert Cancelled  # the convention's exception is what the runner understands
    a.cancel()  # an ended handle: nothing more
    qtbot.wait(50)
    assert sink.kinds("cancelled") == [("cancelled", "a")]


def test_a_cancel_after_the_work_ended_still_ends_in_cancelled(qtbot, runner: TaskRunner) -> None:
    """The user pressed Cancel while the result (or error) was already on its way: the cancel wins, and the UI that
    waits for ``cancelled`` before offering Resume gets it. A superseded task's late result stays silent."""
    sink = Sink(runner)

    def bug(progress, cancel):
        raise ZeroDivisionError("oops")

    a = sink.start("a", lambda progress, cancel: "done")
    sink.start("b", bug)
    sink.start("c", lambda progress, cancel: "old")
    assert runner.pool.waitForDone(5000)  # all three ended; their signals wait in the GUI thread's queue
    a.cancel()  # through the handle
    runner.cancel("b")  # through the runner, by kind
    sink.start("c", lambda progress, cancel: "new")
    qtbot.waitUntil(lambda: len(sink.kinds("cancelled")) == 2 and bool(sink.kinds("finished")))
    runner.pool.waitForDone(5000)
    qtbot.wait(50)
    assert sorted(sink.kinds("cancelled")) == [("cancelled", "a"), ("cancelled", "b")]
    assert sink.kinds("finished") == [("finished", "c", "new")] and not sink.kinds("failed")


def test_a_handle_nobody_keeps_still_delivers(qtbot, runner: TaskRunner) -> None:
    """The runner keeps a handle alive while its task runs: a starter that only connected to it gets the result."""
    got: list[object] = []

    class Listener(QObject):
        @Slot(object)
        def on_finished(self, result: object) -> None:
            got.append(result)

    listener = Listener()

    def work(progress, cancel):
        time.sleep(0.1)
        return "kept"

    runner.start("job", work).finished.connect(listener.on_finished)
    gc.collect()
    qtbot.waitUntil(lambda: bool(got))
    assert got == ["kept"]
