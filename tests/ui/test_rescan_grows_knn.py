"""File › Rescan in the open window (real Fashion-MNIST images, real ONNX, real files added to the folder): the
reopened session's k-NN state grows from the slots stored at the close by the new rows only, and equals a rebuild
(same slots, same probabilities); the map keeps its layout (the old points where they were) and places the new
items among their neighbours, without a new PCA."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aldesk.core.maps import projection
from aldesk.core.model.knn import IncrementalKNN
from aldesk.ui.plots import map_panel
from tests.ui.helpers import wait_open, wait_plots

FASHION = Path("/usr/share/datasets/fashion-mnist")


def _save(root: Path, start: int, n: int) -> None:
    with gzip.open(FASHION / "t10k-images-idx3-ubyte.gz") as fh:
        images = np.frombuffer(fh.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    for k in range(start, start + n):
        Image.fromarray(255 - images[k]).save(root / f"fm_{k:03d}.png")


def test_file_rescan_grows_the_knn_state_and_it_equals_a_rebuild(
    qtbot, make_window, tmp_path: Path, monkeypatch
) -> None:
    if not FASHION.is_dir():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    root = tmp_path / "photos"
    root.mkdir()
    _save(root, 0, 40)
    win = make_window()
    win.opener.cache_dir = tmp_path / "cache"
    win.open_path(root, tmp_path / "photos.aldesk", ["top", "shoe", "bag"])
    wait_open(qtbot, win)
    for i in range(14):  # more labels than k, so the close stores the slots
        win.ctl.label(i, ("top", "shoe", "bag")[i % 3])
    assert win.ctl.session.n_labeled == 14
    dock = wait_plots(qtbot, win)
    dock.map.auto_umap = False  # UMAP's JIT takes 30-45 s: the PCA layout is the one the user knows here
    dock.tabs.setCurrentWidget(dock.map)
    qtbot.waitUntil(lambda: dock.map.projection == "pca", timeout=60_000)
    before = dock.map.plot.pos[np.argsort(dock.map.plot.items)].copy()
    _save(root, 40, 12)  # new files arrive in the folder
    pcas: list[int] = []
    real_pca = projection.pca_2d
    monkeypatch.setattr(map_panel, "pca_2d", lambda X: pcas.append(len(X)) or real_pca(X))

    rows: list[int] = []  # rows whose slots were computed against the labeled items
    real = IncrementalKNN._recompute
    monkeypatch.setattr(IncrementalKNN, "_recompute", lambda self, r: rows.append(len(r)) or real(self, r))
    win.rescan_project()  # File › Rescan: close (slots stored), rescan, reopen
    qtbot.waitUntil(lambda: win.ws is not None and len(win.ws.session.eligible) == 52, timeout=180_000)
    wait_open(qtbot, win)
    s = win.ctl.session
    assert s.n_labeled == 14
    assert rows == [12], f"the k-NN was rebuilt instead of grown: rows computed {rows}"

    rebuilt = IncrementalKNN(s.X, s.k)
    rebuilt.add_many(s.labeled_items(), s.label_index(s.labeled_items()))
    labeled, nbr, sim = s.neighbour_slots()
    np.testing.assert_array_equal(np.sort(nbr, axis=1), np.sort(rebuilt.nbr, axis=1))
    # the old rows' similarities come from the labels' one-by-one mat-vecs, a rebuild's from one block mat-mul:
    # float32 rounding apart (measured 1.4e-6), the same neighbours and the same votes
    np.testing.assert_allclose(np.sort(sim, axis=1), np.sort(rebuilt.sim, axis=1), atol=1e-5)
    np.testing.assert_allclose(s.probabilities(), rebuilt.probabilities(len(s.classes)), atol=1e-4)

    dock = wait_plots(qtbot, win)
    dock.tabs.setCurrentWidget(dock.map)
    # a PCA may show while the graph is not in yet; then the kept layout, grown, replaces it
    qtbot.waitUntil(lambda: dock.map._growing is None and dock.map.plot.items.size == 52, timeout=120_000)
    assert dock.map.projection == "pca" and len(pcas) <= 1
    pos = dock.map.plot.pos[np.argsort(dock.map.plot.items)]
    np.testing.assert_array_equal(
        pos[:40], before
    )  # the points the user knows did not move (a new PCA moves them)
    assert np.isfinite(pos[40:]).all()
    lo, hi = before.min(axis=0), before.max(axis=0)
    assert ((pos[40:] >= lo - 0.1 * (hi - lo)) & (pos[40:] <= hi + 0.1 * (hi - lo))).all()
    assert (s.probabilities().argmax(axis=1) == rebuilt.probabilities(len(s.classes)).argmax(axis=1)).all()
