"""New items join the whole-pool k-NN graph without a rebuild from scratch.

A rebuild of N + M items costs (N + M)^2 d (exact) or pynndescent's JIT and build. Taking in M new items:

- ``exact`` (the builder's choice up to ``EXACT_DENSITY_MAX_N`` items): each new item's neighbours computed against
  the whole pool, M (N + M) d; the same blocks of similarities tell which OLD rows a new item enters (it beats the
  row's weakest neighbour), and only those rows are merged with their new candidates. An exact graph stays exact.
- ``probe`` (above it, where the old graph is pynndescent's and approximate anyway): the pool is split into
  ~sqrt(N) cells around random items (one assignment pass, N sqrt(N) d), and each new item is compared only with
  the items of its ``n_probe`` nearest cells: about M N n_probe / sqrt(N) d, tens of times less than exact at
  100k; its own cell first, then in the other cells only what beats the k best found there (no top-k per block).
  Old rows are updated from the same blocks. Recall against an exact graph: benchmarks/grow.py (synthetic),
  benchmarks/grow_recall.py (real embeddings).

Rows are in "compact" numbering (eligible items only, old ones first, then the new ones), the numbering
:func:`aldesk.core.neighbours.builder.knn_graph` and the store use.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from aldesk.core.neighbours.builder import EXACT_DENSITY_MAX_N, _top_k_rows
from aldesk.core.progress import CancelFn, ProgressFn, check

# New rows per block: the block of similarities is CHUNK x (N + M) float32 (1024 x 110k = 450 MB at most).
CHUNK = 1024
N_PROBE = 12
SKETCH_DIM = 64


def grow_knn_graph(
    X_old: np.ndarray, idx_old: np.ndarray, sims_old: np.ndarray, X_new: np.ndarray, **options: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The k-NN graph of ``[X_old; X_new]`` from the graph (idx_old, sims_old) of ``X_old``: (indices int64,
    similarities float32), each (N + M, k), k the old graph's. ``options`` are :func:`grow_joined`'s (``method``:
    "exact", "probe" or "auto", exact up to EXACT_DENSITY_MAX_N items in all, as the builder decides). Vectors that
    are already one matrix (old rows first) go to :func:`grow_joined` without this copy."""
    n_old = idx_old.shape[0]
    if X_new.shape[0] == 0:
        return idx_old.astype(np.int64, copy=False), sims_old.astype(np.float32, copy=False)
    if n_old != X_old.shape[0]:
        raise ValueError("the old graph must have one row per old vector")
    X_all = np.concatenate([X_old, X_new]) if n_old else np.asarray(X_new)
    return grow_joined(X_all, idx_old, sims_old, **options)


def grow_joined(
    X_all: np.ndarray,
    idx_old: np.ndarray,
    sims_old: np.ndarray,
    *,
    method: str = "auto",
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    chunk: int = CHUNK,
    n_probe: int = N_PROBE,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The grown graph from the pool's vectors as one matrix ``X_all`` (old rows first, then the new ones; no copy of
    the pool), see :func:`grow_knn_graph`."""
    n_old, k = idx_old.shape
    n = X_all.shape[0]
    if n == n_old:
        return idx_old.astype(np.int64, copy=False), sims_old.astype(np.float32, copy=False)
    if k > n - 1:
        raise ValueError("the old graph has more neighbours per row than the grown pool allows")
    if method == "auto":
        method = "exact" if n <= EXACT_DENSITY_MAX_N else "probe"
    if method not in ("exact", "probe"):
        raise ValueError(f"unknown growth method {method!r}")
    worst_old = sims_old.min(axis=1) if n_old else np.zeros(0, np.float32)
    if method == "exact":
        new_idx, new_sims, cand = _new_rows_exact(X_all, n_old, k, worst_old, chunk, progress, cancel)
    else:
        with _one_blas_thread():
            new_idx, new_sims, cand = _new_rows_probe(
                X_all, n_old, k, worst_old, n_probe, seed, progress, cancel
            )
    idx = np.concatenate([idx_old.astype(np.int64, copy=False), new_idx])
    sims = np.concatenate([sims_old.astype(np.float32, copy=False), new_sims])
    if cand[0]:
        r, c, s = np.concatenate(cand[0]), np.concatenate(cand[1]), np.concatenate(cand[2])
        _merge_rows(idx, sims, r, c, s)
    return idx, sims


Candidates = tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]  # old row, new item, similarity


def _new_rows_exact(
    X_all: np.ndarray,
    n_old: int,
    k: int,
    worst_old: np.ndarray,
    chunk: int,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> tuple[np.ndarray, np.ndarray, Candidates]:
    n = X_all.shape[0]
    m = n - n_old
    new_idx = np.empty((m, k), dtype=np.int64)
    new_sims = np.empty((m, k), dtype=np.float32)
    cand: Candidates = ([], [], [])
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
            cand[0].append(i)
            cand[1].append(n_old + start + a)
            cand[2].append(S[a, i])
        if progress is not None:
            progress(stop / m, f"Neighbours: {stop:,} / {m:,} new items")
    return new_idx, new_sims, cand


def _new_rows_probe(
    X_all: np.ndarray,
    n_old: int,
    k: int,
    worst_old: np.ndarray,
    n_probe: int,
    seed: int,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> tuple[np.ndarray, np.ndarray, Candidates]:
    """Two passes over the cells. First each new item meets its own cell (the nearest centre, so always one of its
    probed cells): its k best there, exactly. Their weakest is a bound: in the other probed cells only the items
    above it can enter the row, found by one comparison instead of a top-k per cell (an argpartition of every
    block cost a quarter of the growth at 100k + 10k). The result is the same top-k over the probed cells."""
    n = X_all.shape[0]
    m = n - n_old
    n_cells = max(1, int(np.sqrt(n)))
    n_probe = min(n_probe, n_cells)
    rng = np.random.default_rng(seed)
    Z = _sketch(X_all, rng, cancel)
    centres = Z[rng.choice(n, n_cells, replace=False)]
    cell = np.empty(n, dtype=np.int64)
    for start in range(0, n, 16 * CHUNK):  # every item to its most similar centre
        check(cancel)
        cell[start : start + 16 * CHUNK] = np.argmax(Z[start : start + 16 * CHUNK] @ centres.T, axis=1)
    # a stable sort keeps each cell's items in item order: its old items first, then its new ones
    order = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(n_cells + 1))
    n_old_in = np.bincount(cell[:n_old], minlength=n_cells)
    probe = np.argpartition(-(Z[n_old:] @ centres.T), n_probe - 1, axis=1)[:, :n_probe]
    # (new item, cell) pairs of the cells other than its own, grouped by cell
    who = np.repeat(np.arange(m), n_probe)
    where = probe.ravel()
    other = where != cell[n_old + who]
    who, where = who[other], where[other]
    by_cell = np.argsort(where, kind="stable")
    who, where = who[by_cell], where[by_cell]
    pb = np.searchsorted(where, np.arange(n_cells + 1))
    X_new = X_all[n_old:]
    best_idx = np.full((m, k), -1, dtype=np.int64)
    best_sim = np.full((m, k), -np.inf, dtype=np.float32)
    cand: Candidates = ([], [], [])
    found: Candidates = ([], [], [])  # new row, item, similarity: above the row's bound in another cell
    for c in range(n_cells):  # pass 1: each new item in its own cell
        if c % 32 == 0:
            check(cancel)
            if progress is not None:
                progress(0.1 * c / n_cells, f"Neighbours: cell {c:,} / {n_cells:,}")
        members = order[bounds[c] : bounds[c + 1]]
        no = int(n_old_in[c])
        asking = members[no:] - n_old  # the cell's new items
        if asking.size == 0:
            continue
        S = X_new[asking] @ X_all[members].T
        S[np.arange(asking.size), no + np.arange(asking.size)] = -np.inf  # not its own neighbour
        kk = min(k, members.size)
        top = (
            np.argpartition(-S, kk - 1, axis=1)[:, :kk]
            if kk < members.size
            else np.arange(members.size)[None]
        )
        best_idx[asking, :kk] = members[top]
        best_sim[asking, :kk] = np.take_along_axis(S, np.broadcast_to(top, (asking.size, kk)), axis=1)
        if no:
            _old_hits(S[:, :no], members[:no], n_old + asking, worst_old, k, cand)
    bound = best_sim.min(axis=1)  # -inf where the own cell held fewer than k others
    for c in range(n_cells):  # pass 2: the other probed cells, only what beats the bound
        if c % 32 == 0:
            check(cancel)
            if progress is not None:
                progress(0.1 + 0.9 * c / n_cells, f"Neighbours: cell {c:,} / {n_cells:,}")
        asking = who[pb[c] : pb[c + 1]]
        members = order[bounds[c] : bounds[c + 1]]
        if asking.size == 0 or members.size == 0:
            continue
        S = X_new[asking] @ X_all[members].T
        a, j = np.nonzero(bound[asking][:, None] < S)
        found[0].append(asking[a])
        found[1].append(members[j])
        found[2].append(S[a, j])
        no = int(n_old_in[c])
        if no:
            _old_hits(S[:, :no], members[:no], n_old + asking, worst_old, k, cand)
    if found[0]:
        _merge_rows(
            best_idx, best_sim, np.concatenate(found[0]), np.concatenate(found[1]), np.concatenate(found[2])
        )
    # a new item whose probed cells held fewer than k others keeps empty slots: point them at itself, -inf
    empty = best_idx < 0
    if empty.any():
        best_idx[empty] = (n_old + np.nonzero(empty)[0]).astype(np.int64)
    return best_idx, best_sim, cand


def _old_hits(
    s_old: np.ndarray,
    olds: np.ndarray,
    new_items: np.ndarray,
    worst_old: np.ndarray,
    k: int,
    cand: Candidates,
) -> None:
    """The (old row, new item) pairs of one block where the new item beats the old row's weakest neighbour."""
    hit = s_old > worst_old[olds]
    heavy = np.flatnonzero(hit.sum(axis=0) > k)
    if heavy.size:  # at most k candidates per old row from one block: an approximate old graph's weak rows
        # would take thousands; only those columns are partitioned (rows contiguous after .T)
        sub = np.ascontiguousarray(s_old[:, heavy].T)
        top = np.argpartition(-sub, k - 1, axis=1)[:, :k]
        hit[:, heavy] = False
        hit[top.T, heavy[None, :]] = True
        hit[:, heavy] &= s_old[:, heavy] > worst_old[olds[heavy]]
    a, i = np.nonzero(hit)
    cand[0].append(olds[i])
    cand[1].append(new_items[a])
    cand[2].append(s_old[a, i])


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """The probe's mat-muls are small blocks (~360 x 384 x 330): a second BLAS thread spin-waits more than it
    computes. One thread took 1.5 s of CPU and 4.6 s of wall time where two took 4.4 s and 11-14 s, same run, 100k +
    10k on the shared 2-core machine (load 12-15). The limit is process-wide while the probe runs (a label's
    mat-vec on the GUI thread meanwhile runs on one thread too: it is one N x d product). threadpoolctl comes with
    umap-learn's scikit-learn; without it the threads stay as they are."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _sketch(X: np.ndarray, rng: np.random.Generator, cancel: CancelFn | None) -> np.ndarray:
    """The vectors in SKETCH_DIM random dimensions (dot products kept approximately, Johnson-Lindenstrauss), for
    choosing cells only: assigning every item to ~sqrt(N) centres in 384-d cost as much as all the exact
    comparisons of the new items (measured at 100k + 10k); the neighbours themselves are compared in full."""
    d = X.shape[1]
    if d <= SKETCH_DIM:
        return X
    R = (rng.standard_normal((d, SKETCH_DIM)) / np.sqrt(SKETCH_DIM)).astype(np.float32)
    Z = np.empty((X.shape[0], SKETCH_DIM), dtype=np.float32)
    for start in range(0, X.shape[0], 16 * CHUNK):
        check(cancel)
        Z[start : start + 16 * CHUNK] = X[start : start + 16 * CHUNK] @ R
    return Z


def _merge_rows(idx: np.ndarray, sims: np.ndarray, r: np.ndarray, c: np.ndarray, s: np.ndarray) -> None:
    """Merge candidate neighbours (row r, item c, similarity s) into the rows' top-k, in place.

    Each row keeps at most its k best candidates (one sort of the candidates), then old slots and those candidates
    meet in a dense (rows, 2k) block: no sort over every old slot of every affected row.
    """
    if r.size == 0:
        return
    k = idx.shape[1]
    order = np.lexsort((-s, r))
    r, c, s = r[order], c[order], s[order]
    rows, starts, counts = np.unique(r, return_index=True, return_counts=True)
    rank = np.arange(r.size) - np.repeat(starts, counts)
    keep = rank < k
    pos = np.repeat(np.arange(rows.size), counts)[keep]
    cand_c = np.zeros((rows.size, k), dtype=np.int64)
    cand_s = np.full((rows.size, k), -np.inf, dtype=np.float32)
    cand_c[pos, rank[keep]] = c[keep]
    cand_s[pos, rank[keep]] = s[keep]
    both_c = np.concatenate([idx[rows], cand_c], axis=1)
    both_s = np.concatenate([sims[rows], cand_s], axis=1)
    top = np.argpartition(-both_s, k - 1, axis=1)[:, :k]
    idx[rows] = np.take_along_axis(both_c, top, axis=1)
    sims[rows] = np.take_along_axis(both_s, top, axis=1)


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
