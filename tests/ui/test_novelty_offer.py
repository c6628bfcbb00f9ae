"""After a rescan brings in items of a kind nobody labeled (real Fashion-MNIST images, real ONNX), the window
shows the new group's most typical item and offers a new class, once per rescan."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aldesk.core.project import Project
from aldesk.core.project.rescan import apply, plan_rescan
from tests.ui.helpers import wait_open

FASHION = Path("/usr/share/datasets/fashion-mnist")


def _save(root: Path, cls: int, n: int) -> None:
    with gzip.open(FASHION / "t10k-labels-idx1-ubyte.gz") as fh:
        labels = np.frombuffer(fh.read(), dtype=np.uint8, offset=8)
    with gzip.open(FASHION / "t10k-images-idx3-ubyte.gz") as fh:
        images = np.frombuffer(fh.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    for k, i in enumerate(np.flatnonzero(labels == cls)[:n]):
        Image.fromarray(255 - images[i]).save(root / f"c{cls}_{k:02d}.png")


def test_new_items_of_an_unlabeled_kind_are_offered_as_a_new_class(
    qtbot, make_window, tmp_path: Path
) -> None:
    if not FASHION.is_dir():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    root = tmp_path / "photos"
    root.mkdir()
    _save(root, 7, 15)  # sneakers
    _save(root, 8, 15)  # bags
    path = tmp_path / "photos.aldesk"
    win = make_window()
    win.opener.cache_dir = tmp_path / "cache"
    win.open_path(root, path, ["sneaker", "bag"])
    wait_open(qtbot, win)
    s = win.ctl.session
    for i, key in enumerate(win.ws.dataset.keys[:30]):
        if key.startswith(("c7_00", "c7_01", "c8_00", "c8_01")):
            win.ctl.label(i, "sneaker" if key.startswith("c7") else "bag")
    assert s.n_labeled == 4
    win.close_workspace()
    _save(root, 1, 15)  # trousers arrive: nobody has labeled one
    with Project.open(path) as p:
        report = apply(p, plan_rescan(p))
    assert len(report.added) == 15
    win.open_path(path)
    wait_open(qtbot, win)
    qtbot.waitUntil(lambda: win.ctl.session.graph is not None, timeout=120_000)
    qtbot.waitUntil(lambda: getattr(win, "novelty_box", None) is not None, timeout=10_000)
    box = win.novelty_box
    assert "new class" in box.text() and box.isVisible()
    keys = win.ws.dataset.keys
    assert keys[win.ctl.current].startswith("c1_")  # its most typical item is on screen
    box.close()
    win.close_workspace()
    win.open_path(path)  # asked once per rescan
    wait_open(qtbot, win)
    qtbot.waitUntil(lambda: win.ctl.session.graph is not None, timeout=120_000)
    qtbot.wait(200)
    assert win.novelty_box is None
