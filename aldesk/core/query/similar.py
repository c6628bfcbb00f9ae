"""Similarity search: the items most like a query vector, by one mat-vec and an argpartition top-k.

Qt-free, no index: at 100k x 384 float32 the mat-vec reads 150 MB once (tens of ms), and an approximate index
would cost a build, memory and a dependency for a query the user makes a few times a minute
(``benchmarks/similarity.py``). Vectors are L2-normalised, so the dot product is the cosine similarity.
"""

from __future__ import annotations

import numpy as np


def top_k(
    X: np.ndarray, query: np.ndarray, k: int, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(items, similarities), the ``k`` rows of ``X`` most similar to ``query``, most similar first.

    ``mask`` (bool, one per row) limits the answer to the rows it marks (e.g. the unlabeled pool); fewer than
    ``k`` marked rows give fewer results. Ties keep the lower item first, so the answer is reproducible.
    """
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    if X.ndim != 2 or q.shape[0] != X.shape[1]:
        raise ValueError(
            f"the query has {q.shape[0]} values, the vectors {X.shape[1] if X.ndim == 2 else '?'}"
        )
    sims = np.asarray(X @ q, dtype=np.float32)  # the one mat-vec
    if mask is not None:
        sims[~np.asarray(mask, dtype=bool)] = -np.inf
        k = min(k, int(np.count_nonzero(mask)))
    k = min(int(k), sims.shape[0])
    if k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    top = np.argpartition(-sims, k - 1)[:k] if k < sims.shape[0] else np.arange(sims.shape[0])
    # Most similar first; equal similarities by item number (lexsort: last key is the primary one).
    top = top[np.lexsort((top, -sims[top]))]
    return top.astype(np.int64), sims[top]
