"""Informativeness measures, their CDFs and the product score S(x) = U^a * I^b * D^c (SCORING.md).

Pure functions over arrays. Every measure is "larger = more worth labeling".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

import numpy as np

from aldesk.core.knn import expected_error_reduction
from aldesk.core.progress import CancelFn, ProgressFn, check

MEASURES = ("uncertainty", "margin", "entropy", "eer")
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


# ------------------------------------------------------------------ measures
def uncertainty(p: np.ndarray) -> np.ndarray:
    """Least confidence, 1 - p1."""
    return 1.0 - p.max(axis=1)


def margin(p: np.ndarray) -> np.ndarray:
    """p2 - p1 (<= 0): a small gap between the two top classes gives a high value."""
    if p.shape[1] < 2:
        return np.zeros(p.shape[0], dtype=p.dtype)
    top2 = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return top2[:, 0] - top2[:, 1]


def entropy(p: np.ndarray) -> np.ndarray:
    """H = -sum p log p (the seed lost the minus sign)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), 0.0)
    return -(p * logp).sum(axis=1)


MEASURE_FUNCS = {"uncertainty": uncertainty, "margin": margin, "entropy": entropy, "eer": uncertainty}


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
    r, c = np.nonzero(S >= thresh[:, None])
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


def diversity(max_sim_to_labeled: np.ndarray) -> np.ndarray:
    """Cosine distance to the closest labeled item, 1 - max sim; 1 where nothing is labeled (max sim = -inf)."""
    d = 1.0 - max_sim_to_labeled
    return np.where(np.isfinite(d), d, 1.0).astype(np.float32)


# ----------------------------------------------------------------------- CDF
def cdf(values: np.ndarray) -> np.ndarray:
    """Empirical CDF from ranks, ties sharing their average rank: values in (0, 1], the largest gets 1.

    A constant vector maps to a constant (0.5 + 0.5/n), so it does not change the ranking of a product.
    One unstable argsort (SIMD in numpy, ~1 ms at 100k) plus O(n) work for the tie blocks.
    """
    v = np.asarray(values)
    n = v.size
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    order = np.argsort(v)
    s = v[order]
    new_block = np.empty(n, dtype=bool)
    new_block[0] = True
    np.not_equal(s[1:], s[:-1], out=new_block[1:])
    starts = np.flatnonzero(new_block)
    ends = np.append(starts[1:], n)
    # average 1-based rank of a tie block [start+1, end] = (start + 1 + end) / 2
    avg = ((starts + 1 + ends) / (2.0 * n)).astype(np.float32)
    out = np.empty(n, dtype=np.float32)
    out[order] = avg[np.cumsum(new_block) - 1]
    return out


class PresortedCDF:
    """:func:`cdf` over any subset of one fixed vector (the density): sorted once, then O(N) per subset.

    The pool shrinks by one item per label while the density never changes, so re-sorting it for every
    re-rank (~20 ms at 1M) is wasted; a counting pass over the stored order gives the same average ranks.
    """

    def __init__(self, values: np.ndarray) -> None:
        v = np.asarray(values)
        self.n = v.size
        self.order = np.argsort(v, kind="stable")
        s = v[self.order]
        new_block = np.ones(self.n, dtype=bool)
        if self.n > 1:
            np.not_equal(s[1:], s[:-1], out=new_block[1:])
        self.block = (np.cumsum(new_block) - 1).astype(np.int64)  # tie-block id per sorted position
        self.n_blocks = int(self.block[-1]) + 1 if self.n else 0

    def of(self, rows: np.ndarray) -> np.ndarray:
        """cdf(values[rows]), for distinct ``rows``."""
        rows = np.asarray(rows)
        if rows.size == 0:
            return np.zeros(0, dtype=np.float32)
        mask = np.zeros(self.n, dtype=bool)
        mask[rows] = True
        in_pool = mask[self.order]
        counts = np.bincount(self.block[in_pool], minlength=self.n_blocks)
        before = np.cumsum(counts) - counts
        avg = ((before + (counts + 1) / 2.0) / rows.size).astype(np.float32)
        full = np.empty(self.n, dtype=np.float32)
        full[self.order] = avg[self.block]
        return full[rows]


# ------------------------------------------------------------------ strategy
@dataclass(frozen=True)
class Strategy:
    """A product of CDFs, S = M^a * I^b * D^c; a missing factor has weight 0. ``random`` ignores all."""

    name: str
    measure: str | None = "uncertainty"
    density: str | None = "knn"
    diversity: bool = True
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
    # Every ``every``-th pick is drawn uniformly from the pool instead (0 = never): what the app's audit items
    # do, so ``uid@10`` simulates the app's default exactly.
    every: int = 0
    # A pool strategy of aldesk.core.strategies.PICKERS (typiclust, probcover, info-density) ranks instead of S.
    picker: str | None = None
    # Cold start: while fewer than ``cold_until`` items are labeled, the strategy ``cold`` (a spec) ranks instead.
    cold: str | None = None
    cold_until: int = 0
    # The field's baselines are marked as such in Settings.
    baseline: bool = False

    @property
    def is_random(self) -> bool:
        return self.name == "random"

    @property
    def needs_density(self) -> str | None:
        return None if self.is_random else self.density

    def active(self, n_labeled: int) -> Strategy:
        """The strategy that ranks with ``n_labeled`` labels: the cold start's until ``cold_until``, then this."""
        if self.cold is not None and n_labeled < self.cold_until:
            return _parse_cached(self.cold)
        return self

    def picker_at(self, n_labeled: int) -> str | None:
        """The pool strategy that ranks with ``n_labeled`` labels, or None when S (the product of CDFs) does."""
        return self.active(n_labeled).picker


NAMED = {
    "random": Strategy("random", None, None, False),
    "eer": Strategy("eer", "eer", None, False),
    # eer x sqrt(typicality) x sqrt(distance from the labels): U·I·D with eer as U, and I and D at half weight
    "eer-id": Strategy("eer-id", "eer", "knn", True, (1.0, 0.5, 0.5)),
    "uid": Strategy("uid", "uncertainty", "knn", True),
    "uid-global": Strategy("uid-global", "uncertainty", "global", True),
    "mid": Strategy("mid", "margin", "knn", True),
    "eid": Strategy("eid", "entropy", "knn", True),
    "ui": Strategy("ui", "uncertainty", "knn", False),
    "ud": Strategy("ud", "uncertainty", None, True),
    "id": Strategy("id", None, "knn", True),
    "uncertainty": Strategy("uncertainty", "uncertainty", None, False),
    "margin": Strategy("margin", "margin", None, False, baseline=True),
    "entropy": Strategy("entropy", "entropy", None, False, baseline=True),
    # The field's baselines (issue 16), from their papers; see aldesk/core/strategies.py.
    "least-confidence": Strategy("least-confidence", "uncertainty", None, False, baseline=True),
    "info-density": Strategy("info-density", None, None, False, picker="info-density", baseline=True),
    # k-center greedy (Sener & Savarese 2018): the item farthest from every labeled item; the first by typicality
    "kcenter": Strategy("kcenter", None, None, True, baseline=True),
    "typiclust": Strategy("typiclust", None, None, False, picker="typiclust", baseline=True),
    "probcover": Strategy("probcover", None, None, False, picker="probcover", baseline=True),
    # eer with a class balance (rare classes first among equally useful items), measured for issue 16 item 3
    "eer-bal": Strategy("eer-bal", None, None, False, picker="eer-bal"),
}
# `--strategies field`: every baseline of the field, run beside the default and random.
FIELD = ("margin", "entropy", "least-confidence", "info-density", "kcenter", "typiclust", "probcover")


def expand_strategies(names: list[str], default: str) -> list[str]:
    """The strategy names with "field" replaced by the default and every baseline of FIELD (duplicates dropped)."""
    out: list[str] = []
    for name in names:
        name = name.strip()
        if not name:
            continue
        out.extend([default, *FIELD] if name.lower() == "field" else [name])
    return list(dict.fromkeys(out))

_TOKEN = re.compile(r"^([a-z_]+)(?:\^([0-9.]+))?$")
_ALIASES = {"knn_density": ("density", "knn"), "density": ("density", "knn"),
            "global_density": ("density", "global"), "diversity": ("diversity", True)}


def parse_strategy(spec: str) -> Strategy:
    """A named strategy (see NAMED), a product like ``entropy*knn_density^0.5*diversity``, a cold start
    ``typiclust:20/eer`` (typiclust ranks until 20 items are labeled, then eer) and/or ``...@10`` (audit picks).
    "field" reads as the default (its baselines are expanded by :func:`expand_strategies`)."""
    spec = spec.strip().lower()
    if "@" in spec:
        base, _, every = spec.rpartition("@")
        if not every.isdigit() or int(every) < 1:
            raise ValueError(f"cannot read strategy {spec!r}: after '@' comes how often a random pick is made")
        return replace(parse_strategy(base), name=spec, every=int(every))
    if "/" in spec:
        cold, _, rest = spec.partition("/")
        first, _, until = cold.rpartition(":")
        first = first.strip()
        if not first or not until.strip().isdigit() or "/" in rest:
            raise ValueError(f"cannot read strategy {spec!r}: a cold start reads like 'typiclust:20/eer' "
                             "(the first strategy, how many labels it picks, then the strategy after it)")
        parse_strategy(first)  # a typo in the first part fails here, not at the first pick
        return replace(parse_strategy(rest), name=spec, cold=first, cold_until=int(until.strip()))
    if spec == "field":
        from aldesk.core.session import DEFAULT_STRATEGY

        return parse_strategy(DEFAULT_STRATEGY)
    if spec in NAMED:
        return NAMED[spec]
    measure = density = None
    div = False
    w = [0.0, 0.0, 0.0]
    for part in spec.split("*"):
        m = _TOKEN.match(part.strip())
        if not m:
            raise ValueError(f"cannot read strategy {spec!r}: {part!r} is not a measure")
        name, weight = m.group(1), float(m.group(2) or 1.0)
        if name in MEASURES:
            measure, w[0] = name, weight
        elif name in _ALIASES:
            kind, val = _ALIASES[name]
            if kind == "density":
                density, w[1] = val, weight
            else:
                div, w[2] = True, weight
        else:
            known = ", ".join(sorted(NAMED) + list(MEASURES) + sorted(_ALIASES))
            raise ValueError(f"unknown measure {name!r} in strategy {spec!r}; known: {known}")
    return Strategy(spec, measure, density, div, (w[0], w[1], w[2]))


@functools.lru_cache(maxsize=64)
def _parse_cached(spec: str) -> Strategy:
    return parse_strategy(spec)


def _pickers() -> dict:
    from aldesk.core.strategies import PICKERS

    return PICKERS


def picker_scores(
    name: str, ctx, knn, n_classes: int, rows: np.ndarray, probs: np.ndarray | None = None
) -> np.ndarray:
    """Scores over ``rows`` of the pool strategy ``name`` (aldesk.core.strategies.PICKERS), larger = first."""
    return _pickers()[name](ctx, knn, n_classes, rows, probs)


def score(
    strategy: Strategy,
    probs: np.ndarray | None,
    density: np.ndarray | None,
    max_sim: np.ndarray | None,
    density_cdf: np.ndarray | None = None,
    measure_values: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Raw measures, their CDFs and S over one pool. Returns a dict with keys among
    measure / density / diversity (raw), U / I / D (CDFs) and S. ``density_cdf``, when given, is the density's
    CDF over this pool computed already (see :class:`PresortedCDF`); ``measure_values`` the raw measure when the
    caller computed it (it must for "eer"; see :func:`measure_values`). A ``density`` given to a strategy without
    a density factor only breaks a tie of every item (no labels yet): the most typical items come first."""
    n = next(a.shape[0] for a in (probs, density, max_sim) if a is not None)
    out: dict[str, np.ndarray] = {}
    S = np.ones(n, dtype=np.float32)
    a, b, c = strategy.weights
    if strategy.measure is not None:
        # float32 for the ranking: numpy's SIMD argsort is ~3x faster on it than on float64
        m = measure_values if measure_values is not None else MEASURE_FUNCS[strategy.measure](probs)
        m = np.asarray(m).astype(np.float32, copy=False)
        out["measure"] = m
        out["U"] = cdf(m)
        S *= out["U"] if a == 1.0 else out["U"] ** a
    if strategy.density is not None and density is not None:
        out["density"] = density
        out["I"] = cdf(density) if density_cdf is None else density_cdf
        S *= out["I"] if b == 1.0 else out["I"] ** b
    if strategy.diversity:
        d = diversity(max_sim)
        out["diversity"] = d
        out["D"] = cdf(d)
        S *= out["D"] if c == 1.0 else out["D"] ** c
    if strategy.density is None and density is not None and S.size and S.min() == S.max():
        S = S * cdf(density)
    out["S"] = S
    return out


def measure_values(
    strategy: Strategy,
    knn,
    n_classes: int,
    rows: np.ndarray,
    probs: np.ndarray | None,
    graph: tuple[np.ndarray, np.ndarray] | None,
) -> np.ndarray | None:
    """The raw measure of ``strategy`` over ``rows`` of an IncrementalKNN, or None when there is none.

    ``graph`` is the whole-pool k-NN graph (indices, similarities) in the k-NN's row numbering; "eer" needs it and
    is uncertainty (its own first term) while there is none yet.
    """
    if strategy.measure is None:
        return None
    if strategy.measure == "eer" and graph is not None:
        return expected_error_reduction(knn, n_classes, rows, graph[0], graph[1], probs=probs)
    return MEASURE_FUNCS[strategy.measure](probs)


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n largest scores, best first (argpartition, then a sort of n)."""
    n = min(n, scores.size)
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if n < scores.size:
        part = np.argpartition(-scores, n - 1)[:n]
    else:
        part = np.arange(scores.size)
    return part[np.argsort(-scores[part], kind="stable")]


def select(
    strategy: Strategy,
    n: int,
    rng: np.random.Generator,
    probs: np.ndarray | None = None,
    density: np.ndarray | None = None,
    max_sim: np.ndarray | None = None,
    pool_size: int | None = None,
    measure: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """modAL-shaped query: (indices into the pool, their scores), best first. ``measure``: see :func:`score`."""
    if strategy.is_random:
        size = pool_size if pool_size is not None else next(
            a.shape[0] for a in (probs, density, max_sim) if a is not None
        )
        idx = rng.choice(size, size=min(n, size), replace=False)
        return idx.astype(np.int64), np.zeros(idx.size, dtype=np.float32)
    S = score(strategy, probs, density, max_sim, measure_values=measure)["S"]
    idx = top_n(S, n)
    return idx, S[idx]
