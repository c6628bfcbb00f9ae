"""After a rescan appends items, the next open grows the stored whole-pool graph by the new rows (no rebuild), and
the grown graph equals a graph built from scratch (real Fashion-MNIST images, real ONNX, a real rescan)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aldesk.app import workspace as app_ws
from aldesk.core.neighbours import builder
from aldesk.core.project import Project
from aldesk.core.project.rescan import apply, plan_rescan

FASHION = Path("/usr/share/datasets/fashion-mnist")


def _save(root: Path, start: int, n: int) -> None:
    with gzip.open(FASHION / "t10k-images-idx3-ubyte.gz") as fh:
        images = np.frombuffer(fh.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    for k in range(start, start + n):
        Image.fromarray(255 - images[k]).save(root / f"fm_{k:03d}.png")


def test_the_graph_grows_after_a_rescan_and_equals_a_rebuild(tmp_path: Path, monkeypatch) -> None:
    if not FASHION.is_dir():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    root = tmp_path / "photos"
    root.mkdir()
    _save(root, 0, 60)
    path, cache = tmp_path / "photos.aldesk", tmp_path / "cache"
    graphs = app_ws.graph_root(cache)
    ws = app_ws.open_workspace(root, project_file=path, classes=["a", "b"], cache_dir=cache)
    first = app_ws.density_graph(ws.session.X, ws.session.eligible, ws.vectors_key, root=graphs)
    ws.project.set_setting(
        app_ws.GRAPH_KEY_SETTING, ws.vectors_key
    )  # as the window does once the graph is in
    ws.project.set_setting(app_ws.GRAPH_ITEMS_SETTING, len(ws.session.eligible))
    assert first.indices.shape == (60, builder.DENSITY_K)
    ws.close()
    _save(root, 60, 15)  # new files in the folder
    with Project.open(path) as p:
        assert len(apply(p, plan_rescan(p)).added) == 15
    ws = app_ws.open_workspace(path, cache_dir=cache)
    try:
        last_key = ws.project.get_setting(app_ws.GRAPH_KEY_SETTING)
        last_items = ws.project.get_setting(app_ws.GRAPH_ITEMS_SETTING)
        built = []
        real = builder.knn_graph
        monkeypatch.setattr(builder, "knn_graph", lambda *a, **k: built.append(1) or real(*a, **k))
        grown = app_ws.density_graph(
            ws.session.X,
            ws.session.eligible,
            ws.vectors_key,
            last_key=last_key,
            last_items=last_items,
            root=graphs,
        )
        assert built == [], "the whole pool was rebuilt"
        assert grown.indices.shape == (75, builder.DENSITY_K)
        idx, sims = real(ws.session.X, builder.DENSITY_K, method="exact")
        np.testing.assert_allclose(np.sort(grown.similarities, axis=1), np.sort(sims, axis=1), atol=1e-5)
        # and the grown graph is stored under the new key: the open after this one loads it
        again = app_ws.density_graph(ws.session.X, ws.session.eligible, ws.vectors_key, root=graphs)
        assert built == [] and np.array_equal(again.indices, grown.indices)
    finally:
        ws.close()
