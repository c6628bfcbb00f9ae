"""Colours shared by the plots: one palette, so a class or a strategy has the same colour everywhere."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor

from aldesk.app.palette import PALETTE  # one list for the window and the CLI's PNGs

UNLABELED = "#b8b8b8"
RANDOM = "#7f7f7f"
AUDIT = "#1f5fa8"
LOO = "#d1495b"
HIGHLIGHT = "#111111"


def color(i: int, alpha: int = 255) -> QColor:
    c = QColor(PALETTE[i % len(PALETTE)])
    c.setAlpha(alpha)
    return c


def style_plot(plot: pg.PlotItem) -> None:
    """Dark axes for a white background, set per plot: pg.setConfigOptions would change every plot in the app."""
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        ax.setPen(pg.mkPen("#666666"))
        ax.setTextPen(pg.mkPen("#333333"))
        ax.enableAutoSIPrefix(False)  # "accuracy (x0.001)" helps nobody
    plot.showGrid(x=True, y=True, alpha=0.15)
