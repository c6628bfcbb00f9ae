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


def test_small_grey_images_get_the_pixel_card_and_its_vectors_are_features_plus_pixels(tmp_path):
    """Real ONNX inference: a folder of Fashion-MNIST items is judged small and grey, so a new project takes the
    bundled px32 card; each vector is the plain card's vector and the item's own pixel block, half and half."""
    from aldesk.core.dataset import Dataset
    from aldesk.core.embed import default_card, embed_dataset
    from aldesk.core.embed.choose import SMALL_GREY_CARD, choose_card

    root = tmp_path / "fm"
    root.mkdir()
    paths = _fashion(root, 12, "L")
    ds = Dataset("image", root, sorted(p.name for p in paths))
    card = choose_card(ds)
    assert card.id == SMALL_GREY_CARD and card.pixels == 32 and card.dim == 1280 + 1024
    plain = default_card("image")
    assert plain.pixels == 0 and plain.id != card.id and plain.fingerprint != card.fingerprint
    got = embed_dataset(ds, card, cache_dir=tmp_path / "cache")
    base = embed_dataset(ds, plain, cache_dir=tmp_path / "cache")
    assert got.ok.all() and got.vectors.shape == (12, 2304)
    np.testing.assert_allclose(np.linalg.norm(got.vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(got.vectors[:, :1280] * np.sqrt(2), base.vectors, atol=1e-5)
    for i, key in enumerate(ds.keys):
        block = pixel_block(Image.open(root / key).convert("RGB"), 32)
        np.testing.assert_allclose(got.vectors[i, 1280:] * np.sqrt(2), block, atol=1e-5)
    # colour photos keep the plain card
    colour = tmp_path / "colour"
    colour.mkdir()
    rng = np.random.default_rng(2)
    for k in range(6):
        Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(colour / f"{k}.jpg")
    assert choose_card(Dataset("image", colour, sorted(p.name for p in colour.iterdir()))).id == plain.id


def test_a_project_keeps_the_card_it_was_made_with(tmp_path):
    """A project made (before this card existed) with the plain card reopens with it, small grey data or not: the
    choice is made once, at creation."""
    from aldesk.app.workspace import card_for, create_project
    from aldesk.core.embed import default_card
    from aldesk.core.embed.choose import SMALL_GREY_CARD
    from aldesk.core.project import Project
    from aldesk.core.sources import load_source

    root = tmp_path / "fm"
    root.mkdir()
    _fashion(root, 8, "L")
    ds = load_source(root)
    new = create_project(tmp_path / "new.aldesk", ds, ["a"]).project
    assert new.model_id == SMALL_GREY_CARD and card_for(new).id == SMALL_GREY_CARD
    new.close()
    Project.create(tmp_path / "old.aldesk", ds, ["a"], model_id=default_card("image").id).close()
    with Project.open(tmp_path / "old.aldesk", readonly=True) as old:
        assert card_for(old).id == default_card("image").id
