"""The pixel block (aldesk/core/embed/pixels.py): what it computes, and when the data counts as small and grey."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aldesk.core.embed.pixels import combine, looks_small_grey, pixel_block

FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_the_block_is_zero_mean_unit_norm_and_a_flat_image_gives_zeros():
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 255, (28, 28), dtype=np.uint8))
    b = pixel_block(img, 32)
    assert b.shape == (1024,) and abs(float(b.mean())) < 1e-6 and abs(float(np.linalg.norm(b)) - 1) < 1e-5
    # the same picture saved as RGB is the same block (grey is grey, whatever the mode)
    assert np.allclose(pixel_block(img.convert("RGB"), 32), b, atol=1e-6)
    assert not pixel_block(Image.new("L", (20, 20), 128), 32).any()


def test_combine_gives_each_half_the_same_weight():
    f = np.array([[3.0, 4.0]], np.float32)
    p = np.array([[0.0, 1.0, 0.0]], np.float32)
    v = combine(f, p)
    assert v.shape == (1, 5)
    np.testing.assert_allclose(v, [[0.6 / np.sqrt(2), 0.8 / np.sqrt(2), 0, 1 / np.sqrt(2), 0]], atol=1e-6)


def _fashion(root: Path, n: int, mode: str) -> list[Path]:
    if not FASHION.is_dir():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    with gzip.open(FASHION / "t10k-images-idx3-ubyte.gz") as fh:
        imgs = np.frombuffer(fh.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)[:n]
    out = []
    for k, a in enumerate(imgs):
        p = root / f"{k}.png"
        Image.fromarray(a).convert(mode).save(p)
        out.append(p)
    return out


def test_small_grey_is_judged_from_the_files(tmp_path):
    grey = tmp_path / "grey"
    grey.mkdir()
    assert looks_small_grey(_fashion(grey, 40, "L"))
    rgb_grey = tmp_path / "rgb"
    rgb_grey.mkdir()
    assert looks_small_grey(_fashion(rgb_grey, 40, "RGB"))  # grey pictures stored as RGB are grey
    colour = tmp_path / "colour"
    colour.mkdir()
    rng = np.random.default_rng(1)
    paths = []
    for k in range(40):
        p = colour / f"{k}.png"
        Image.fromarray(rng.integers(0, 255, (28, 28, 3), dtype=np.uint8)).save(p)
        paths.append(p)
    assert not looks_small_grey(paths)
    big = tmp_path / "big"
    big.mkdir()
    paths = []
    for k in range(10):
        p = big / f"{k}.png"
        Image.new("L", (200, 150), k * 20).save(p)
        paths.append(p)
    assert not looks_small_grey(paths)
    # unreadable files are no evidence either way; no images at all is not small grey
    (grey / "notes.png").write_text("not an image")
    assert looks_small_grey([grey / "notes.png", *sorted(grey.glob("[0-9]*.png"))])
    assert not looks_small_grey([grey / "notes.png"])
    assert not looks_small_grey([])
