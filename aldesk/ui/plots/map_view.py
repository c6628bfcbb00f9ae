"""The embedding map: every item as a point of a 2-D projection, coloured by label or predicted class.

Built for 100k points. The bulk is drawn by one ScatterPlotItem per style (class x confidence level, at most a few
dozen), each holding its points with ONE shared brush and size, updated with ``setData`` of numpy slices. A single
item with per-point brush arrays was measured first: pyqtgraph then runs Python loops over every point in
``setData`` (0.4-0.8 s per restyle at 100k, i.e. after every label); grouped, a restyle is numpy-only.
Candidates, the current item, the selection and the path of the last picks are separate small items on top
(DESIGN.md convention 5). Hover is rate-limited by a SignalProxy and answered by a vectorised nearest search.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QToolTip, QWidget

from aldesk.core.labeling.session import INTERACTIVE, Session
from aldesk.core.maps.projection import points_in_polygon
from aldesk.ui.plots import style
from aldesk.ui.plots.fast_scatter import UniformScatter
from aldesk.ui.plots.lasso import SelectViewBox
from aldesk.ui.shell import keys

ALPHA_LEVELS = (70, 120, 175, 235)  # unlabeled points: faint when the k-NN is unsure, solid when it is sure
PICK_TRAIL = 30
HOVER_RADIUS_PX = 6.0


class MapPlot(pg.PlotWidget):
    """The plot widget of the map. Emits item indices (dataset ids), never map rows."""

    item_clicked = Signal(int)
    selection_changed = Signal()
    class_key = Signal(int)  # 1-based class number pressed while items are selected
    confirm_key = Signal()
    escape_key = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        self.vb = SelectViewBox()
        super().__init__(parent, background="w", viewBox=self.vb)
        p = self.getPlotItem()
        style.style_plot(p)
        p.showGrid(x=False, y=False)
        p.hideAxis("left")
        p.hideAxis("bottom")
        p.setAspectLocked(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # Bulk points: one item per style, created on demand and reused; no outline (a pen doubles the work).
        self.layers: list[pg.ScatterPlotItem] = []
        self._layer_counts: list[int] = []
        # The path of the last picks: faint, so that it shows where the strategy went without hiding the map.
        self.trail = pg.PlotCurveItem(pen=pg.mkPen(QColor(40, 40, 40, 70), width=1))
        self.trail_pts = pg.ScatterPlotItem(size=5, pen=pg.mkPen(QColor(40, 40, 40, 160)), brush=None)
        self.cands = pg.ScatterPlotItem(
            size=11, symbol="o", pen=pg.mkPen(style.HIGHLIGHT, width=1.6), brush=None
        )
        self.current = pg.ScatterPlotItem(size=18, symbol="o", pen=pg.mkPen("#d1495b", width=2.5), brush=None)
        self.sel = pg.ScatterPlotItem(size=7, symbol="o", pen=pg.mkPen("#d35400", width=1.3), brush=None)
        for z, item in enumerate((self.trail, self.trail_pts, self.sel, self.cands, self.current)):
            item.setZValue(100 + z)  # above every bulk layer
            p.addItem(item)
        self.legend = p.addLegend(
            offset=(-5, 5), labelTextColor="#333333", brush=pg.mkBrush(255, 255, 255, 210), verSpacing=-6
        )
        self._legend_classes: list[str] = []
        self.pos = np.zeros((0, 2), np.float32)  # map rows -> view coordinates
        self.items = np.zeros(0, np.int64)  # map rows -> item ids
        self.row_of = np.zeros(0, np.int64)  # item id -> map row (-1 when not on the map)
        self.selection = np.zeros(0, np.int64)  # selected item ids
        self.tooltip_for: object = None  # callable(item id) -> HTML, set by the owner
        self.hovered: int | None = None  # the item whose tooltip is shown
        self._hover_global = None
        self.vb.selected.connect(self._on_polygon)
        self._hover = pg.SignalProxy(self.scene().sigMouseMoved, rateLimit=30, slot=self._on_hover)
        self.scene().sigMouseClicked.connect(self._on_click)
        self.installEventFilter(self)

    # ------------------------------------------------------------------ data
    def set_positions(self, pos: np.ndarray, items: np.ndarray, n_items: int) -> None:
        """New layout: ``pos`` (M, 2) for the items ``items`` (M,) out of ``n_items``."""
        self.pos = np.ascontiguousarray(pos, dtype=np.float32)
        self.items = np.asarray(items, dtype=np.int64)
        self.row_of = np.full(n_items, -1, np.int64)
        self.row_of[self.items] = np.arange(self.items.size)
        self.selection = (
            self.selection[self.row_of[self.selection] >= 0] if self.selection.size else self.selection
        )

    def set_style(self, styled: Styled) -> None:
        """Distribute the points over the style layers (one stable argsort, then numpy slices)."""
        n_codes = len(styled.brushes)
        order = np.argsort(styled.codes, kind="stable")
        counts = np.bincount(styled.codes, minlength=n_codes)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        p = self.getPlotItem()
        while len(self.layers) < n_codes:
            layer = UniformScatter(pen=None, pxMode=True, hoverable=False)
            p.addItem(layer)
            self.layers.append(layer)
            self._layer_counts.append(0)
        for c, layer in enumerate(self.layers):
            count = int(counts[c]) if c < n_codes else 0
            if count == 0:
                if self._layer_counts[c]:
                    layer.setData(x=np.zeros(0), y=np.zeros(0))
                self._layer_counts[c] = 0
                continue
            rows = order[bounds[c] : bounds[c + 1]]
            layer.setData(
                x=self.pos[rows, 0], y=self.pos[rows, 1], brush=styled.brushes[c], size=styled.sizes[c]
            )
            layer.setZValue(styled.z[c])
            self._layer_counts[c] = count

    def set_legend(self, classes: list[str]) -> None:
        """Class colours, in key order (number keys label with them)."""
        if classes == self._legend_classes:
            return
        self._legend_classes = list(classes)
        self.legend.clear()
        for i, name in enumerate(classes):
            sample = pg.ScatterPlotItem(pen=None, brush=pg.mkBrush(style.color(i)), size=8)
            self.legend.addItem(sample, f"{i + 1 if i < 9 else 0 if i == 9 else ' '}  {name}")

    def n_drawn(self) -> int:
        """Points currently drawn in the bulk layers."""
        return int(sum(self._layer_counts))

    def _xy(self, item_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids = np.asarray(item_ids, dtype=np.int64)
        if ids.size == 0 or self.row_of.size == 0:
            return np.zeros(0), np.zeros(0)
        rows = self.row_of[ids]
        rows = rows[rows >= 0]
        return self.pos[rows, 0], self.pos[rows, 1]

    def set_overlays(self, candidates: list[int], current: int | None, trail: list[int]) -> None:
        self.cands.setData(*self._xy(np.array(candidates, np.int64)))
        self.current.setData(*self._xy(np.array([] if current is None else [current], np.int64)))
        tx, ty = self._xy(np.array(trail, np.int64))
        # Join only steps that are short next to the map: a jump across the plot is two picks far apart, and a
        # line between them only hides the points under it.
        extent = float(np.ptp(self.pos, axis=0).max()) if len(self.pos) else 0.0
        steps = np.hypot(np.diff(tx), np.diff(ty)) if tx.size > 1 else np.zeros(0)
        self.trail.setData(tx, ty, connect=np.append(steps < 0.1 * extent, False) if tx.size else "all")
        self.trail_pts.setData(tx, ty)
        self.sel.setData(*self._xy(self.selection))

    def set_selection(self, item_ids: np.ndarray, outline: bool = False) -> None:
        """Select ``item_ids``; ``outline``: keep the lasso's outline that drew them (else it is cleared)."""
        self.selection = np.asarray(item_ids, dtype=np.int64)
        if not outline or self.selection.size == 0:
            self.vb.clear_outline()
        self.sel.setData(*self._xy(self.selection))
        self.selection_changed.emit()

    # ------------------------------------------------------------ interaction
    def _on_polygon(self, poly: np.ndarray) -> None:
        inside = points_in_polygon(self.pos, poly)
        self.set_selection(self.items[inside], outline=True)
        self.setFocus()

    def nearest(self, scene_pos: QPointF) -> int | None:
        """The item under the mouse (within a few pixels), or None."""
        if self.pos.shape[0] == 0 or not self.vb.sceneBoundingRect().contains(scene_pos):
            return None
        v = self.vb.mapSceneToView(scene_pos)
        px, py = self.vb.viewPixelSize()
        if px <= 0 or py <= 0:
            return None
        # Distance in pixels, so the hit radius is the same whatever the zoom and aspect.
        d2 = ((self.pos[:, 0] - v.x()) / px) ** 2 + ((self.pos[:, 1] - v.y()) / py) ** 2
        row = int(np.argmin(d2))
        return int(self.items[row]) if d2[row] <= HOVER_RADIUS_PX**2 else None

    def _on_hover(self, args: tuple) -> None:
        item = self.nearest(args[0])
        if item is None or self.tooltip_for is None:
            self.hovered = None
            QToolTip.hideText()
            return
        self.hovered = item
        self._hover_global = self.mapToGlobal(self.mapFromScene(args[0]))
        QToolTip.showText(self._hover_global, self.tooltip_for(item), self)

    def refresh_tooltip(self) -> None:
        """Show the hovered item's tooltip again (its thumbnail just arrived)."""
        if self.hovered is not None and self.tooltip_for is not None and self._hover_global is not None:
            QToolTip.showText(self._hover_global, self.tooltip_for(self.hovered), self)

    def _on_click(self, ev: object) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.modifiers() != Qt.KeyboardModifier.NoModifier:  # type: ignore[attr-defined]
            return
        item = self.nearest(ev.scenePos())  # type: ignore[attr-defined]
        if item is not None:
            ev.accept()  # type: ignore[attr-defined]
            self.item_clicked.emit(item)
        elif self.selection.size:
            self.set_selection(np.zeros(0, np.int64))

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        # The window binds digits and Enter as shortcuts (label the current item). While items are selected
        # here, claim those keys for the map: accepting ShortcutOverride delivers them as key presses instead.
        if ev.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and self.selection.size:
            key = ev.key()  # type: ignore[attr-defined]
            n = keys.class_number(key, ev.modifiers())  # type: ignore[attr-defined]
            handled = n is not None or key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)
            if handled and ev.type() == QEvent.Type.ShortcutOverride:
                ev.accept()
                return True
            if handled:
                if n is not None:
                    self.class_key.emit(n)
                elif key == Qt.Key.Key_Escape:
                    self.escape_key.emit()
                else:
                    self.confirm_key.emit()
                return True
        return super().eventFilter(obj, ev)


@dataclass(frozen=True)
class Styled:
    """A style code per map row, and per code its shared brush, point size and drawing order."""

    codes: np.ndarray  # (M,) int
    brushes: list
    sizes: list[float]
    z: list[float]


class MapStyler:
    """Style codes of the bulk points from the session's state.

    Codes: class c unlabeled at confidence level l -> c*(L+1) + l; class c labeled -> c*(L+1) + L; the last
    code is grey (unlabeled, colour by label or no prediction yet). Drawn grey first, then faint to solid, then
    labeled points on top.
    """

    def __init__(self) -> None:
        self._n_classes = -1
        self._styles: tuple[list, list[float], list[float]] = ([], [], [])

    def _table(self, n_classes: int) -> tuple[list, list[float], list[float]]:
        if n_classes != self._n_classes:
            n_lv = len(ALPHA_LEVELS)
            brushes, sizes, z = [], [], []
            for c in range(n_classes):
                for lv, alpha in enumerate(ALPHA_LEVELS):
                    brushes.append(pg.mkBrush(style.color(c, alpha)))
                    sizes.append(4.0 + 0.7 * (n_lv - 1 - lv))  # unsure points a little bigger: label those
                    z.append(1.0 + lv)
                brushes.append(pg.mkBrush(style.color(c)))
                sizes.append(7.0)
                z.append(2.0 + n_lv)
            brushes.append(pg.mkBrush(style.UNLABELED))
            sizes.append(4.0)
            z.append(0.0)
            self._styles = (brushes, sizes, z)
            self._n_classes = n_classes
        return self._styles

    def style(self, session: Session, items: np.ndarray, by: str) -> Styled:
        """Styles of the map rows ``items``; ``by`` is "label" or "predicted"."""
        k = max(len(session.classes), 1)
        brushes, sizes, z = self._table(k)
        per = len(ALPHA_LEVELS) + 1
        grey = k * per
        lab = session.label_index(items)
        labeled = lab >= 0
        code = np.full(items.size, grey, np.int64)
        code[labeled] = lab[labeled] * per + len(ALPHA_LEVELS)
        if by == "predicted" and session.n_labeled > 0 and session.classes:
            un = np.flatnonzero(~labeled)
            p = session.probabilities(items[un])
            conf = p.max(axis=1)
            # Confidence from 1/K (a coin toss) to 1 (sure), in as many steps as there are alpha levels.
            rel = np.clip((conf - 1.0 / k) / max(1e-9, 1.0 - 1.0 / k), 0.0, 1.0)
            level = np.minimum((rel * len(ALPHA_LEVELS)).astype(np.int64), len(ALPHA_LEVELS) - 1)
            code[un] = p.argmax(axis=1) * per + level
        return Styled(code, brushes, sizes, z)


def pick_trail(session: Session, n: int = PICK_TRAIL) -> list[int]:
    """The items of the last ``n`` single labels still in force, oldest first."""
    out: list[int] = []
    for a in reversed(session.history):
        if a.op == "label" and a.origin in INTERACTIVE and len(a.items) == 1:
            out.append(a.items[0])
            if len(out) >= n:
                break
    return out[::-1]


def tooltip_html(session: Session, dataset: object, item: int, image_src: str | None = None) -> str:
    """Tooltip for one item: thumbnail (images) or text snippet, then its label or the k-NN's guess.

    ``image_src`` is the thumbnail as an ``<img src>`` (a data: URI of the thumbnail loader's pixmap); without
    it the tooltip says the thumbnail is loading. The full file is never read here: hover fires 30 times a second.
    """
    lab = session.label_of(item)
    if lab is not None:
        state = f"<b>{html.escape(lab)}</b> (labeled)"
    else:
        state = "unlabeled"
        if session.n_labeled and session.classes:
            # The stored top-k (no mat-vec): hover fires up to 30 times a second.
            p = session.probabilities(np.array([item]))[0]
            best = int(p.argmax())
            state = f"k-NN guess: <b>{html.escape(session.classes[best])}</b> ({p[best]:.0%})"
    kind = getattr(dataset, "kind", "text")
    if kind == "image":
        path = Path(dataset.path(item))  # type: ignore[attr-defined]
        img = f'<img src="{image_src}">' if image_src else "<i>loading thumbnail…</i>"
        body = f"{img}<br>{html.escape(path.name)}"
    else:
        text = dataset.text(item)  # type: ignore[attr-defined]
        text = text if len(text) <= 240 else text[:239] + "…"
        body = f'<div style="max-width: 320px">{html.escape(text)}</div>'
    return f"{body}<br>#{item + 1} · {state}<br><i>click to open</i>"


def pixmap_data_uri(pm: object) -> str:
    """A QPixmap as a PNG data: URI, for an ``<img>`` in a tooltip (a 112 px thumbnail encodes in ~1 ms)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    pm.save(buf, "PNG")  # type: ignore[attr-defined]
    buf.close()
    return "data:image/png;base64," + bytes(data.toBase64().data()).decode("ascii")
