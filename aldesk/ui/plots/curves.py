"""Learning-curve plots: the live accuracy while labeling, simulated strategies vs random, and a PNG export.

Items are created once and updated with ``setData`` (DESIGN.md convention 5): the live plot repaints after
every label. Both plots keep pyqtgraph's default context menu, whose "Export…" entry writes PNG, SVG or CSV.
"""

from __future__ import annotations

import html
import os
import sys
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from aldesk.core.evaluate.curves import AuditCurve, LooTrace
from aldesk.ui.plots import style


class LiveAccuracyPlot(pg.PlotWidget):
    """Accuracy vs labels: the audit estimate with its Wilson 95 % band, and leave-one-out (optimistic)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        p = self.getPlotItem()
        style.style_plot(p)
        p.setLabel("bottom", "labels given")
        p.setLabel("left", "accuracy")
        p.setYRange(-0.02, 1.02, padding=0)
        p.setLimits(yMin=-0.05, yMax=1.1, xMin=-5)
        # x runs from 0 to the labels given so far (at least 10), until the user pans or zooms the plot.
        self._follow_x = True
        p.getViewBox().sigRangeChangedManually.connect(self._stop_following)
        self.legend = p.addLegend(
            offset=(-10, -10), labelTextColor="#333333", brush=pg.mkBrush(255, 255, 255, 200)
        )
        band = pg.mkColor(style.AUDIT)
        band.setAlpha(45)
        edge = pg.mkPen(band, width=1)
        # PlotCurveItems with a faint pen: a PlotDataItem with pen=None has no curve for the fill to follow.
        self.low = pg.PlotCurveItem(pen=edge)
        self.high = pg.PlotCurveItem(pen=edge)
        self.band = pg.FillBetweenItem(self.low, self.high, brush=pg.mkBrush(band))
        p.addItem(self.low)
        p.addItem(self.high)
        p.addItem(self.band)
        self.audit = p.plot(
            pen=pg.mkPen(style.AUDIT, width=2),
            symbol="o",
            symbolSize=5,
            symbolBrush=style.AUDIT,
            symbolPen=None,
            name="audit (random items), 95 % band",
        )
        self.loo = p.plot(
            pen=pg.mkPen(style.LOO, width=2, style=Qt.PenStyle.DashLine), name="leave-one-out (optimistic)"
        )

    def set_curves(self, audit: AuditCurve, loo: LooTrace, n_labeled: int) -> None:
        x = audit.labels.astype(np.float64)
        self.audit.setData(x, audit.accuracy)
        self.low.setData(x, audit.low)
        self.high.setData(x, audit.high)
        self.band.setVisible(len(audit) > 1)
        self.loo.setData(np.asarray(loo.labels, float), np.asarray(loo.accuracy, float))
        if self._follow_x:
            # From 0, not autorange: with one point autorange shows "19.6 … 20.4", which reads as noise.
            self.getPlotItem().setXRange(0, max(10, n_labeled), padding=0.02)

    def _stop_following(self, *_: object) -> None:
        self._follow_x = False


def _marker_y(acc: list[float], at: int | None) -> float | None:
    return None if at is None or at < 1 or at > len(acc) else float(acc[at - 1])


def draw_simulation(plot: pg.PlotItem, result: dict) -> None:
    """Draw a ``SimulationResult.to_dict()``: one curve per strategy (random in grey), the labels needed for
    90 % / 95 % of the whole-pool accuracy as markers on the curve and vertical lines, and the whole-pool
    accuracy as a dashed line."""
    plot.clear()
    style.style_plot(plot)
    if plot.legend is None:
        plot.addLegend(offset=(-10, -10), labelTextColor="#333333", brush=pg.mkBrush(255, 255, 255, 220))
    plot.legend.clear()
    plot.setLabel("bottom", "labels")
    plot.setLabel("left", "accuracy on held-out items")
    plot.getAxis("left").enableAutoSIPrefix(False)
    full = float(result["full_accuracy"])
    strategies: dict = result["strategies"]
    lows = []
    others = 0
    for name, s in strategies.items():
        acc = [float(a) for a in s["accuracy"]]
        if not acc:
            continue
        lows.append(min(acc))
        if name == "random":
            col = pg.mkColor(style.RANDOM)
        else:
            col = style.color(others)
            others += 1
        l90, l95 = s.get("labels_to_90"), s.get("labels_to_95")
        reach = [f"{pct}: {n if n is not None else '—'}" for pct, n in (("90 %", l90), ("95 %", l95))]
        x = np.arange(1, len(acc) + 1, dtype=float)
        width = 2 if name != "random" else 2.5
        # Two short lines per entry: one long line made the legend wider than the plot at the dock's width.
        entry = f"{html.escape(name)}<br><small>labels to {reach[0]} · {reach[1]}</small>"
        plot.plot(x, acc, pen=pg.mkPen(col, width=width), name=entry)
        for at, symbol, dash in ((l90, "t1", Qt.PenStyle.DotLine), (l95, "s", Qt.PenStyle.DashLine)):
            y = _marker_y(acc, at)
            if y is None:
                continue
            line = pg.InfiniteLine(pos=at, angle=90, pen=pg.mkPen(col, width=1, style=dash))
            line.setZValue(-5)
            plot.addItem(line)
            plot.plot(
                [at],
                [y],
                pen=None,
                symbol=symbol,
                symbolSize=11,
                symbolBrush=col,
                symbolPen=pg.mkPen("w", width=1),
            )
    full_pen = pg.mkPen("#333333", width=1.5, style=Qt.PenStyle.DashLine)
    fl = pg.InfiniteLine(
        pos=full,
        angle=0,
        pen=full_pen,
        label=f"k-NN on the whole pool: {full:.3f}",
        labelOpts={"position": 0.82, "color": "#333333", "anchors": [(0.5, 1.15), (0.5, 1.15)]},
    )
    plot.addItem(fl)
    # Legend entry for the dashed line: InfiniteLine has no legend sample of its own.
    plot.legend.addItem(
        pg.PlotDataItem(pen=full_pen), "whole-pool accuracy<br><small>▲ 90 %, ■ 95 % of it</small>"
    )
    top = min(1.0, max(full, *(max(s["accuracy"]) for s in strategies.values() if s["accuracy"])) + 0.04)
    bottom = max(0.0, (min(lows) if lows else 0.0) - 0.03)
    plot.setYRange(bottom, top, padding=0)
    plot.setXRange(0, int(result.get("budget") or 1) + 1, padding=0.01)
    title = result.get("dataset") or ""
    folds = result.get("folds")
    n_items = result.get("n_items")
    # Two lines (name, then the figures): one line was clipped at the dock's default width.
    plot.setTitle(
        f"{html.escape(_short(Path(str(title)).name))}<br>{n_items} items · {result.get('n_classes')} classes · {folds} folds",
        color="#333333",
        size="9pt",
    )


def _short(name: str, n: int = 28) -> str:
    """A file name cut in the middle (its start and its extension stay) to fit a narrow plot's title."""
    return name if len(name) <= n else f"{name[: n // 2 - 1]}…{name[-(n // 2) :]}"


class SimulationPlot(pg.PlotWidget):
    """Strategies vs random on the user's own data (from the Simulate panel)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        style.style_plot(self.getPlotItem())
        self.result: dict | None = None

    def set_result(self, result: dict | None) -> None:
        self.result = result
        if result is None:
            self.getPlotItem().clear()
            return
        draw_simulation(self.getPlotItem(), result)


def _ensure_app() -> object:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        if (
            sys.platform.startswith("linux")
            and not os.environ.get("DISPLAY")
            and not os.environ.get("WAYLAND_DISPLAY")
        ):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication([])
    return app


def export_curves_png(result_dict: dict, path: str | Path, width: int = 1100, height: int = 650) -> Path:
    """Render simulated learning curves to a PNG (offscreen; a QApplication is created if none exists)."""
    app = _ensure_app()
    from pyqtgraph.exporters import ImageExporter

    w = pg.GraphicsLayoutWidget(show=False)
    w.setBackground("w")
    w.resize(width, height)
    plot = w.addPlot()
    draw_simulation(plot, result_dict)
    app.processEvents()  # type: ignore[attr-defined] - lay out the scene before rendering it
    exporter = ImageExporter(plot)
    exporter.parameters()["width"] = width
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    exporter.export(str(out))
    w.close()
    w.deleteLater()
    return out
