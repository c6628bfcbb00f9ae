"""The field's query strategies that are not a product of CDFs: TypiClust, ProbCover and information density.

Each is a pure function ``f(ctx, knn, n_classes, rows, probs) -> scores`` over the candidate ``rows`` (larger =
pick first): its result depends only on the vectors, the labels in ``knn`` and the seed. What is expensive and
does not depend on the labels (a k-means clustering, ProbCover's ball graph) is memoised in ``ctx.memo``, so a
labeling loop pays for it once, not once per label.

Written from the papers:
- TypiClust (Hacohen, Dekel & Weinshall, ICML 2022): k-means into |L| + B clusters, then from the largest cluster
  that holds no labeled item, the most typical item, typicality = 1 / mean distance to its 20 nearest neighbours
  inside the cluster. Clusters under 5 items are passed over (the paper's MIN_CLUSTER_SIZE) and at most 500
  clusters are made (its MAX_NUM_CLUSTERS).
- ProbCover (Yehuda, Dekel, Hacohen & Weinshall, NeurIPS 2022): balls of radius delta around every item; delta is
  the largest radius at which at least 95 % of the balls are "pure" (hold items of one k-means cluster, k-means
  into as many clusters as classes); then greedy max coverage: the item whose ball covers most items that no
  labeled item's ball covers yet.
- Information density (Settles & Craven 2008, modAL's density-weighted uncertainty): least confidence times the
  mean similarity to all items, x . mean(X), which is exact in O(N d) (no pairwise matrix).
k-center greedy (Sener & Savarese 2018) needs no code here: it is "the item farthest from every labeled item",
the diversity factor alone (registry.NAMED["kcenter"]).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

TYPICLUST_NEIGHBOURS = 20
TYPICLUST_MIN_CLUSTER = 5
TYPICLUST_MAX_CLUSTERS = 500
# One pick at a time, k-means into |L| + 1 clusters would re-cluster after every label. The cluster counts are
# taken from this grid instead (every count up to 32, then steps of ~10 %): there is always a count above |L|, so
# an uncovered cluster always exists (pigeonhole), as in the paper, and a 2,000-label run clusters ~50 times.
_GRID_DENSE = 32
PROBCOVER_PURITY = 0.95
# ProbCover keeps at most this many neighbours per ball (the most similar): a bound on memory at 1M items.
PROBCOVER_MAX_BALL = 256
KMEANS_ITERATIONS = 20
# Above this many items k-means fits its centres on a seeded sample of this size and then assigns every item
# (one N x k pass): at 1M items a full fit would cost ~20 N k d flops for every new cluster count.
KMEANS_FIT_MAX = 20_000
# Typicality inside a cluster is exact up to this size (s^2 d flops); in a larger cluster (the first picks of a
# big project, when one to a few clusters hold everything) it is the context's density instead: the k-NN graph's
# typicality once the app has it (mean similarity to the 10 nearest items), which ranks the same way.
TYPICALITY_EXACT_MAX = 4096


@dataclass
class PoolContext:
    """What a pool strategy looks at besides the k-NN.

    X : vectors of all items in the k-NN's row numbering (L2-normalised).
    universe : the rows that may ever be picked or covered (the pool; in ``simulate`` never the test fold).
    density : typicality per row of X (or None), only to break ties.
    """

    X: np.ndarray
    universe: np.ndarray
    density: np.ndarray | None = None
    seed: int = 0
    memo: dict = field(default_factory=dict)
    # The whole-pool k-NN graph (indices, similarities) in X's numbering, for strategies built on eer.
    graph: tuple[np.ndarray, np.ndarray] | None = None


# ------------------------------------------------------------------ k-means
def kmeans(X: np.ndarray, k: int, seed: int = 0, iterations: int = KMEANS_ITERATIONS) -> np.ndarray:
    """Cluster id per row: spherical k-means (cosine, as the embeddings are normalised), k-means++ start.

    Deterministic for a given seed. O(N k d) per iteration, in chunks of rows.
    """
    n = X.shape[0]
    k = max(1, min(int(k), n))
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    if n > KMEANS_FIT_MAX:
        sample = np.sort(np.random.default_rng([seed, k, n]).choice(n, KMEANS_FIT_MAX, replace=False))
        fit = X[sample]
        a = kmeans(fit, k, seed, iterations)
        centres = _cluster_sums(fit, a, k)
        norms = np.linalg.norm(centres, axis=1)
        centres = (centres / np.where(norms > 0, norms, 1.0)[:, None]).astype(np.float32)
        return _nearest_centre(X, centres)
    rng = np.random.default_rng([seed, k])
    centres = np.empty((k, X.shape[1]), dtype=np.float32)
    first = int(rng.integers(n))
    centres[0] = X[first]
    d2 = np.maximum(2.0 - 2.0 * (X @ X[first]), 0.0)  # squared distance of unit vectors
    for c in range(1, k):
        total = d2.sum()
        nxt = int(rng.choice(n, p=d2 / total)) if total > 0 else int(rng.integers(n))
        centres[c] = X[nxt]
        np.minimum(d2, np.maximum(2.0 - 2.0 * (X @ X[nxt]), 0.0), out=d2)
    assign = np.full(n, -1, dtype=np.int64)
    for _ in range(iterations):
        new = _nearest_centre(X, centres)
        if np.array_equal(new, assign):
            break
        assign = new
        sums = _cluster_sums(X, assign, k)
        norms = np.linalg.norm(sums, axis=1)
        empty = norms == 0
        centres[~empty] = (sums[~empty] / norms[~empty, None]).astype(np.float32)
        if empty.any():  # an emptied cluster restarts at the items worst served by theirs
            far = np.argsort((X * centres[assign]).sum(axis=1))[: int(empty.sum())]
            centres[empty] = X[far]
    return assign


def _cluster_sums(X: np.ndarray, assign: np.ndarray, k: int) -> np.ndarray:
    """Sum of the rows of each cluster, O(N d): rows sorted by cluster, then one add.reduceat (np.add.at is
    ~50x slower)."""
    order = np.argsort(assign, kind="stable")
    a = assign[order]
    starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
    sums = np.zeros((k, X.shape[1]), dtype=np.float64)
    sums[a[starts]] = np.add.reduceat(X[order].astype(np.float64), starts, axis=0)
    return sums


def _nearest_centre(X: np.ndarray, centres: np.ndarray, chunk: int = 8192) -> np.ndarray:
    out = np.empty(X.shape[0], dtype=np.int64)
    for s in range(0, X.shape[0], chunk):
        out[s : s + chunk] = (X[s : s + chunk] @ centres.T).argmax(axis=1)
    return out


# ---------------------------------------------------------------- TypiClust
def typiclust_clusters(n_labeled: int) -> int:
    """How many clusters TypiClust makes with ``n_labeled`` labels: the first grid count above it, capped."""
    if n_labeled < _GRID_DENSE:
        k = n_labeled + 1
    else:
        k = _GRID_DENSE
        while k <= n_labeled:
            k = int(np.ceil(k * 1.1))
    return min(k, TYPICLUST_MAX_CLUSTERS)


def typicality(X: np.ndarray, neighbours: int = TYPICLUST_NEIGHBOURS) -> np.ndarray:
    """1 / mean Euclidean distance to the ``neighbours`` nearest other rows of X (the paper's typicality)."""
    n = X.shape[0]
    if n <= 1:
        return np.ones(n, dtype=np.float64)
    kk = min(neighbours, n - 1)
    out = np.empty(n, dtype=np.float64)
    for s in range(0, n, 2048):
        S = X[s : s + 2048] @ X.T
        S[np.arange(S.shape[0]), np.arange(s, s + S.shape[0])] = -np.inf
        top = -np.partition(-S, kk - 1, axis=1)[:, :kk]
        dist = np.sqrt(np.maximum(2.0 - 2.0 * top, 0.0))
        out[s : s + S.shape[0]] = 1.0 / (dist.mean(axis=1) + 1e-12)
    return out


def typiclust(ctx: PoolContext, knn, n_classes: int, rows: np.ndarray, probs=None) -> np.ndarray:
    """TypiClust's score over ``rows``: clusters ordered by (too small, labeled items, -size), best first; within
    the chosen cluster its most typical item. Returns (R - cluster's place) + typicality scaled into [0, 1) for
    the best R clusters (R = 32, enough for a ranked list), 0 elsewhere."""
    u = ctx.universe
    k = typiclust_clusters(knn.n_labeled)
    key = ("typiclust", k)
    if key not in ctx.memo:
        ctx.memo[key] = kmeans(ctx.X[u], k, ctx.seed)
    assign_u = ctx.memo[key]
    where = _position(ctx, u)
    size = np.bincount(assign_u, minlength=k)
    lab = knn.labeled
    lab = lab[where[lab] >= 0]
    covered = np.bincount(assign_u[where[lab]], minlength=k)
    order = np.lexsort((-size, covered, size < TYPICLUST_MIN_CLUSTER))
    rows = np.asarray(rows)
    rc = assign_u[where[rows]]
    scores = np.zeros(rows.size, dtype=np.float64)
    R = 32
    for place, c in enumerate(order[:R]):
        in_c = np.flatnonzero(rc == c)
        if in_c.size == 0:
            continue
        tkey = ("typicality", k, int(c))
        if tkey not in ctx.memo:
            members = u[assign_u == c]
            if members.size > TYPICALITY_EXACT_MAX and ctx.density is not None:
                typ = ctx.density[members].astype(np.float64)
                typ = typ - typ.min() + 1e-6  # a positive scale, same order
            else:
                typ = typicality(ctx.X[members])
            ctx.memo[tkey] = (members, typ)
        members, typ = ctx.memo[tkey]
        t = typ[np.searchsorted(members, rows[in_c])]
        scores[in_c] = (R - place) + 0.999 * t / (t.max() + 1e-12)
    return scores


def _position(ctx: PoolContext, u: np.ndarray) -> np.ndarray:
    """Row of X -> position in the universe (-1 outside it)."""
    key = ("position",)
    if key not in ctx.memo:
        where = np.full(ctx.X.shape[0], -1, dtype=np.int64)
        where[u] = np.arange(u.size)
        ctx.memo[key] = where
    return ctx.memo[key]


# ---------------------------------------------------------------- ProbCover
def probcover_graph(
    X: np.ndarray,
    n_classes: int,
    seed: int = 0,
    purity: float = PROBCOVER_PURITY,
    max_ball: int = PROBCOVER_MAX_BALL,
    chunk: int = 1024,
) -> tuple[np.ndarray, np.ndarray, float]:
    """ProbCover's balls: (indptr, members) in CSR form, row i = the items within delta of item i (i included),
    and the similarity threshold 1 - delta^2/2 that delta gives.

    A ball around x is pure when no item of another k-means cluster lies in it, i.e. when delta is below x's
    distance to the nearest item of another cluster; the largest delta with >= ``purity`` of the balls pure is
    that distance's (1 - purity) quantile. One pass of chunked similarities gives both that distance and each
    row's ``max_ball`` most similar items, from which the balls are cut.
    """
    n = X.shape[0]
    assign = kmeans(X, max(2, n_classes), seed)
    m = min(max_ball, n)
    nearest_other = np.full(n, -np.inf, dtype=np.float32)
    top_idx = np.empty((n, m), dtype=np.int64)
    top_sim = np.empty((n, m), dtype=np.float32)
    for s in range(0, n, chunk):
        S = X[s : s + chunk] @ X.T
        r = np.arange(S.shape[0])
        other = assign[None, :] != assign[s : s + S.shape[0], None]
        nearest_other[s : s + S.shape[0]] = np.where(other, S, -np.inf).max(axis=1)
        S[r, np.arange(s, s + S.shape[0])] = np.inf  # itself first: every ball holds its centre
        part = np.argpartition(-S, m - 1, axis=1)[:, :m] if m < n else np.tile(np.arange(n), (S.shape[0], 1))
        top_idx[s : s + S.shape[0]] = part
        top_sim[s : s + S.shape[0]] = np.take_along_axis(S, part, axis=1)
    # pure iff sim to the nearest other-cluster item < threshold; the share of pure balls must reach `purity`
    threshold = float(np.nextafter(np.quantile(nearest_other, purity), np.float32(np.inf)))
    keep = top_sim >= threshold
    counts = keep.sum(axis=1)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return indptr, top_idx[keep], threshold


def probcover(ctx: PoolContext, knn, n_classes: int, rows: np.ndarray, probs=None) -> np.ndarray:
    """ProbCover's greedy score over ``rows``: how many not yet covered items the row's ball would cover, plus a
    tie-break in [0, 0.5) by typicality (once everything is covered the count is 0 for all)."""
    u = ctx.universe
    key = ("probcover", max(2, n_classes))
    if key not in ctx.memo:
        ctx.memo[key] = probcover_graph(ctx.X[u], n_classes, ctx.seed)
    indptr, members, _ = ctx.memo[key]
    where = _position(ctx, u)
    covered = np.zeros(u.size, dtype=bool)
    lab = knn.labeled
    lab = where[lab]
    lab = lab[lab >= 0]
    for i in lab:
        covered[members[indptr[i] : indptr[i + 1]]] = True
    gain = (
        np.add.reduceat(np.append(~covered[members], False).astype(np.int64), indptr[:-1])
        if members.size
        else np.zeros(u.size, dtype=np.int64)
    )
    gain = np.where(np.diff(indptr) > 0, gain, 0)
    rows = np.asarray(rows)
    out = gain[where[rows]].astype(np.float64)
    return out + 0.5 * _tie_break(ctx, rows)


def _tie_break(ctx: PoolContext, rows: np.ndarray) -> np.ndarray:
    if ctx.density is None or rows.size == 0:
        return np.zeros(rows.size)
    d = ctx.density[rows].astype(np.float64)
    span = d.max() - d.min()
    return (d - d.min()) / span * 0.999 if span > 0 else np.zeros(rows.size)


# ------------------------------------------------------- information density
def info_density(ctx: PoolContext, knn, n_classes: int, rows: np.ndarray, probs=None) -> np.ndarray:
    """Settles & Craven's density-weighted least confidence, (1 - p1) * mean similarity to the pool (beta = 1).

    The mean cosine similarity to all pool items is x . mean(pool): O(N d). Negative means clip to 0 (a weight).
    """
    key = ("info_density",)
    if key not in ctx.memo:
        mean = ctx.X[ctx.universe].mean(axis=0)
        ctx.memo[key] = np.maximum(ctx.X @ mean, 0.0).astype(np.float64)
    dens = ctx.memo[key][np.asarray(rows)]
    p = probs if probs is not None else knn.probabilities(max(1, n_classes), rows)
    return (1.0 - p.max(axis=1)) * dens


# ------------------------------------------------------- rare classes (issue 16 item 3)
def eer_balanced(ctx: PoolContext, knn, n_classes: int, rows: np.ndarray, probs=None) -> np.ndarray:
    """Expected error reduction times a class balance: CDF(eer) x CDF(sum_c p(c|x) / sqrt(1 + labels of c)).

    Items the k-NN thinks belong to classes with few labels come first among equally useful ones: a rare class
    gets its labels sooner than its share of the pool would give it. Without the graph, eer is uncertainty.
    """
    from aldesk.core.query.eer import expected_error_reduction
    from aldesk.core.query.measures import cdf

    C = max(1, n_classes)
    rows = np.asarray(rows)
    p = probs if probs is not None else knn.probabilities(C, rows)
    if ctx.graph is not None:
        e = expected_error_reduction(knn, C, rows, ctx.graph[0], ctx.graph[1], probs=p)
    else:
        e = 1.0 - p.max(axis=1)
    lab = knn.labeled
    counts = np.bincount(knn.label[lab], minlength=C)[:C] if lab.size else np.zeros(C)
    rarity = p @ (1.0 / np.sqrt(1.0 + counts))
    return cdf(e).astype(np.float64) * cdf(rarity)


PICKERS: dict[str, Callable[..., np.ndarray]] = {
    "typiclust": typiclust,
    "probcover": probcover,
    "info-density": info_density,
    "eer-bal": eer_balanced,
}
