"""New items join the whole-pool k-NN graph without a rebuild from scratch.

A rebuild of N + M items costs (N + M)^2 d (exact) or pynndescent's JIT and build. Taking in M new items:

- ``exact`` (the builder's choice up to ``EXACT_DENSITY_MAX_N`` items): each new item's neighbours computed against
  the whole pool, M (N + M) d; the same blocks of similarities tell which OLD rows a new item enters (it beats the
  row's weakest neighbour), and only those rows are merged with their new candidates. An exact graph stays exact.
- ``probe`` (above it, where the old graph is pynndescent's and approximate anyway): the pool is split into
  ~sqrt(N) cells around random items (:mod:`.cells`: one assignment pass, N sqrt(N) d), and each new item is
  compared only with the items of its ``n_probe`` nearest cells: about M N n_probe / sqrt(N) d, tens of times less
  than exact at 100k; its own cell first, then in the other cells only what beats the k best found there (no top-k
  per block), skipping a cell whose ball of members cannot hold such an item. Old rows are updated from the same
  blocks. The loops run on every core (:mod:`.threads`). Recall against an exact graph: benchmarks/grow.py
  (synthetic), benchmarks/grow_recall.py (real embeddings).

Rows are in "compact" numbering (eligible items only, old ones first, then the new ones), the numbering
:func:`aldesk.core.neighbours.builder.knn_graph` and the store use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aldesk.core.neighbours import threads
from aldesk.core.neighbours.builder import EXACT_DENSITY_MAX_N, _top_k_rows
from aldesk.core.neighbours.cells import N_PROBE, ball, ball_allows, make_cells
from aldesk.core.neighbours.threads import in_threads, one_blas_thread, spans
from aldesk.core.progress import CancelFn, ProgressFn, check

# New rows per block: the block of similarities is CHUNK x (N + M) float32 (1024 x 110k = 450 MB at most).
CHUNK = 1024


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
        with one_blas_thread():
            new_idx, new_sims, cand = _new_rows_probe(
                X_all, idx_old, worst_old, n_probe, seed, progress, cancel
            )
    idx = np.concatenate([idx_old.astype(np.int64, copy=False), new_idx])
    sims = np.concatenate([sims_old.astype(np.float32, copy=False), new_sims])
    if cand[0]:
        r, c, s = np.concatenate(cand[0]), np.concatenate(cand[1]), np.concatenate(cand[2])
        _merge_in_parts(idx, sims, r, c, s)
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
    idx_old: np.ndarray,
    worst_old: np.ndarray,
    n_probe: int,
    seed: int,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> tuple[np.ndarray, np.ndarray, Candidates]:
    """Two passes over the cells (:mod:`.cells`). First each new item meets its own cell (the nearest centre, so
    always one of its probed cells): its k best there, exactly. Their weakest is a bound: in the other probed cells
    only the items above it can enter the row, found by one comparison instead of a top-k per cell (an
    argpartition of every block cost a quarter of the growth at 100k + 10k), and a cell whose ball cannot hold
    such an item, nor a new item for one of its old rows, is skipped. The result is the top-k over the probed
    cells. Every loop runs over the cores (:func:`.threads.in_threads`)."""
    n_old, k = idx_old.shape
    m = X_all.shape[0] - n_old
    cells = make_cells(X_all, n_old, n_probe, np.random.default_rng(seed), progress, cancel)
    # (new item, cell) pairs of the probed cells other than its own, grouped by cell
    who = np.repeat(np.arange(m), cells.probe.shape[1])
    where = cells.probe.ravel()
    other = where != cells.cell[n_old + who]
    who, where = who[other], where[other]
    by_cell = np.argsort(where, kind="stable")
    who, where = who[by_cell], where[by_cell]
    pb = np.searchsorted(where, np.arange(cells.count + 1))
    X_new = X_all[n_old:]
    best_idx = np.full((m, k), -1, dtype=np.int64)
    best_sim = np.full((m, k), -np.inf, dtype=np.float32)
    # each cell's ball and its old rows' weakest neighbour, from pass 1, for pass 2's skips
    mean_dir = np.zeros((cells.count, X_all.shape[1]), dtype=np.float32)
    radius = np.full(cells.count, np.pi)
    weakest = np.full(cells.count, np.inf, dtype=np.float32)

    def own_cell(c: int, out: _Found) -> None:  # pass 1: each new item in its own cell
        members = cells.members(c)
        no = int(cells.n_old_in[c])
        if members.size == 0:
            return
        Xm = X_all[members]
        mean_dir[c], radius[c] = ball(Xm)
        if no:
            weakest[c] = worst_old[members[:no]].min()
        asking = members[no:] - n_old  # the cell's new items
        if asking.size == 0:
            return
        S = X_new[asking] @ Xm.T
        S[np.arange(asking.size), no + np.arange(asking.size)] = -np.inf  # not its own neighbour
        kk = min(k, members.size)
        if kk < members.size:  # the kk largest, without a negated copy of the block
            top = np.argpartition(S, members.size - kk, axis=1)[:, members.size - kk :]
        else:
            top = np.broadcast_to(np.arange(members.size), (asking.size, kk))
        # rows of this cell's new items only: no other thread writes them
        best_idx[asking, :kk] = members[top]
        best_sim[asking, :kk] = np.take_along_axis(S, top, axis=1)
        if no:
            _old_hits(S[:, :no], members[:no], n_old + asking, worst_old, k, out.old)

    bound = np.empty(0, np.float32)

    def other_cells(c: int, out: _Found) -> None:  # pass 2: the other probed cells, only what beats the bound
        asking = who[pb[c] : pb[c + 1]]
        members = cells.members(c)
        if asking.size == 0 or members.size == 0:
            return
        asking = asking[
            ball_allows(X_new[asking], mean_dir[c], radius[c], np.minimum(bound[asking], weakest[c]))
        ]
        if asking.size == 0:
            return
        S = X_new[asking] @ X_all[members].T
        a, j = np.nonzero(bound[asking][:, None] < S)
        out.new[0].append(asking[a])
        out.new[1].append(members[j])
        out.new[2].append(S[a, j])
        no = int(cells.n_old_in[c])
        if no:
            _old_hits(S[:, :no], members[:no], n_old + asking, worst_old, k, out.old)

    groups = spans(cells.count, CELLS_PER_TASK)
    first = in_threads(
        _per_cell(own_cell), groups, progress=progress, cancel=cancel, span=(0.04, 0.2), what="cells"
    )
    bound = best_sim.min(axis=1)  # -inf where the own cell held fewer than k others
    second = in_threads(
        _per_cell(other_cells), groups, progress=progress, cancel=cancel, span=(0.2, 1.0), what="cells"
    )
    found = _joined([f.new for f in second])
    if found[0]:
        _merge_in_parts(
            best_idx, best_sim, np.concatenate(found[0]), np.concatenate(found[1]), np.concatenate(found[2])
        )
    # a new item whose probed cells held fewer than k others keeps empty slots: point them at itself, -inf
    empty = best_idx < 0
    if empty.any():
        best_idx[empty] = (n_old + np.nonzero(empty)[0]).astype(np.int64)
    return best_idx, best_sim, _joined([f.old for f in first + second])


@dataclass
class _Found:
    """What one group of cells found: (new row, item, similarity) above a new row's bound, and the (old row, new
    item, similarity) pairs where a new item enters an old row."""

    new: Candidates = field(default_factory=lambda: ([], [], []))
    old: Candidates = field(default_factory=lambda: ([], [], []))


def _joined(parts: list[Candidates]) -> Candidates:
    return (
        [a for p in parts for a in p[0]],
        [a for p in parts for a in p[1]],
        [a for p in parts for a in p[2]],
    )


CELLS_PER_TASK = 16


def _per_cell(work: Callable[[int, _Found], None]) -> Callable[[range], _Found]:
    def each(group: range) -> _Found:
        out = _Found()
        for c in group:
            work(c, out)
        return out

    return each


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
    a, i = np.nonzero(hit)
    heavy = np.flatnonzero(np.bincount(i, minlength=olds.size) > k) if i.size > k else i[:0]
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


MERGE_PART_MIN = 50_000  # candidates below this are merged on one thread


def _merge_in_parts(idx: np.ndarray, sims: np.ndarray, r: np.ndarray, c: np.ndarray, s: np.ndarray) -> None:
    """:func:`_merge_rows` with the rows split into one range per core, merged at once (each range's rows are its
    own, so no two threads write one row)."""
    parts = threads.workers()
    if parts == 1 or r.size < MERGE_PART_MIN:
        _merge_rows(idx, sims, r, c, s)
        return
    edges = np.linspace(0, idx.shape[0], parts + 1).astype(np.int64)

    def merge(part: range) -> None:
        mine = (r >= edges[part.start]) & (r < edges[part.stop])
        _merge_rows(idx, sims, r[mine], c[mine], s[mine])

    threads.in_threads(merge, threads.spans(parts, 1))


def _merge_rows(idx: np.ndarray, sims: np.ndarray, r: np.ndarray, c: np.ndarray, s: np.ndarray) -> None:
    """Merge candidate neighbours (row r, item c, similarity s) into the rows' top-k, in place.

    Each row keeps at most its k best candidates (one sort of the candidates), then old slots and those candidates
    meet in a dense (rows, 2k) block: no sort over every old slot of every affected row.
    """
    if r.size == 0:
        return
    k = idx.shape[1]
    order = np.argsort(_row_then_best(r, s))  # one int64 key: 2.6x faster than np.lexsort((-s, r)) at 190k
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


def _row_then_best(r: np.ndarray, s: np.ndarray) -> np.ndarray:
    """int64 keys that sort as (row r ascending, similarity s descending): the row in the high 32 bits, and in the
    low 32 the bits of the float32 -s made order-preserving as an unsigned integer (negative floats: all bits
    flipped; others: the sign bit set). Rows must be below 2**31."""
    bits = (-s.astype(np.float32, copy=False)).view(np.uint32).astype(np.int64)
    flip = np.where(bits >= 0x80000000, 0xFFFFFFFF, 0x80000000)
    return (r.astype(np.int64) << 32) | (bits ^ flip)


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
