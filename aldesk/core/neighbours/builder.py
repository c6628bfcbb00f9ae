"""The whole-pool k-NN graph (exact in blocks below ``EXACT_DENSITY_MAX_N`` items, pynndescent above) and the
densities read from it. Its store on disk is :mod:`.store`.
"""

from __future__ import annotations

import numpy as np

from aldesk.core.progress import CancelFn, ProgressFn, check

# "eer" (expected error reduction, knn.expected_error_reduction) needs the k-NN's state and the whole-pool graph,
# not only the probabilities: callers compute it and pass it to score(). Without a graph it falls back to
# uncertainty, which is its own first term.
DENSITIES = ("knn", "global")

# Below this many items the whole-pool k-NN graph is computed exactly with chunked numpy; above it pynndescent
# (approximate: recall 0.58 at 80k on clustered data; pays ~30-45 s of numba JIT per process). With the block-max
# top-k (6.5x faster than argpartition on a 2048 x 20k chunk, same run), exact costs ~2 mat-muls and stays
# below pynndescent's first call up to ~60k items (benchmarks/README.md, density rows).
EXACT_DENSITY_MAX_N = 60_000

DENSITY_K = 10


def global_density(X: np.ndarray) -> np.ndarray:
    """Mean cosine similarity to all items, x . mean(X): exact in O(N d)."""
    return (X @ X.mean(axis=0)).astype(np.float32)


def knn_graph(
    X: np.ndarray,
    k: int = DENSITY_K,
    *,
    method: str = "auto",
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    chunk: int = 2048,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The k most similar OTHER items of every item: (indices (N, k) int64, similarities (N, k) float32).

    ``method`` is "exact" (chunked numpy), "nndescent" (pynndescent, approximate) or "auto" (exact up to
    EXACT_DENSITY_MAX_N items).
    """
    n = X.shape[0]
    k = max(1, min(k, n - 1))
    if method == "auto":
        method = "exact" if n <= EXACT_DENSITY_MAX_N else "nndescent"
    if method == "exact":
        idx = np.empty((n, k), dtype=np.int64)
        sims = np.empty((n, k), dtype=np.float32)
        for start in range(0, n, chunk):
            check(cancel)
            stop = min(n, start + chunk)
            S = X[start:stop] @ X.T
            S[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # not its own neighbour
            top = _top_k_rows(S, k)
            idx[start:stop] = top
            sims[start:stop] = np.take_along_axis(S, top, axis=1)
            if progress is not None:
                progress(stop / n, f"Density: {stop:,} / {n:,} items")
        return idx, sims
    if method == "nndescent":
        from pynndescent import NNDescent  # lazy: numba JIT costs tens of seconds

        if progress is not None:
            progress(0.0, "Density: building the neighbour graph (approximate)…")
        index = NNDescent(X, n_neighbors=k + 1, metric="dot", random_state=seed, low_memory=True)
        check(cancel)
        nbr, dist = index.neighbor_graph
        # Drop each item itself (usually column 0, but not guaranteed with duplicates).
        own = nbr == np.arange(n)[:, None]
        keep = ~own
        keep[keep.sum(axis=1) > k, -1] = False  # rows where self was absent: drop the farthest instead
        nbr = nbr[keep].reshape(n, k)
        sims = (1.0 - dist[keep]).reshape(n, k).astype(np.float32)
        if progress is not None:
            progress(1.0, "Density: done")
        return nbr.astype(np.int64), sims
    raise ValueError(f"unknown k-NN graph method {method!r}")


def _top_k_rows(S: np.ndarray, k: int, block: int = 64) -> np.ndarray:
    """Column indices of each row's k largest values (unordered), exact.

    argpartition over every element dominated the exact graph (~3x the mat-mul). The k-th largest of the
    per-block maxima is a lower bound of each row's k-th largest value, so only the few values at or above it
    need ordering: one cheap max-reduction, then a sort of ~k x (a few) candidates per row.
    """
    rows, n = S.shape
    nb = n // block
    if nb < 2 * k:  # too few blocks for the bound to prune anything
        return np.argpartition(-S, k - 1, axis=1)[:, :k]
    bmax = S[:, : nb * block].reshape(rows, nb, block).max(axis=2)
    if nb * block < n:
        bmax = np.concatenate([bmax, S[:, nb * block :].max(axis=1, keepdims=True)], axis=1)
    thresh = -np.partition(-bmax, k - 1, axis=1)[:, k - 1]
    r, c = np.nonzero(thresh[:, None] <= S)
    v = S[r, c]
    order = np.lexsort((-v, r))  # by row, then by value descending
    r, c = r[order], c[order]
    starts = np.searchsorted(r, np.arange(rows))
    pick = starts[:, None] + np.arange(k)  # every row has >= k candidates (k blocks reach the bound)
    return c[pick]


def knn_density(X: np.ndarray, k: int = DENSITY_K, **kwargs) -> np.ndarray:
    """Typicality: mean similarity to the item's k nearest neighbours (TypiClust-like)."""
    _, sims = knn_graph(X, k, **kwargs)
    return sims.mean(axis=1).astype(np.float32)
