"""New items join the whole-pool k-NN graph without a rebuild from scratch.

A rebuild of N + M items costs (N + M)^2 d (exact) or pynndescent's JIT and build; taking in M new items costs
M (N + M) d: each new item's neighbours are computed exactly against the whole pool, and the same blocks of
similarities tell which OLD rows a new item enters (its similarity beats the row's weakest neighbour), so those rows
are merged with their new candidates, never recomputed. An exact old graph stays exact (tests compare it with a
rebuild); an approximate one (pynndescent) stays as good as it was in its old rows, with exact new rows.

Rows are in "compact" numbering (eligible items only, old ones first, then the new ones), the numbering
:func:`aldesk.core.neighbours.builder.knn_graph` and the store use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from aldesk.core.neighbours.builder import _top_k_rows
from aldesk.core.progress import CancelFn, ProgressFn, check

if TYPE_CHECKING:
    from aldesk.core.model.knn import IncrementalKNN
    from aldesk.core.neighbours.store import DensityGraph

# New rows per block: the block of similarities is CHUNK x (N + M) float32 (1024 x 110k = 450 MB at most).
CHUNK = 1024


def grow_knn_graph(
    X_old: np.ndarray,
    idx_old: np.ndarray,
    sims_old: np.ndarray,
    X_new: np.ndarray,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    chunk: int = CHUNK,
) -> tuple[np.ndarray, np.ndarray]:
    """The k-NN graph of ``[X_old; X_new]`` from the graph (idx_old, sims_old) of ``X_old``: (indices int64,
    similarities float32), each (N + M, k). ``k`` is the old graph's; the new rows are exact top-k.
    """
    n_old, k = idx_old.shape
    m = X_new.shape[0]
    n = n_old + m
    if m == 0:
        return idx_old.astype(np.int64, copy=False), sims_old.astype(np.float32, copy=False)
    if n_old != X_old.shape[0]:
        raise ValueError("the old graph must have one row per old vector")
    if k > n - 1:
        raise ValueError("the old graph has more neighbours per row than the grown pool allows")
    X_all = np.concatenate([X_old, X_new]) if n_old else X_new
    worst_old = sims_old.min(axis=1) if n_old else np.zeros(0, np.float32)
    new_idx = np.empty((m, k), dtype=np.int64)
    new_sims = np.empty((m, k), dtype=np.float32)
    cand_rows: list[np.ndarray] = []  # old row, new item (pool numbering), similarity: a new item enters the row
    cand_cols: list[np.ndarray] = []
    cand_sims: list[np.ndarray] = []
    for start in range(0, m, chunk):
        check(cancel)
        stop = min(m, start + chunk)
        S = X_all[n_old + start : n_old + stop] @ X_all.T  # (c, n): new items against the whole pool
        rows = np.arange(stop - start)
        S[rows, n_old + start + rows] = -np.inf  # not its own neighbour
        top = _top_k_rows(S, k)
        new_idx[start:stop] = top
        new_sims[start:stop] = np.take_along_axis(S, top, axis=1)
        if n_old:
            a, i = np.nonzero(S[:, :n_old] > worst_old)  # new item a beats old row i's weakest neighbour
            cand_rows.append(i)
            cand_cols.append(n_old + start + a)
            cand_sims.append(S[a, i])
        if progress is not None:
            progress(stop / m, f"Neighbours: {stop:,} / {m:,} new items")
    idx = np.concatenate([idx_old.astype(np.int64, copy=False), new_idx])
    sims = np.concatenate([sims_old.astype(np.float32, copy=False), new_sims])
    if cand_rows:
        _merge_old_rows(idx, sims, np.concatenate(cand_rows), np.concatenate(cand_cols), np.concatenate(cand_sims))
    return idx, sims


def _merge_old_rows(idx: np.ndarray, sims: np.ndarray, r: np.ndarray, c: np.ndarray, s: np.ndarray) -> None:
    """Merge candidate neighbours (row r, item c, similarity s) into the rows' top-k, in place."""
    if r.size == 0:
        return
    k = idx.shape[1]
    rows = np.unique(r)
    # The affected rows' current k slots plus their candidates, then the k best of each row.
    all_r = np.concatenate([np.repeat(rows, k), r])
    all_c = np.concatenate([idx[rows].ravel(), c])
    all_s = np.concatenate([sims[rows].ravel(), s])
    order = np.lexsort((-all_s, all_r))
    all_r, all_c, all_s = all_r[order], all_c[order], all_s[order]
    starts = np.searchsorted(all_r, rows)
    pick = starts[:, None] + np.arange(k)  # each row has its k old slots, so >= k entries
    idx[rows] = all_c[pick]
    sims[rows] = all_s[pick]


def recall(idx: np.ndarray, reference: np.ndarray) -> float:
    """Share of the reference graph's edges (row i -> j) that ``idx`` also has: 1.0 means the same graph."""
    if idx.shape != reference.shape:
        raise ValueError("graphs of different shapes")
    n, k = idx.shape
    if n == 0:
        return 1.0
    # membership of every reference slot in the row: n x k x k booleans, small for k ~ 10
    hits = int((idx[:, :, None] == reference[:, None, :]).any(axis=1).sum())
    return hits / (n * k)


# ------------------------------------------------------- the one place a rescan calls
@dataclass
class PoolState:
    """What a project keeps per item that new items must join: which items take part, the whole-pool graph (item
    numbering), the k-NN classifier's state and the map's 2-D layout. Any of the last three may be None (not
    built yet: nothing to grow, it will be built whole when needed)."""

    eligible: np.ndarray
    graph: DensityGraph | None = None
    knn: IncrementalKNN | None = None
    layout: np.ndarray | None = None


def take_in(
    state: PoolState,
    old_vectors: np.ndarray,
    new_vectors: np.ndarray,
    *,
    new_eligible: np.ndarray | None = None,
    old_key: str | None = None,
    new_key: str | None = None,
    root: Path | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> PoolState:
    """The state after ``new_vectors`` (M, d) were appended to ``old_vectors`` (N, d), without a rebuild.

    The graph grows from the stored one under ``old_key`` when given (else from ``state.graph``) and is stored under
    ``new_key`` (store.graph_key over the grown item list); the k-NN computes only the new rows (it keeps its
    labels); the layout places the new items among their graph neighbours. ``state.knn`` is changed in place (it
    holds N x k arrays that a copy would double) and is also the returned one.
    """
    from aldesk.core.maps.projection import place_new
    from aldesk.core.neighbours import store

    n, m = old_vectors.shape[0], new_vectors.shape[0]
    vectors = np.concatenate([old_vectors, new_vectors])
    new_ok = np.ones(m, bool) if new_eligible is None else np.asarray(new_eligible, bool)
    eligible = np.concatenate([np.asarray(state.eligible, bool), new_ok])
    graph = None
    if state.graph is not None or old_key:
        if old_key is None and state.graph is not None:  # grow from memory: its compact form
            rows = np.flatnonzero(state.eligible)
            pos = np.full(n, -1, np.int64)
            pos[rows] = np.arange(rows.size)
            compact = (pos[state.graph.indices[rows]], state.graph.similarities[rows])
            g = grow_knn_graph(vectors[rows], *compact, vectors[n:][new_ok], progress=progress, cancel=cancel)
            idx = np.flatnonzero(eligible)
            graph = store._expand(g, idx, n + m)
            if new_key:
                store._save_pair((root or store.default_root()) / new_key, "", g[0], g[1])
        else:
            k = state.graph.indices.shape[1] if state.graph is not None else store.builder.DENSITY_K
            graph = store.grow_graph_cached(
                vectors, eligible, n, old_key, new_key, k=k, root=root, progress=progress, cancel=cancel
            )
    knn = state.knn
    if knn is not None:
        knn.grow(vectors)
    layout = state.layout
    if layout is not None:
        if graph is not None:
            layout = place_new(layout, graph.indices[n:], graph.similarities[n:])
        else:
            layout = np.concatenate([layout, np.repeat(np.median(layout, axis=0)[None], m, axis=0)])
    return PoolState(eligible, graph, knn, layout)
