"""The application layer: what the window (``aldesk.ui``) and the terminal (``aldesk.cli``) both do.

One default project path, the demo's paths, the typed project settings and ``open_workspace`` (load or create ->
embed -> session with the saved settings) live here once, so the CLI and the window cannot disagree. No Qt and no
pyqtgraph here (tests/app/test_app_qt_free.py); heavy modules (onnxruntime, numba) are imported inside functions.
Class lists are read by :func:`aldesk.core.names.parse_class_list` (re-exported here).
"""

from __future__ import annotations

from aldesk.core.names import parse_class_list

__all__ = ["parse_class_list"]
