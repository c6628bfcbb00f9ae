"""The bundled encoders, end to end on real files and texts: shapes, norms, meaning, cache, bad files, cancel."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aldesk.core.dataset import Dataset
from aldesk.core.embed import EmbedResult, ModelCard, default_card, embed_dataset, load_card
from aldesk.core.progress import Cancelled, UserError

FASHION = Path("/usr/share/datasets/fashion-mnist")
CLASSES = (1, 7, 8)  # trouser, sneaker, bag: visually distinct
PER_CLASS = 5


def _fashion(n_per_class: int) -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(FASHION / "t10k-labels-idx1-ubyte.gz") as fh:
        labels = np.frombuffer(fh.read(), dtype=np.uint8, offset=8)
    with gzip.open(FASHION / "t10k-images-idx3-ubyte.gz") as fh:
        images = np.frombuffer(fh.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    picks = np.concatenate([np.flatnonzero(labels == c)[:n_per_class] for c in CLASSES])
    # Fashion-MNIST is white-on-black; invert to the dark-on-light look of product photos.
    return 255 - images[picks], labels[picks]


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], dict[str, int]]:
    if not FASHION.is_dir():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    root = tmp_path_factory.mktemp("images")
    images, labels = _fashion(PER_CLASS)
    classes: dict[str, int] = {}
    for k, (img, lab) in enumerate(zip(images, labels, strict=True)):
        name = f"fm/{lab}_{k:02d}.png"
        (root / "fm").mkdir(exist_ok=True)
        Image.fromarray(img).resize((112, 112), Image.Resampling.BILINEAR).save(root / name)
        classes[name] = int(lab)
    base = Image.fromarray(images[0]).resize((320, 240)).convert("RGB")
    base.save(root / "photo.jpg", quality=90)
    base.convert("CMYK").save(root / "cmyk.jpg")
    arr16 = np.asarray(base.convert("L"), dtype=np.uint16) * 257
    Image.fromarray(arr16).save(root / "gray16.png")
    base.convert("P", palette=Image.Palette.ADAPTIVE).save(root / "palette.png")
    rgba = base.convert("RGBA")
    rgba.putalpha(200)
    rgba.save(root / "rgba.png")
    base.convert("LA").save(root / "la.png")
    # EXIF orientation 6 (rotate 90° CW to display): stored sideways, so the pixels here are rotated back.
    exif = Image.Exif()
    exif[0x0112] = 6
    base.rotate(90, expand=True).save(root / "exif_rotated.jpg", exif=exif, quality=90)
    buf = io.BytesIO()
    base.save(buf, format="JPEG", quality=90)
    (root / "truncated.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    (root / "empty.jpg").write_bytes(b"")
    (root / "notes.png").write_text("this is not an image\n")
    keys = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return root, keys, classes


BAD = {"truncated.jpg", "empty.jpg", "notes.png", "missing.jpg"}


@pytest.fixture(scope="module")
def image_result(image_folder, tmp_path_factory) -> tuple[Dataset, EmbedResult, Path]:
    root, keys, _ = image_folder
    cache = tmp_path_factory.mktemp("cache")
    ds = Dataset("image", root, [*keys, "missing.jpg"])
    messages: list[tuple[float, str]] = []
    res = embed_dataset(ds, cache_dir=cache, progress=lambda f, m: messages.append((f, m)), batch_size=8)
    assert messages and messages[-1][0] == pytest.approx(1.0)
    assert messages[-1][1].startswith(f"Embedding {len(ds):,} / {len(ds):,} items")
    return ds, res, cache


def test_images_shapes_norms_and_bad_files(image_result) -> None:
    ds, res, _ = image_result
    assert res.vectors.shape == (len(ds), 1280) and res.vectors.dtype == np.float32
    assert res.model_id == default_card("image").id
    bad = {p.key: p.reason for p in res.failed}
    assert set(bad) == BAD
    assert "0 bytes" in bad["empty.jpg"] and "not found" in bad["missing.jpg"]
    assert "truncated" in bad["truncated.jpg"] and "not an image" in bad["notes.png"]
    for i, key in enumerate(ds.keys):
        norm = np.linalg.norm(res.vectors[i])
        assert res.ok[i] == (key not in BAD)
        assert norm == pytest.approx(1.0, abs=1e-4) if res.ok[i] else norm == 0.0
    assert len(res.hashes) == len(ds) and res.hashes[ds.keys.index("missing.jpg")] == ""


def test_colour_modes_and_exif_look_like_the_original(image_result) -> None:
    ds, res, _ = image_result
    v = dict(zip(ds.keys, res.vectors, strict=True))
    for name in ("cmyk.jpg", "gray16.png", "palette.png", "la.png", "exif_rotated.jpg"):
        assert float(v["photo.jpg"] @ v[name]) > 0.9, name
    # Upright vs. sideways: the EXIF-corrected file must match the upright one far better than raw pixels would.
    assert float(v["photo.jpg"] @ v["exif_rotated.jpg"]) > 0.97


def test_same_class_images_are_closer(image_folder, image_result) -> None:
    ds, res, _ = image_result
    _, _, classes = image_folder
    rows = [ds.keys.index(k) for k in classes]
    y = np.array([classes[k] for k in classes])
    sims = res.vectors[rows] @ res.vectors[rows].T
    same = (y[:, None] == y[None, :]) & ~np.eye(len(y), dtype=bool)
    diff = y[:, None] != y[None, :]
    assert sims[same].mean() > sims[diff].mean() + 0.05
    # Nearest neighbour (leave one out) gets the class right for nearly all.
    np.fill_diagonal(sims, -1)
    assert (y[sims.argmax(1)] == y).mean() >= 0.8


def test_second_run_comes_from_cache(image_result, monkeypatch) -> None:
    ds, first, cache = image_result
    from aldesk.core.embed import runtime

    calls = []
    real = runtime.pool
    monkeypatch.setattr(runtime, "pool", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = embed_dataset(ds, cache_dir=cache, batch_size=8)
    assert calls == [] and again.n_computed == 0 and again.n_cached > 0
    np.testing.assert_array_equal(again.vectors, first.vectors)
    np.testing.assert_array_equal(again.ok, first.ok)
    files = list((cache / "efficientnet-lite0-imagenet-pool1280-v1").glob("*.npy"))
    assert 2 <= len(files) <= 4  # shards, not one file per item


def test_duplicate_images_and_decompression_bomb(tmp_path, monkeypatch) -> None:
    img = Image.new("RGB", (60, 40), (200, 30, 30))
    img.save(tmp_path / "a.png")
    img.save(tmp_path / "b.png")
    Image.new("RGB", (120, 120), (10, 10, 10)).save(tmp_path / "big.png")
    # 120² > 2 × 5000: Pillow refuses it and we report it; 60×40 passes.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5000)
    ds = Dataset("image", tmp_path, ["a.png", "b.png", "big.png"])
    res = embed_dataset(ds, cache_dir=tmp_path / "cache")
    assert res.ok.tolist() == [True, True, False] and res.n_computed == 1
    assert res.hashes[0] == res.hashes[1]
    assert "too large" in res.failed[0].reason


TEXTS = [
    "The cat sat quietly on the warm windowsill.",
    "A kitten was resting on the sunny window ledge.",
    "Interest rates rose again, hitting bond markets hard.",
    "Central banks raised borrowing costs, and bond prices dropped.",
    "Add two cups of flour and stir until the batter is smooth.",
    "",
    "word " * 400,  # longer than max_length: truncated, still embedded
]


# Each bundled text card, with the margin its similarities keep: e5's cosines crowd into 0.7-0.95 (its training
# temperature), MiniLM's spread over 0-1, so the same ranking shows as a smaller gap.
TEXT_CARDS = {"minilm_l6_int8": 0.3, "e5_small_q4": 0.1}


@pytest.mark.parametrize("card_name", sorted(TEXT_CARDS))
def test_texts_meaning_order_and_cache(tmp_path, monkeypatch, card_name) -> None:
    from aldesk.core.embed.cards import resolve_card

    card, margin = resolve_card(card_name), TEXT_CARDS[card_name]
    ds = Dataset("text", tmp_path / "t.csv", TEXTS)
    res = embed_dataset(ds, card, cache_dir=tmp_path, batch_size=3)
    v = res.vectors
    assert v.shape == (len(TEXTS), 384) and res.ok.all() and not res.failed
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2] + margin and v[2] @ v[3] > v[2] @ v[4] + margin
    # Original order, whatever the length sort did: each text alone gives the same vector.
    alone = embed_dataset(
        Dataset("text", tmp_path, [TEXTS[4]]), card, cache_dir=tmp_path / "other", batch_size=1
    )
    np.testing.assert_allclose(alone.vectors[0], v[4], atol=2e-3)  # int8 kernels differ slightly per padding
    from aldesk.core.embed import runtime

    calls = []
    real = runtime.pool
    monkeypatch.setattr(runtime, "pool", lambda *a, **k: calls.append(1) or real(*a, **k))
    extra = [*TEXTS, "A brand new sentence about trains."]
    again = embed_dataset(Dataset("text", tmp_path, extra), card, cache_dir=tmp_path, batch_size=3)
    assert len(calls) == 1 and again.n_computed == 1 and again.n_cached == len(TEXTS)
    np.testing.assert_array_equal(again.vectors[: len(TEXTS)], v)


def test_cancel_raises_and_rerun_resumes(tmp_path, monkeypatch) -> None:
    texts = [f"Sentence number {k} about the weather in town {k % 7}." for k in range(40)]
    ds = Dataset("text", tmp_path, texts)
    seen: list[float] = []
    with pytest.raises(Cancelled):
        embed_dataset(
            ds,
            cache_dir=tmp_path,
            batch_size=8,
            progress=lambda f, m: seen.append(f),
            cancel=lambda: len(seen) >= 3,
        )
    # Progress came at the start and after batches 1 and 2; the cancel check after batch 3 stopped the run.
    assert seen == [0.0, 0.2, 0.4]
    res = embed_dataset(ds, cache_dir=tmp_path, batch_size=8)
    assert res.n_cached == 24 and res.n_computed == 16 and res.ok.all()


def test_card_errors_are_user_errors(tmp_path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_card(tmp_path / "nope.card.json")
    bad = tmp_path / "bad.card.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        load_card(bad)
    good = json.loads((default_card("image").source).read_text())
    for field, value in (("dim", None), ("kind", "audio"), ("onnx", "absent.onnx")):
        data = dict(good)
        if value is None:
            del data[field]
        else:
            data[field] = value
        bad.write_text(json.dumps(data))
        with pytest.raises(UserError):
            load_card(bad)
    # A valid copy elsewhere: the ONNX path may be absolute.
    data = dict(good, onnx=str(default_card("image").onnx), id="copy")
    bad.write_text(json.dumps(data))
    card = load_card(bad)
    assert isinstance(card, ModelCard) and card.id == "copy" and card.dim == 1280
    # Card/dataset mismatch, and a card whose dim disagrees with the model.
    with pytest.raises(UserError, match="embeds images"):
        embed_dataset(Dataset("text", tmp_path, ["hi"]), card, cache_dir=tmp_path)
    img = tmp_path / "i.png"
    Image.new("RGB", (50, 50)).save(img)
    bad.write_text(json.dumps(dict(data, dim=512)))
    with pytest.raises(UserError, match="512"):
        embed_dataset(Dataset("image", tmp_path, ["i.png"]), load_card(bad), cache_dir=tmp_path)


def test_import_is_light() -> None:
    code = (
        "import sys, aldesk.core.embed; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('onnxruntime', 'PySide6', 'pyqtgraph')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_image_cancel_keeps_finished_batches(image_folder, tmp_path) -> None:
    root, _, classes = image_folder
    ds = Dataset("image", root, sorted(classes))
    with pytest.raises(Cancelled):
        embed_dataset(ds, cache_dir=tmp_path, batch_size=4, cancel=lambda: True)
    res = embed_dataset(ds, cache_dir=tmp_path, batch_size=4)
    assert res.n_cached == 4 and res.n_computed == len(ds) - 4 and res.ok.all()


@pytest.mark.parametrize("kind", ["image", "text"])
def test_empty_dataset(kind, tmp_path) -> None:
    res = embed_dataset(Dataset(kind, tmp_path, []), cache_dir=tmp_path)
    assert res.vectors.shape == (0, default_card(kind).dim) and res.ok.shape == (0,) and res.failed == []
