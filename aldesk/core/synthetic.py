"""Synthetic embeddings with a known class: the one generator the tests and the benchmarks share.

L2-normalised vectors scattered around random centres (``spread`` times standard normal noise per dimension), with
the centre index as the true class. Written in row chunks, in float32, so a 1M x 384 set needs no float64 N x d
temporary. Deterministic in ``seed``.
"""

from __future__ import annotations

import numpy as np

CHUNK = 65_536


def clustered(
    n: int, d: int = 384, n_clusters: int = 20, *, spread: float = 0.6, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): ``n`` unit vectors of dimension ``d`` (float32) and their cluster (int64, 0..n_clusters-1)."""
    if n < 0 or d < 1 or n_clusters < 1:
        raise ValueError(f"clustered: need n >= 0, d >= 1, n_clusters >= 1 (got {n}, {d}, {n_clusters})")
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, d)).astype(np.float32)
    y = rng.integers(n_clusters, size=n)
    X = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, CHUNK):
        sl = slice(start, min(n, start + CHUNK))
        X[sl] = centres[y[sl]] + np.float32(spread) * rng.standard_normal(
            size=(sl.stop - sl.start, d), dtype=np.float32
        )
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, y
