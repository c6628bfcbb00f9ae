"""A window that fits its screen (issue 13.6): one-line texts that never set the window's width, and clamping of
a window geometry (a default, a restored one, one a dock pushed wider) to the screen the window is on.

A QLabel without word wrap asks for the full width of its text as its *minimum*: one long status line, an audit
estimate or "UMAP: loading numba…" then widens a maximised window past the screen, and Qt keeps it there.
:class:`ElidedLabel` asks for a few characters and draws its text cut with "…" (whole in the tooltip).
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

MIN_CHARS = 6


class ElidedLabel(QLabel):
    """A one-line plain-text label that shrinks: elided on paint, full text in the tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setToolTip(text)

    def setText(self, text: str) -> None:  # type: ignore[override]
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        fm = self.fontMetrics()
        return QSize(fm.averageCharWidth() * MIN_CHARS, super().minimumSizeHint().height())

    def paintEvent(self, ev: QPaintEvent) -> None:
        p = QPainter(self)
        r = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, r.width())
        p.drawText(r, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), text)


def clamped(frame: QRect, avail: QRect) -> QRect:
    """``frame`` moved and, where it must be, shrunk to lie within ``avail``."""
    w, h = min(frame.width(), avail.width()), min(frame.height(), avail.height())
    x = min(max(frame.x(), avail.x()), avail.x() + avail.width() - w)
    y = min(max(frame.y(), avail.y()), avail.y() + avail.height() - h)
    return QRect(x, y, w, h)


def fit_to_screen(win: QWidget) -> bool:
    """Move/shrink a top-level window so that its frame lies within its screen's available area; True when it
    had to. A maximised or full-screen window is the window system's business."""
    screen = win.screen()
    if screen is None or win.isMaximized() or win.isFullScreen():
        return False
    avail = screen.availableGeometry()
    frame = win.frameGeometry()
    if avail.contains(frame):
        return False
    target = clamped(frame, avail)
    # frameGeometry includes the title bar and borders; geometry() is the client area the window sets.
    dx, dy = frame.width() - win.width(), frame.height() - win.height()
    win.resize(max(1, target.width() - dx), max(1, target.height() - dy))
    win.move(target.x(), target.y())
    return True
