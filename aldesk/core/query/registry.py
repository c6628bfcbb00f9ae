"""The strategy registry and its language: S(x) = U^a * I^b * D^c products, the named strategies (the default,
the field's baselines), ``@m`` audits and ``A:N/B`` cold starts; ranking and picking by a strategy.

A strategy declares what it needs (probabilities, the neighbour graph, density); callers compute it and pass it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

import numpy as np

from aldesk.core.query.eer import expected_error_reduction
from aldesk.core.query.measures import MEASURE_FUNCS, MEASURES, cdf, diversity

# Expected error reduction: by `aldesk simulate` (16 folds, README "How well does it pick?") it beats random and
# uid (S = U·I·D) on Rotten Tomatoes and Fashion-MNIST, where uid lost to random late on the texts. Measured
# beside the field's baselines and cold-start variants (typiclust:N/eer, eer-id:N/eer) on nine public sets
# (issue 16), it is best or within 0.005 of the best baseline on eight; no variant beat it on most sets.
DEFAULT_STRATEGY = "eer"


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
    # A pool strategy of aldesk.core.query.baselines.PICKERS (typiclust, probcover, info-density) ranks instead of S.
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
    # The field's baselines (issue 16), from their papers; see aldesk/core/query/baselines.py.
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

_ALIASES: dict[str, tuple[str, str]] = {
    "knn_density": ("density", "knn"),
    "density": ("density", "knn"),
    "global_density": ("density", "global"),
    "diversity": ("diversity", "on"),
}


def parse_strategy(spec: str) -> Strategy:
    """A named strategy (see NAMED), a product like ``entropy*knn_density^0.5*diversity``, a cold start
    ``typiclust:20/eer`` (typiclust ranks until 20 items are labeled, then eer) and/or ``...@10`` (audit picks).
    "field" reads as the default (its baselines are expanded by :func:`expand_strategies`)."""
    spec = spec.strip().lower()
    if "@" in spec:
        base, _, every = spec.rpartition("@")
        if not every.isdigit() or int(every) < 1:
            raise ValueError(
                f"cannot read strategy {spec!r}: after '@' comes how often a random pick is made"
            )
        return replace(parse_strategy(base), name=spec, every=int(every))
    if "/" in spec:
        cold, _, rest = spec.partition("/")
        first, _, until = cold.rpartition(":")
        first = first.strip()
        if not first or not until.strip().isdigit() or "/" in rest:
            raise ValueError(
                f"cannot read strategy {spec!r}: a cold start reads like 'typiclust:20/eer' "
                "(the first strategy, how many labels it picks, then the strategy after it)"
            )
        parse_strategy(first)  # a typo in the first part fails here, not at the first pick
        return replace(parse_strategy(rest), name=spec, cold=first, cold_until=int(until.strip()))
    if spec == "field":
        return parse_strategy(DEFAULT_STRATEGY)
    if spec in NAMED:
        return NAMED[spec]
    measure: str | None = None
    density: str | None = None
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
    from aldesk.core.query.baselines import PICKERS

    return PICKERS


def picker_scores(
    name: str, ctx, knn, n_classes: int, rows: np.ndarray, probs: np.ndarray | None = None
) -> np.ndarray:
    """Scores over ``rows`` of the pool strategy ``name`` (aldesk.core.query.baselines.PICKERS), larger = first."""
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
        if measure_values is not None:
            m = measure_values
        else:
            assert probs is not None, "a measure needs the k-NN's probabilities"
            m = MEASURE_FUNCS[strategy.measure](probs)
        m = np.asarray(m).astype(np.float32, copy=False)
        out["measure"] = m
        out["U"] = cdf(m)
        S *= out["U"] if a == 1.0 else out["U"] ** a
    if strategy.density is not None and density is not None:
        out["density"] = density
        out["I"] = cdf(density) if density_cdf is None else density_cdf
        S *= out["I"] if b == 1.0 else out["I"] ** b
    if strategy.diversity:
        assert max_sim is not None, "the diversity factor needs the similarity to the labeled items"
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
    assert probs is not None, "a measure needs the k-NN's probabilities"
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
        size = (
            pool_size
            if pool_size is not None
            else next(a.shape[0] for a in (probs, density, max_sim) if a is not None)
        )
        idx = rng.choice(size, size=min(n, size), replace=False)
        return idx.astype(np.int64), np.zeros(idx.size, dtype=np.float32)
    S = score(strategy, probs, density, max_sim, measure_values=measure)["S"]
    idx = top_n(S, n)
    return idx, S[idx]
