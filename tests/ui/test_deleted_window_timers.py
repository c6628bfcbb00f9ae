"""A window deleted soon after it was made runs none of its delayed steps (the plot modules' preload, the dock's
build steps): they are tied to the window, not only to a bound method, which PySide6 would call on a dead
window whose task runner is gone ("Internal C++ object (QThreadPool) already deleted", seen in the UI tests)."""

from __future__ import annotations

import shiboken6


def test_a_task_started_on_a_runner_whose_pool_is_gone_does_not_run(qtbot) -> None:
    from aldesk.ui.shell.tasks import TaskRunner

    ran: list[int] = []
    runner = TaskRunner()
    shiboken6.delete(runner.pool)
    handle = runner.start("x", lambda progress, cancel: ran.append(1))
    assert handle is not None
    qtbot.wait(200)
    assert ran == []


def test_a_window_deleted_before_its_preload_never_starts_it(qtbot, monkeypatch) -> None:
    from aldesk.ui.shell import plots_host
    from aldesk.ui.shell.main_window import MainWindow

    calls: list[int] = []
    monkeypatch.setattr(
        plots_host, "_import_plots", lambda progress=None, cancel=None: calls.append(1) or True
    )
    win = MainWindow()
    win.runner.shutdown()
    win.thumbs.shutdown()
    shiboken6.delete(win)  # before PRELOAD_DELAY_MS: its timer must go with it
    qtbot.wait(plots_host.PRELOAD_DELAY_MS * 3)
    assert calls == []  # and pytest-qt saw no exception in the event loop


def test_the_preload_still_runs_for_a_live_window(qtbot, monkeypatch, make_window) -> None:
    from aldesk.ui.shell import plots_host

    calls: list[int] = []
    monkeypatch.setattr(
        plots_host, "_import_plots", lambda progress=None, cancel=None: calls.append(1) or True
    )
    make_window()
    qtbot.waitUntil(lambda: calls == [1], timeout=10_000)
