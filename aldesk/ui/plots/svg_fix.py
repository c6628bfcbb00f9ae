"""Work around pyqtgraph 0.14's SVG export on recent Qt: Qt now ends closed paths with a bare "Z", which
pyqtgraph's coordinate fix-up cannot parse ("not enough values to unpack"; pyqtgraph issue #3485), so
"Export… > SVG" from the plots' context menu failed. We hide the "Z" from the fix-up and put it back after.
"""

from __future__ import annotations

import importlib
from typing import Any

_PATCHED = "_aldesk_z_fix"


def install() -> None:
    """Wrap ``correctCoordinates`` of pyqtgraph's SVG exporter (idempotent; a no-op once upstream fixes it)."""
    mod = importlib.import_module("pyqtgraph.exporters.SVGExporter")
    orig = getattr(mod, "correctCoordinates", None)
    if orig is None or getattr(orig, _PATCHED, False):
        return

    def correct_coordinates(node: Any, defs: Any, item: Any, options: Any) -> Any:
        closed = []
        for path in node.getElementsByTagName("path"):
            d = path.getAttribute("d")
            tokens = d.split()
            if "Z" in tokens or "z" in tokens:
                path.setAttribute("d", " ".join(t for t in tokens if t not in ("Z", "z")))
                closed.append(path)
        result = orig(node, defs, item, options)
        for path in closed:
            path.setAttribute("d", path.getAttribute("d").rstrip() + " Z")
        return result

    setattr(correct_coordinates, _PATCHED, True)
    mod.correctCoordinates = correct_coordinates
