"""A window that fits (issue 13.6): on screens of 1366x768 and 1920x1080, with the Map open, 12 classes (two with
long names) and after 40 labels typed as keys, the window stays within the screen and its minimum width is
below the screen's; a geometry saved wider than the screen comes back clamped. Each size runs the real window in
a second process (tests/ui/fit_probe.py) whose offscreen screen has that size. Thumbnails: sharp at a device
pixel ratio of 2, smooth when a tiny image is enlarged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

import aldesk
from aldesk.ui.shell.thumbs import ThumbnailLoader, scaled

ROOT = Path(aldesk.__file__).parent.parent


def _probe(tmp_path: Path, width: int, height: int, dpr: float, kind: str) -> dict:
    r = subprocess.run(
        [sys.executable, "-m", "tests.ui.fit_probe", str(width), str(height), str(dpr), str(tmp_path), kind],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("width", "height", "dpr", "kind"),
    [
        (1366, 768, 1.0, "image"),
        (1920, 1080, 1.0, "image"),
        (1366, 768, 1.0, "text"),
        (1366, 768, 2.0, "image"),
    ],
)
def test_window_stays_within_the_screen(
    tmp_path: Path, width: int, height: int, dpr: float, kind: str
) -> None:
    out = _probe(tmp_path, width, height, dpr, kind)
    assert out["labeled"] == 40
    for phase in ("map_open", "after_40_labels", "restored"):
        got = out[phase]
        assert got["avail"] == [0, 0, width, height], phase
        assert got["inside"], (phase, got)  # frameGeometry() within availableGeometry()
        assert got["min_hint_width"] <= width, (phase, got)
    if kind == "image":
        # The strip's thumbnail and the large image carry the screen's ratio and its device pixels.
        assert out["thumb"]["dpr"] == dpr and out["thumb"]["device_side"] == round(96 * dpr)
        assert out["large"]["dpr"] == dpr


def test_a_tiny_image_is_enlarged_smoothly_not_in_hard_blocks(tmp_path: Path, qtbot) -> None:
    img = QImage(28, 28, QImage.Format.Format_RGB32)
    for y in range(28):
        for x in range(28):
            img.setPixelColor(x, y, QColor(Qt.GlobalColor.black if (x + y) % 2 else Qt.GlobalColor.white))
    big = scaled(img, 360)
    assert big.width() == 360
    greys = {big.pixelColor(x, 180).red() for x in range(360)}
    assert len(greys) > 10  # interpolated: many shades between black and white, not the two of the source
    path = tmp_path / "tiny.png"
    img.save(str(path))
    pm = ThumbnailLoader().load_now(path, 180, 2.0)
    assert pm is not None and pm.devicePixelRatio() == 2.0 and pm.width() == 360


def test_thirty_classes_keep_the_window_short_and_the_strip_whole(qtbot, make_window, tmp_path: Path) -> None:
    """One probability row per class made the why panel taller than a laptop screen; the window then squeezed the
    candidate strip to its top ~45 px, captions gone. Now the rows scroll and the strip keeps its height."""
    from aldesk.core import synthetic
    from aldesk.core.dataset import Dataset
    from aldesk.core.labeling.session import Session
    from aldesk.ui.labeling.controller import Workspace

    keys = []
    for i in range(40):
        img = QImage(28, 28, QImage.Format.Format_RGB32)
        img.fill(QColor.fromHsv(i * 9, 200, 200))
        img.save(str(tmp_path / f"{i}.png"))
        keys.append(f"{i}.png")
    X = synthetic.clustered(40, 16, 3, seed=2)[0]
    ws = Workspace(
        Dataset("image", tmp_path, keys), Session(X, [f"class {n}" for n in range(30)]), None, [], "t"
    )
    win = make_window()
    win.set_workspace(ws, density=False)
    qtbot.waitUntil(lambda: len(win.why.bars) == 30)  # the why panel has a row per class
    win.resize(780, 560)
    qtbot.wait(50)
    assert win.minimumSizeHint().height() <= 600
    assert win.height() <= 600
    strip = win.label_view.strip
    qtbot.waitUntil(lambda: strip.viewport().height() >= strip.gridSize().height())
    assert len(win.label_view.class_buttons) == 30
