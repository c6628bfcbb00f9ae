"""QApplication set-up and the event loop. Only Qt and the light UI modules load here: the window shows first."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from aldesk import __version__
from aldesk.ui.settings.settings_file import use_ini_settings
from aldesk.ui.shell.main_window import MainWindow

# Start-up measurement (benchmarks/cold_start.py, packaging smoke tests): with this set to 1, the app prints
# "aldesk-shown <time.time()>" on stdout when the main window first paints, then quits with exit code 0.
EXIT_AFTER_SHOWN = "ALDESK_EXIT_AFTER_SHOWN"


class _QuitOnFirstPaint(QObject):
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self.property("fired"):
            self.setProperty("fired", True)
            print(f"aldesk-shown {time.time():.6f}", flush=True)
            QTimer.singleShot(0, QCoreApplication.quit)
        return False


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        from aldesk.core.memory import no_huge_page_advice

        no_huge_page_advice()  # fresh large arrays without the kernel's compaction stalls (aldesk/core/memory.py)
        QCoreApplication.setOrganizationName("aldesk")
        QCoreApplication.setApplicationName("aldesk")
        QCoreApplication.setApplicationVersion(__version__)
        use_ini_settings()  # one INI file on every platform, not the registry (aldesk/ui/settings/settings_file.py)
        app = QApplication(argv if argv is not None else sys.argv[:1])
        _set_identity(app)
        from aldesk.ui.shell import gc_guard

        gc_guard.install(app)  # cycles holding Qt objects are freed on this thread, never in a worker
        from aldesk.core.query import eer_kernel

        eer_kernel.set_min_items(
            eer_kernel.APP_MIN_ITEMS
        )  # small pools: numpy, no numba load stalling the window
    return app  # type: ignore[return-value]


def _set_identity(app: QApplication) -> None:
    """Window icon and desktop-file id, so docks/taskbars (Wayland included) match the window to its entry."""
    from PySide6.QtGui import QIcon

    from aldesk.desktop_entry import APP_ID, icon_files

    QApplication.setDesktopFileName(APP_ID)
    icon = QIcon()
    for f in icon_files():
        if f.is_file():
            icon.addFile(str(f))
    if not icon.isNull():
        app.setWindowIcon(icon)


def run(then: Callable[[MainWindow], None] | None = None) -> int:
    """Show the window, then run ``then(window)`` from the event loop (so the window paints first)."""
    app = make_app()
    win = MainWindow()
    if os.environ.get(EXIT_AFTER_SHOWN):
        win.installEventFilter(_QuitOnFirstPaint(win))
    win.show()
    if then is not None:
        QTimer.singleShot(0, lambda: then(win))
    return app.exec()


def open_and_run(
    path: Path,
    project: Path | None,
    classes: list[str] | None,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    model_card: Path | None = None,
) -> int:
    """``aldesk open``: the window, then the open of ``path`` with the options of a new project."""
    source = {"text_column": text_column, "label_column": label_column, "model_card": model_card}
    return run(lambda w: w.open_path(path, project, classes, **source))


def demo_and_run(which: str) -> int:
    return run(lambda w: w.open_demo(which))
