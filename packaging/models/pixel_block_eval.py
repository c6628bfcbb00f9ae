"""Does the pixel block help? Leave-one-out 10-NN accuracy on the whole pool, for EfficientNet-Lite0 features,
the items' own 32 x 32 grey pixels (zero mean, unit norm per image), and both (aldesk/core/embed/pixels.py).

    python packaging/models/pixel_block_eval.py [--eval /tmp/aldesk-eval] [sets ...]

Sets (folders of class sub-folders) from ``python packaging/demo/make_demo.py --eval-out /tmp/aldesk-eval``:
digits (scikit-learn, 8x8 upscaled), fmnist_5000 (Fashion-MNIST, 28 px), lfw_subset (colour faces vs
non-faces). Cosine similarity, similarity-weighted vote of the 10 nearest other items; the spread is the standard
deviation over 16 draws of half the pool. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from aldesk.core.embed import default_card, embed_dataset
from aldesk.core.embed.pixels import combine, pixel_block
from aldesk.core.sources import load_source


def loo_accuracy(X: np.ndarray, y: np.ndarray, k: int = 10) -> float:
    S = X @ X.T
    np.fill_diagonal(S, -np.inf)
    nb = np.argpartition(-S, k, axis=1)[:, :k]
    w = np.maximum(np.take_along_axis(S, nb, axis=1), 0)
    classes = np.unique(y)
    votes = np.stack([((y[nb] == c) * w).sum(1) for c in classes], axis=1)
    return float((classes[votes.argmax(1)] == y).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval", type=Path, default=Path("/tmp/aldesk-eval"))
    ap.add_argument("sets", nargs="*", default=["digits", "fmnist_5000", "lfw_subset"])
    args = ap.parse_args()
    out = {}
    for name in args.sets:
        ds = load_source(args.eval / name)
        res = embed_dataset(ds, default_card("image"))
        ok = np.flatnonzero(res.ok)
        y = np.asarray(ds.known_labels, dtype=object)[ok].astype(str)
        feats = res.vectors[ok]
        blocks = np.stack([pixel_block(Image.open(ds.safe_path(i)), 32) for i in ok])
        rng = np.random.default_rng(0)
        row = {"items": int(ok.size)}
        for label, X in (("lite0", feats), ("pixels", blocks), ("lite0+pixels", combine(feats, blocks))):
            X = np.ascontiguousarray(X, dtype=np.float32)
            halves = []
            for _ in range(16):
                pick = rng.choice(ok.size, ok.size // 2, replace=False)
                halves.append(loo_accuracy(X[pick], y[pick]))
            row[label] = {
                "whole_pool": round(loo_accuracy(X, y), 3),
                "half_pool_sd": round(float(np.std(halves)), 3),
            }
        out[name] = row
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
