"""The pixel block: an image's own grey pixels beside the CNN's features, for small grey images.

ImageNet features are weak on small grey items (digits, clothing silhouettes, scans): measured with
leave-one-out 10-NN on the whole pool, EfficientNet-Lite0 reaches 0.559 on scikit-learn's digits and 0.679 on
Fashion-MNIST (5,000), while the items' own 32 x 32 grey pixels reach 0.984 and 0.811. Both together, each half
of the vector (L2-normalised blocks, the pixels zero-mean per image), reach 0.986 and 0.823, and stay level with
the CNN on colour photos (LFW faces vs non-faces: 0.955 both; the pixels alone 0.935):
``packaging/models/pixel_block_eval.py`` reproduces the table. So aldesk appends the block when the data is
small and grey, judged from a sample of the items themselves (:func:`looks_small_grey`), never by a setting
the user must know: the bundled card ``efficientnet_lite0_px32`` is that model with the block.

Per image, not per pool: the vector of an item depends on its content only, so the embedding cache (keyed by
model and content) stays valid as items come and go.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

SMALL_SIDE = (
    64  # at most this many pixels on the long side counts as small (digits 8-64 px, Fashion-MNIST 28)
)
SAMPLE = 64  # images looked at to decide
GREY_TOLERANCE = 8  # channel values within this are grey (JPEG noise on a grey photo saved as RGB)
SHARE = 0.9  # this share of the sampled images must be small and grey


def pixel_block(img: Image.Image, side: int) -> np.ndarray:
    """The whole image (no crop) as ``side x side`` grey values, zero mean, unit norm (float32, side²)."""
    grey = img.convert("L").resize((side, side), Image.Resampling.BILINEAR)
    v = np.asarray(grey, dtype=np.float32).reshape(-1) / 255.0
    v -= v.mean()
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 1e-6 else v  # a flat image has no pattern: a zero block, not noise


def combine(model_vectors: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """[features, pixels] / sqrt(2): each half L2-normalised, the whole unit length (when the block is not 0)."""
    f = np.asarray(model_vectors, dtype=np.float32)
    f = f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)
    out = np.hstack([f, np.asarray(blocks, dtype=np.float32)]) / np.float32(np.sqrt(2.0))
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def _is_small_grey(path: Path) -> bool | None:
    """True/False for a readable image, None for one that cannot be read (it does not count)."""
    try:
        with Image.open(path) as img:
            if max(img.size) > SMALL_SIDE:
                return False
            if img.mode in ("L", "LA", "1", "I", "I;16", "F"):
                return True
            arr = np.asarray(img.convert("RGB"), dtype=np.int16)
    except Exception:  # noqa: BLE001 - any unreadable file is only not evidence
        return None
    spread = arr.max(axis=2) - arr.min(axis=2)
    return bool(np.percentile(spread, 99) <= GREY_TOLERANCE)


def looks_small_grey(paths: Iterable[Path]) -> bool:
    """Whether the images are small and grey: at least 90 % of an evenly spaced sample of up to 64 readable
    ones. Reads only those files (headers, and the pixels of small ones)."""
    paths = list(paths)
    if not paths:
        return False
    step = max(1, len(paths) // SAMPLE)
    verdicts = [v for v in (_is_small_grey(p) for p in paths[::step][:SAMPLE]) if v is not None]
    return bool(verdicts) and sum(verdicts) >= SHARE * len(verdicts)
