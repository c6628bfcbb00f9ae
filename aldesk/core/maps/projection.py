"""2-D maps of the embeddings (PCA at once, UMAP in the background) and the geometry the map's selection needs.

Qt-free. PCA fits its axes on a sample (eigenvectors of a d x d matrix: well under a second) and projects every item with
one mat-mul, so the map appears as soon as a project opens. UMAP shows clusters far better but needs numba's JIT
(~30-45 s in every new process) and minutes at 100k items: the UI runs :func:`umap_2d` in its task runner and
swaps the result in when it is ready. At large N UMAP is fitted on a sample and the rest is placed with
``transform`` (chunked, so progress and cancel work).
"""

from __future__ import annotations

import numpy as np

from aldesk.core.progress import CancelFn, ProgressFn, check

PCA_SAMPLE = 20_000
UMAP_FIT_MAX = 20_000
TRANSFORM_CHUNK = 5_000


def _scale(Y: np.ndarray) -> np.ndarray:
    """Centre on the median and scale so the bulk spans about [-1, 1] (robust to a few far outliers)."""
    Y = np.asarray(Y, dtype=np.float32)
    if Y.shape[0] == 0:
        return Y.reshape(0, 2)
    Y = Y - np.median(Y, axis=0)
    spread = np.percentile(np.abs(Y), 99, axis=0)
    spread[spread <= 0] = 1.0
    return (Y / spread).astype(np.float32)


def pca_2d(X: np.ndarray, sample: int = PCA_SAMPLE, seed: int = 0) -> np.ndarray:
    """(N, 2) float32: the first two principal components of ``X``, axes fitted on at most ``sample`` rows."""
    X = np.asarray(X, dtype=np.float32)
    n = X.shape[0]
    if n == 0:
        return np.zeros((0, 2), np.float32)
    rows = np.random.default_rng(seed).choice(n, sample, replace=False) if n > sample else np.arange(n)
    S = X[rows]
    mean = S.mean(axis=0)
    if n < 3:
        Y = np.zeros((n, 2), np.float32)
        Y[:, 0] = np.arange(n)
        return _scale(Y)
    axes = _top_axes(S - mean, 2)
    if axes.shape[1] < 2:  # 1-d data: the second coordinate is 0
        axes = np.pad(axes, ((0, 0), (0, 2 - axes.shape[1])))
    # Fix the sign so that the same data always gives the same picture (eigenvector signs are arbitrary).
    signs = np.sign(axes[np.abs(axes).argmax(axis=0), [0, 1]]).astype(np.float32)
    signs[signs == 0] = 1
    Y = (X - mean) @ (axes * signs)
    return _scale(Y)


def _top_axes(C: np.ndarray, k: int) -> np.ndarray:
    """(d, k) float32: the top ``k`` principal axes of the centred rows ``C`` (n x d), by the cheapest exact route.

    Eigenvectors of the smaller of the two Gram matrices: C.T @ C (d x d) when n >= d, else C @ C.T (n x n), whose
    eigenvectors u give the axes as C.T @ u. Never an SVD of C, which also computes factors nobody needs (measured:
    33 s vs 0.2 s for 20k x 384 on 2 busy cores), and never the d x d route for few rows of wide vectors: the
    1280-d image embeddings made a 1280 x 1280 eigh of 1-4 s for the 300-image demo, where the 300 x 300 one takes
    milliseconds.
    """
    n, d = C.shape
    if n >= d:
        w, v = np.linalg.eigh((C.T @ C).astype(np.float64))
        return v[:, np.argsort(w)[::-1][:k]].astype(np.float32)
    G = (C @ C.T).astype(np.float64)
    w, u = np.linalg.eigh(G)
    top = np.argsort(w)[::-1][:k]
    axes = C.T.astype(np.float64) @ u[:, top]
    norms = np.linalg.norm(axes, axis=0)
    norms[norms == 0] = 1.0
    return (axes / norms).astype(np.float32)


def umap_2d(
    X: np.ndarray,
    *,
    n_neighbors: int = 15,
    fit_max: int = UMAP_FIT_MAX,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> np.ndarray:
    """(N, 2) float32 UMAP layout (cosine metric). Slow and JIT-compiled: call it from a background task.

    Cancel is honoured between steps (the fit itself cannot be interrupted; a superseded result is dropped).
    """
    report = progress or (lambda f, m: None)
    X = np.ascontiguousarray(X, dtype=np.float32)
    n = X.shape[0]
    if n < 4:
        return pca_2d(X)
    report(0.0, "UMAP: loading numba (the first run compiles for ~30-45 s)…")
    check(cancel)
    import umap

    check(cancel)
    rng = np.random.default_rng(seed)
    fit_rows = np.sort(rng.choice(n, fit_max, replace=False)) if n > fit_max else np.arange(n)
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=min(n_neighbors, fit_rows.size - 1),
        metric="cosine",
        random_state=seed,
        low_memory=True,
        n_jobs=1,
    )
    report(0.05, f"UMAP: fitting {fit_rows.size:,} items…")
    # random_state makes UMAP single-threaded anyway; n_jobs=1 says so and silences its warning.
    Y = np.zeros((n, 2), dtype=np.float32)
    Y[fit_rows] = reducer.fit_transform(X[fit_rows])
    check(cancel)
    rest = np.setdiff1d(np.arange(n), fit_rows, assume_unique=True)
    for start in range(0, rest.size, TRANSFORM_CHUNK):
        check(cancel)
        chunk = rest[start : start + TRANSFORM_CHUNK]
        report(0.6 + 0.4 * start / rest.size, f"UMAP: placing {start:,} / {rest.size:,} more items…")
        Y[chunk] = reducer.transform(X[chunk])
    report(1.0, "UMAP ready")
    return _scale(Y)


def place_new(
    Y_old: np.ndarray, nbr_new: np.ndarray, sim_new: np.ndarray, *, iterations: int = 20, seed: int = 0
) -> np.ndarray:
    """(N + M, 2): the old layout with M new items placed among their neighbours, no refit.

    ``nbr_new``/``sim_new`` (M, k) are the new items' rows of the grown whole-pool graph (item numbering: old
    items 0..N-1, new ones N..N+M-1; -inf similarity = no neighbour). A new item sits at the similarity-weighted
    mean of its neighbours' positions; neighbours that are new themselves are placed by the same rule, iterated
    (old positions stay fixed), so a group of new items that only resemble each other stays together instead of
    being pulled onto the old item it is least unlike. A UMAP refit would move every old point the user knows.
    """
    Y_old = np.asarray(Y_old, dtype=np.float32)
    n, m = Y_old.shape[0], nbr_new.shape[0]
    Y = np.concatenate([Y_old, np.zeros((m, 2), np.float32)])
    if m == 0:
        return Y
    valid = np.isfinite(sim_new) & (nbr_new >= 0) & (nbr_new != np.arange(n, n + m)[:, None])
    # the k-NN's kernel, float32 like the layout: the 20 steps below are the cost
    w = np.where(valid, np.exp((np.where(valid, sim_new, 0.0).astype(np.float32) - 1.0) / 0.1), 0.0).astype(
        np.float32
    )
    safe = np.where(valid, nbr_new, 0)
    is_old = valid & (safe < n)
    # start: old neighbours' weighted mean; items with none start at the layout's centre
    w_old = np.where(is_old, w, 0.0)
    tot_old = w_old.sum(axis=1)
    start = np.einsum("mk,mkd->md", w_old, Y[safe]) / np.where(tot_old > 0, tot_old, 1.0)[:, None]
    start[tot_old <= 0] = np.median(Y_old, axis=0) if n else 0.0
    Y[n:] = start
    tot = w.sum(axis=1)
    has = tot > 0
    w_norm = w / np.where(has, tot, 1.0)[:, None]
    for _ in range(iterations if (valid & ~is_old).any() else 0):
        Y[n:] = np.where(has[:, None], np.einsum("mk,mkd->md", w_norm, Y[safe]), Y[n:])
    # a small spread, so that items with the same neighbours do not hide each other
    spread = 0.01 * (float(np.percentile(np.abs(Y_old), 99)) if n else 1.0)
    Y[n:] += np.random.default_rng(seed).normal(scale=spread, size=(m, 2)).astype(np.float32)
    return Y


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Bool mask of ``points`` (N, 2) inside the closed ``polygon`` (M, 2), even-odd rule, vectorised.

    Costs O(N x M): the caller keeps lassos to a few hundred vertices.
    """
    pts = np.asarray(points, dtype=np.float64)
    poly = np.asarray(polygon, dtype=np.float64)
    inside = np.zeros(pts.shape[0], dtype=bool)
    if poly.shape[0] < 3 or pts.shape[0] == 0:
        return inside
    x, y = pts[:, 0], pts[:, 1]
    # Only points in the polygon's bounding box can be inside: skip the rest (most of the map, usually).
    lo, hi = poly.min(axis=0), poly.max(axis=0)
    box = np.flatnonzero((x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1]))
    if box.size == 0:
        return inside
    px, py = x[box], y[box]
    acc = np.zeros(box.size, dtype=bool)
    ex0, ey0 = poly[:, 0], poly[:, 1]
    ex1, ey1 = np.roll(ex0, -1), np.roll(ey0, -1)
    for ax, ay, bx, by in zip(ex0, ey0, ex1, ey1, strict=True):
        # A ray from the point towards +x crosses edge a-b when a and b lie on opposite sides of the point's y.
        crosses = (ay > py) != (by > py)
        if not crosses.any():
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            xint = ax + (py - ay) * (bx - ax) / (by - ay)
        acc ^= crosses & (px < xint)
    inside[box] = acc
    return inside


def simplify_path(path: np.ndarray, max_points: int = 256) -> np.ndarray:
    """Keep at most ``max_points`` vertices of a freehand path, evenly spaced along it."""
    path = np.asarray(path, dtype=np.float64)
    if path.shape[0] <= max_points:
        return path
    keep = np.linspace(0, path.shape[0] - 1, max_points).round().astype(int)
    return path[keep]
