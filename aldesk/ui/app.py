"""QApplication set-up and the event loop. Only Qt and the light UI modules load here: the window shows first."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication

from aldesk import __version__
from aldesk.ui.main_window import MainWindow


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        QCoreApplication.setOrganizationName("aldesk")
        QCoreApplication.setApplicationName("aldesk")
        QCoreApplication.setApplicationVersion(__version__)
        app = QApplication(argv if argv is not None else sys.argv[:1])
    return app  # type: ignore[return-value]


def run(then: Callable[[MainWindow], None] | None = None) -> int:
    """Show the window, then run ``then(window)`` from the event loop (so the window paints first)."""
    app = make_app()
    win = MainWindow()
    win.show()
    if then is not None:
        QTimer.singleShot(0, lambda: then(win))
    return app.exec()


def open_and_run(path: Path, project: Path | None, classes: list[str] | None) -> int:
    return run(lambda w: w.open_path(path, project, classes))


def demo_and_run(which: str) -> int:
    return run(lambda w: w.open_demo(which))
