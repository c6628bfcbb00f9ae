"""UI tests run offscreen, with QSettings, data and cache dirs of their own, and always drain worker threads."""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
# One embedding cache per test session: the demo is embedded once, later tests hit the cache (as users do).
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="aldesk-uitest-"))
atexit.register(shutil.rmtree, _SESSION_DIR, True)  # a test run leaves nothing in /tmp
os.environ["XDG_CACHE_HOME"] = str(_SESSION_DIR / "cache")

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, QThreadPool

QCoreApplication.setOrganizationName("aldesk-tests")
QCoreApplication.setApplicationName("aldesk-tests")

# pytest-qt waits 5 s by default for a condition or a signal: a worker's PCA or embedding on the shared CI machine
# (load 8-15 on 2 cores) has missed that. These waits end as soon as the condition holds, so a generous default
# costs nothing when things are fast; no test here expects a wait to time out without saying so.
PATIENT_MS = 60_000


def _patient(wait, name):
    def call(self, *args, timeout=PATIENT_MS, **kwargs):
        return wait(self, *args, timeout=timeout, **kwargs)

    call.__name__ = name
    return call


from pytestqt.qtbot import QtBot  # noqa: E402

for _name in ("waitUntil", "waitSignal", "waitSignals"):
    setattr(QtBot, _name, _patient(getattr(QtBot, _name), _name))


@pytest.fixture(autouse=True)
def _gui_thread_gc(qapp) -> None:
    """As the app does (aldesk/ui/shell/gc_guard.py): a window a test leaves in a reference cycle is freed on the
    GUI thread, not by a worker that happens to trigger the collector (which deadlocks inside ~QObject)."""
    from aldesk.ui.shell import gc_guard

    gc_guard.install(qapp)


@pytest.fixture(autouse=True)
def _app_eer_kernel_threshold() -> Iterator[None]:
    """As make_app does (aldesk/core/query/eer_kernel.py): small pools ranked by numpy, so a window here ranks as
    the real app does (a test replays the keys of a real aldesk process and compares the items labeled)."""
    from aldesk.core.query import eer_kernel

    eer_kernel.set_min_items(eer_kernel.APP_MIN_ITEMS)
    yield
    eer_kernel.set_min_items(0)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "config"))
    # The first-run hints overlay is off unless a test is about it (tests/ui/test_hints.py turns it on).
    QSettings().setValue("hints/never", True)
    yield
    QThreadPool.globalInstance().waitForDone(30000)
    gc.collect()  # this test's leftovers, here on the GUI thread


@pytest.fixture
def make_window(qtbot):
    """Factory of real main windows; every one is closed and its workers drained, even when a test fails."""
    from aldesk.ui.shell.main_window import MainWindow

    made: list[MainWindow] = []

    def make() -> MainWindow:
        w = MainWindow()
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        # Shortcuts (all labeling keys) only reach the active window, as for a real user.
        w.activateWindow()
        qtbot.waitUntil(w.isActiveWindow)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()  # closeEvent cancels tasks and waits for the pool
        w.runner.shutdown()
        w.thumbs.shutdown()
