"""A ScatterPlotItem for points that all share one style: O(1) Python work per ``setData``, not O(points).

pyqtgraph 0.13/0.14 computes a style key per point (a Python list comprehension) on every ``setData`` to find
each point's symbol in its atlas: ~2.5 us a point, 0.25-0.5 s at 100k, i.e. after every label on the map. When
every point has the same symbol, size, pen and brush, one atlas lookup serves them all, broadcast with numpy.
This leans on pyqtgraph internals (``fragmentAtlas``, the ``sourceRect`` field); if they change, it falls back
to pyqtgraph's own path (slower, same picture), and a test compares the rendered pixels of both.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

_STYLE = ["symbol", "size", "pen", "brush"]


class UniformScatter(pg.ScatterPlotItem):
    """Use only with one shared style: ``setData(x=, y=, brush=one_brush, size=one_size)``."""

    def updateSpots(self, dataSet: np.ndarray | None = None) -> None:
        data = self.data if dataSet is None else dataSet
        try:
            if not (self.opts["pxMode"] and self.opts["useCache"]) or len(data) == 0:
                raise LookupError("no atlas in use")
            mask = data["sourceRect"]["w"] == 0
            if mask.any():
                first = np.flatnonzero(mask)[:1]
                style = list(zip(*self._style(_STYLE, data=data, idx=first), strict=True))
                data["sourceRect"][mask] = self.fragmentAtlas[style][0]
                self._maybeRebuildAtlas()
                self._updateMaxSpotSizes(data=data)
                self.invalidate()
            else:
                self._updateMaxSpotSizes(data=data)
        except (LookupError, AttributeError, TypeError, ValueError):
            super().updateSpots(dataSet)
