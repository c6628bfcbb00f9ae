"""The map's 2-D layout kept beside the graphs (one .npy, no pickle), so that after a rescan the next open places
the new items into the layout the user knows (:func:`aldesk.core.maps.projection.place_new`) instead of a new PCA
or UMAP that would move every point.

A layout is stored in item numbering, (N, 2) float32, NaN for the items the map does not show (not eligible).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aldesk.core.neighbours.store import _save, default_root


def _path(key: str, root: Path | None) -> Path:
    return ((root or default_root()) / key).with_suffix(".layout.npy")


def save_layout(key: str, pos: np.ndarray, items: np.ndarray, n: int, root: Path | None = None) -> bool:
    """Store the positions ``pos`` (len(items), 2) of ``items`` among ``n`` items; False when it cannot be written."""
    full = np.full((n, 2), np.nan, dtype=np.float32)
    full[np.asarray(items, dtype=np.int64)] = pos
    try:
        _path(key, root).parent.mkdir(parents=True, exist_ok=True)
        _save(_path(key, root), full)
    except OSError:
        return False
    return True


def load_layout(key: str, n: int, root: Path | None = None) -> np.ndarray | None:
    """The (n, 2) layout stored under ``key`` (NaN rows: not shown), or None when there is none that fits."""
    try:
        full = np.load(_path(key, root), allow_pickle=False)
    except (OSError, ValueError):
        return None
    if full.shape != (n, 2) or full.dtype != np.float32:
        return None
    return full
