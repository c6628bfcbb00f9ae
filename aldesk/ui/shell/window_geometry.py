"""The main window's size and place: restored from the last run, kept on the screen it is on."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QResizeEvent, QShowEvent

from aldesk.ui.shell.fit import fit_to_screen

GEOMETRY_SETTING = "window/geometry"  # QMainWindow.saveGeometry, clamped to the current screen on restore
DEFAULT_SIZE = (1280, 800)


class WindowGeometry:
    """A part of :class:`~aldesk.ui.shell.main_window.MainWindow`: its geometry."""

    def _restore_geometry(self) -> None:
        """The last run's size and place, or the default size, clamped to the screen the window is on now (a
        geometry saved on a bigger monitor must not come back wider than this one)."""
        saved = self.settings.value(GEOMETRY_SETTING)
        if not (saved and self.restoreGeometry(saved)):
            avail = self.screen().availableGeometry() if self.screen() is not None else None
            w, h = DEFAULT_SIZE
            if avail is not None:
                w, h = min(w, avail.width() - 16), min(h, avail.height() - 48)  # room for a frame and title
            self.resize(max(640, w), max(400, h))
        fit_to_screen(self)

    def fit_later(self, *_: object) -> None:
        """After something that may widen the window (a dock shown, its state restored): clamp, next turn."""
        QTimer.singleShot(0, self, lambda: fit_to_screen(self))

    def showEvent(self, ev: QShowEvent) -> None:
        super().showEvent(ev)
        self.fit_later()

    def resizeEvent(self, ev: QResizeEvent) -> None:
        # Qt grows a window to its layout's new minimum (a dock shown, a class added): that growth must not push
        # it past the screen. A size the user or the window system chose is theirs.
        super().resizeEvent(ev)
        new, old = ev.size(), ev.oldSize()
        forced_w = new.width() > old.width() and new.width() <= self.minimumWidth()
        forced_h = new.height() > old.height() and new.height() <= self.minimumHeight()
        if old.isValid() and (forced_w or forced_h):
            self.fit_later()
