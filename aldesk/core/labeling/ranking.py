"""The session's ranking: the candidates by the strategy's score, the measures it needs (the eer cache kept where
the k-NN did not change), the density and the neighbour graph, and the audit item every ``audit_every`` labels.

A part of :class:`aldesk.core.labeling.session.Session` (which it is mixed into); it reads the session's state and
changes only the ranking's caches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from aldesk.core.labeling.actions import INTERACTIVE
from aldesk.core.query import measures, registry, zeroshot
from aldesk.core.query.baselines import PoolContext
from aldesk.core.query.eer import expected_error_reduction

if TYPE_CHECKING:
    from aldesk.core.labeling.actions import Action
    from aldesk.core.model.knn import IncrementalKNN


@dataclass(frozen=True)
class Candidate:
    """A ranked pool item with the factors of its score (CDFs in [0, 1]; None where the strategy has none)."""

    index: int
    S: float
    U: float | None
    I: float | None  # noqa: E741 - the paper's name of the density factor, as U and D
    D: float | None
    predicted: str | None
    confidence: float
    audit: bool = False  # drawn uniformly at random to estimate accuracy honestly (not by S)


class Ranking:
    """Ranking, density, graph and audit of a :class:`~aldesk.core.labeling.session.Session`."""

    if TYPE_CHECKING:  # the session's state this part reads (set in Session.__init__)
        X: np.ndarray
        classes: list[str]
        knn: IncrementalKNN
        strategy: registry.Strategy
        eligible: np.ndarray
        density: np.ndarray
        density_kind: str
        _density_cdf: measures.PresortedCDF | None
        graph: tuple[np.ndarray, np.ndarray] | None
        _eer: np.ndarray | None
        _eer_key: tuple | None
        n_candidates: int
        rng: np.random.Generator
        seed: int
        _ctx: PoolContext | None
        _ctx_key: tuple | None
        history: list[Action]
        audit_every: int
        _audit_item: int | None
        _ranking: list[Candidate] | None

        @property
        def n(self) -> int: ...
        def pool_mask(self, include_skipped: bool = False) -> np.ndarray: ...
        def counts(self) -> dict[str, int]: ...
        def _zero_shot(self) -> np.ndarray | None: ...
        def _zs_weight(self, zs: np.ndarray) -> float: ...
        def _predict_row(self, index: int) -> tuple[str | None, float]: ...

    # --------------------------------------------------------------- ranking
    def set_density(
        self, density: np.ndarray, kind: str = "knn", graph: tuple[np.ndarray, np.ndarray] | None = None
    ) -> None:
        """Swap in a density computed in the background (e.g. the k-NN graph once it is ready).

        ``graph`` is that graph, (indices (N, g), similarities (N, g)) in item numbering: the "eer" measure needs it
        and ranks by uncertainty until it has one.
        """
        if density.shape != (self.n,):
            raise ValueError("density must have one value per item")
        if graph is not None:
            self._set_graph(graph)
        self.density = np.asarray(density, dtype=np.float32)
        self.density_kind = kind
        self._density_cdf = None
        self._ranking = None

    def _set_graph(self, graph: tuple[np.ndarray, np.ndarray]) -> None:
        idx, sims = graph
        if idx.shape != sims.shape or idx.ndim != 2 or idx.shape[0] != self.n:
            raise ValueError("the neighbour graph must have one row of neighbours per item")
        self.graph = (np.asarray(idx), np.asarray(sims, dtype=np.float32))
        self._eer = None
        self._ranking = None

    def set_strategy(self, strategy: str | registry.Strategy) -> None:
        self.strategy = (
            strategy if isinstance(strategy, registry.Strategy) else registry.parse_strategy(strategy)
        )
        self._ranking = None

    def candidates(self, n: int | None = None) -> list[Candidate]:
        """The top-n pool items by S, best first. Skipped items come back only when nothing else is left."""
        n = self.n_candidates if n is None else n
        if self._ranking is None or len(self._ranking) < n:
            self._ranking = self._rank(max(n, self.n_candidates))
        return self._ranking[:n]

    def _rank(self, n: int) -> list[Candidate]:
        pool = np.flatnonzero(self.pool_mask())
        if pool.size == 0:
            pool = np.flatnonzero(self.pool_mask(include_skipped=True))
        if pool.size == 0:
            return []
        n_cls = max(1, len(self.classes))
        probs = self.knn.probabilities(n_cls, pool)
        strat = self.strategy.active(self.knn.n_labeled)  # a cold start's first strategy, then the strategy
        zs = self._zero_shot()
        seeds = None
        if zs is not None:  # zero-shot: the prior blended in; the first picks seed each class without a label
            probs = zeroshot.blend(probs, zs[pool], self.knn.n_labeled, self._zs_weight(zs))
            counts = np.array([self.counts()[c] for c in self.classes])
            # Seeding stops as soon as the labels show the prior is no better than chance (its weight is 0).
            seeding = not strat.is_random and self._zs_weight(zs) > 0
            seeds = zeroshot.seed_order(zs, pool, counts, n) if seeding else None
        if seeds is not None:
            order, parts = seeds, {"S": np.zeros(pool.size, np.float32)}
        elif strat.is_random:
            # Stable order between actions: random picks are drawn once per re-rank.
            order, _ = registry.select(strat, n, self.rng, pool_size=pool.size)
            parts = {"S": np.zeros(pool.size, np.float32)}
        elif strat.picker is not None:
            # A pool strategy (TypiClust, ProbCover, …; or a cold start's first picks): the same function and
            # the same scores as ``simulate`` uses, over the items that may ever be ranked.
            parts = {
                "S": registry.picker_scores(strat.picker, self._pool_context(), self.knn, n_cls, pool, probs)
            }
            order = registry.top_n(parts["S"], n)
        else:
            dens = self.density[pool]  # a factor of S, or (without one) what breaks a tie of every item
            dcdf = None
            if strat.density:
                if self._density_cdf is None:
                    self._density_cdf = measures.PresortedCDF(self.density)
                dcdf = self._density_cdf.of(pool)
            meas = self._measure(pool, probs, n_cls, strat)
            parts = registry.score(strat, probs, dens, self.knn.max_similarity(pool), dcdf, meas)
            order = registry.top_n(parts["S"], n)
        has_labels = (self.knn.n_labeled > 0 or zs is not None) and len(self.classes) > 0
        out = []
        for o in order:
            p = probs[o]
            best = int(p.argmax())
            out.append(
                Candidate(
                    index=int(pool[o]),
                    S=float(parts["S"][o]),
                    U=float(parts["U"][o]) if "U" in parts else None,
                    I=float(parts["I"][o]) if "I" in parts else None,
                    D=float(parts["D"][o]) if "D" in parts else None,
                    predicted=self.classes[best] if has_labels else None,
                    confidence=float(p[best]) if has_labels else 0.0,
                )
            )
        audit = self._audit_candidate(pool)
        if audit is not None:
            out = [audit] + [c for c in out if c.index != audit.index][: max(0, n - 1)]
        return out

    def _pool_context(self) -> PoolContext:
        """The pool strategies' view (all eligible items), kept while the items and the density stay the same:
        its memo holds their label-free work (k-means clusterings, ProbCover's balls)."""
        key = (id(self.density), id(self.graph), int(self.eligible.sum()))
        if self._ctx is None or self._ctx_key != key:
            self._ctx = PoolContext(
                self.X, np.flatnonzero(self.eligible), self.density, self.seed, graph=self.graph
            )
            self._ctx_key = key
        return self._ctx

    def _measure(
        self, pool: np.ndarray, probs: np.ndarray, n_cls: int, strat: registry.Strategy | None = None
    ) -> np.ndarray | None:
        """The strategy's raw measure over ``pool``. The expected error reduction of an item depends only on the
        k-NN rows of the item and of its graph neighbours, so after a label it is recomputed only where one of those
        changed (the first k labels change every row; later a label changes ~N k / |L| of them)."""
        strat = self.strategy if strat is None else strat
        if strat.measure != "eer" or self.graph is None:
            return registry.measure_values(strat, self.knn, n_cls, pool, probs, self.graph)
        changed = self.knn.take_changed()
        unlabeled = np.flatnonzero(self.pool_mask(include_skipped=True))
        key = (n_cls, self.knn.n_labeled >= self.knn.k)
        if self._eer is None or self._eer_key != key:
            self._eer = np.zeros(self.n, dtype=np.float64)
            self._eer_key = key
            rows = unlabeled
        elif changed.all():  # the k-NN's filling phase: every row changed
            rows = unlabeled
        else:
            g_idx = self.graph[0]
            dirty = changed.copy()
            for j in range(g_idx.shape[1]):  # one column at a time: no (N, k) temporary
                dirty |= changed[g_idx[:, j]]
            rows = unlabeled[dirty[unlabeled]]
        if rows.size:
            self._eer[rows] = expected_error_reduction(self.knn, n_cls, rows, self.graph[0], self.graph[1])
        return self._eer[pool]

    # ----------------------------------------------------------------- audit
    def _single_labels(self) -> int:
        return sum(1 for a in self.history if a.op == "label" and a.origin in INTERACTIVE)

    def _audit_candidate(self, pool: np.ndarray) -> Candidate | None:
        """When an audit is due, the item drawn uniformly from the pool (kept until it is labeled)."""
        if self.audit_every <= 0 or (self._single_labels() + 1) % self.audit_every != 0:
            return None
        if self._audit_item is None or not self.pool_mask()[self._audit_item]:
            self._audit_item = int(pool[self.rng.integers(pool.size)])
        i = self._audit_item
        pred, conf = self._predict_row(i)
        return Candidate(index=i, S=0.0, U=None, I=None, D=None, predicted=pred, confidence=conf, audit=True)
