"""A ViewBox that selects with the mouse: Shift+drag draws a freehand lasso, Ctrl+drag a rectangle.

Plain drags keep pyqtgraph's pan, so navigation is unchanged. The outline is one path item reused for every
selection, drawn while dragging and kept after the release until the owner clears it (:meth:`clear_outline`:
the selection was cleared, replaced or labeled); the finished polygon (view coordinates) is emitted, and the
owner decides what lies inside.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainterPath, QPolygonF
from PySide6.QtWidgets import QGraphicsPathItem

from aldesk.core.maps.projection import simplify_path


class SelectViewBox(pg.ViewBox):
    """ViewBox with lasso / rectangle selection; ``select_mode`` makes a plain drag select too (toolbar)."""

    selected = Signal(object)  # (M, 2) float array: the polygon, in view coordinates

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.select_mode: str | None = None  # None (drag pans), "lasso" or "rect"
        self._kind: str | None = None
        self._points: list[QPointF] = []
        self.outline = QGraphicsPathItem()
        pen = pg.mkPen("#d35400", width=1.5, style=Qt.PenStyle.DashLine)
        pen.setCosmetic(True)  # one pixel wide at any zoom
        self.outline.setPen(pen)
        fill = QColor("#d35400")
        fill.setAlpha(30)
        self.outline.setBrush(fill)
        self.outline.setZValue(1e6)
        self.outline.hide()
        self.addItem(self.outline, ignoreBounds=True)

    def _kind_for(self, ev: object) -> str | None:
        mods = ev.modifiers()  # type: ignore[attr-defined]
        if mods & Qt.KeyboardModifier.ShiftModifier:
            return "lasso"
        if mods & Qt.KeyboardModifier.ControlModifier:
            return "rect"
        return self.select_mode

    def mouseDragEvent(self, ev: object, axis: int | None = None) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:  # type: ignore[attr-defined]
            super().mouseDragEvent(ev, axis)
            return
        if ev.isStart():  # type: ignore[attr-defined]
            self._kind = self._kind_for(ev)
            self._points = [self.mapSceneToView(ev.buttonDownScenePos())]  # type: ignore[attr-defined]
        if self._kind is None:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()  # type: ignore[attr-defined]
        self._points.append(self.mapSceneToView(ev.scenePos()))  # type: ignore[attr-defined]
        poly = self._polygon()
        path = QPainterPath()
        path.addPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in poly]))
        path.closeSubpath()
        self.outline.setPath(path)
        self.outline.show()
        if ev.isFinish():  # type: ignore[attr-defined]
            # The outline stays until the selection is cleared or labeled: the user sees what was taken.
            self._kind = None
            if poly.shape[0] >= 3:
                self.selected.emit(poly)

    def _polygon(self) -> np.ndarray:
        pts = np.array([[p.x(), p.y()] for p in self._points], dtype=np.float64)
        if self._kind == "rect":
            (x0, y0), (x1, y1) = pts[0], pts[-1]
            return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        return simplify_path(pts, 256)

    def clear_outline(self) -> None:
        self.outline.hide()
        self.outline.setPath(QPainterPath())

    def outline_shown(self) -> bool:
        """Whether a lasso or rectangle outline is on the map (tests, screenshots)."""
        return self.outline.isVisible() and not self.outline.path().isEmpty()
