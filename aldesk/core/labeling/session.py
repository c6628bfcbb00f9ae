"""The labeling loop the GUI drives: ranked candidates, label / skip / undo, classes, predictions.

Every state change is an :class:`Action`. Before the in-memory state changes, the action is handed to the
``journal`` callable (the project file commits it there); if the journal raises, nothing changes. Reopening a
project restores the state from the project's materialised labels plus its action log (:meth:`Session.restore`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np

from aldesk.core.labeling.actions import INTERACTIVE, Action, stacks
from aldesk.core.labeling.ops import op
from aldesk.core.model.knn import IncrementalKNN
from aldesk.core.neighbours import builder
from aldesk.core.query import measures, registry, zeroshot
from aldesk.core.query.baselines import PoolContext
from aldesk.core.query.eer import expected_error_reduction
from aldesk.core.query.registry import DEFAULT_STRATEGY  # the app's default strategy, named with the others

DEFAULT_K = 10
# The app shows an audit item (a uniform random pick) every DEFAULT_AUDIT_EVERY labels; ``simulate`` runs the app's
# default as the strategy "eer@10", which makes the same random picks.
DEFAULT_AUDIT_EVERY = 10
DEFAULT_SIMULATION_STRATEGY = f"{DEFAULT_STRATEGY}@{DEFAULT_AUDIT_EVERY}"
DEFAULT_CANDIDATES = 24


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


@dataclass(frozen=True)
class Prediction:
    index: int
    predicted: str | None
    probabilities: dict[str, float]
    neighbours: list[tuple[int, float, str]]  # (item, similarity, its label), most similar first


class Session:
    """Labels, classes and the ranking over one set of embeddings.

    Parameters
    ----------
    vectors : (N, d) float32, L2-normalised; rows of unusable items may be zero.
    classes : class names, in key order (key 1 = classes[0]).
    eligible : bool (N,), items that may be ranked/labeled (False for items that failed to embed).
    density : (N,) density values, or None to start with global density (instant); see :meth:`set_density`.
    journal : called with each Action BEFORE the state changes; must persist it (commit) or raise.
    """

    def __init__(
        self,
        vectors: np.ndarray,
        classes: Iterable[str] = (),
        *,
        k: int = DEFAULT_K,
        strategy: str | registry.Strategy = DEFAULT_STRATEGY,
        eligible: np.ndarray | None = None,
        density: np.ndarray | None = None,
        graph: tuple[np.ndarray, np.ndarray] | None = None,
        journal: Callable[[Action], None] | None = None,
        n_candidates: int = DEFAULT_CANDIDATES,
        seed: int = 0,
        audit_every: int = 0,
    ) -> None:
        self.X = vectors
        self.classes: list[str] = []
        for c in classes:
            self._check_new_class(c)
            self.classes.append(c)
        self.knn = IncrementalKNN(vectors, k)
        self.strategy = (
            strategy if isinstance(strategy, registry.Strategy) else registry.parse_strategy(strategy)
        )
        n = vectors.shape[0]
        self.eligible = (
            np.ones(n, dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool).copy()
        )
        self.skipped = np.zeros(n, dtype=bool)
        self.density_kind = "global"
        self.density = builder.global_density(vectors) if density is None else np.asarray(density, np.float32)
        if density is not None:
            self.density_kind = "knn"
        self._density_cdf: measures.PresortedCDF | None = None  # sorted once, lazily, per density
        self.graph: tuple[np.ndarray, np.ndarray] | None = None  # whole-pool k-NN graph, for "eer"
        self._eer: np.ndarray | None = (
            None  # expected error reduction per item, updated where the k-NN changed
        )
        self._eer_key: tuple | None = None
        if graph is not None:
            self._set_graph(graph)
        self.journal = journal
        self.n_candidates = n_candidates
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self._ctx: PoolContext | None = None  # see _pool_context
        self._ctx_key: tuple | None = None
        self.history: list[Action] = []  # undo stack
        self.redo_stack: list[
            tuple[Action, ...]
        ] = []  # what undos reverted, newest last (see actions.stacks)
        # Every audit_every-th single label is an audit item drawn uniformly from the pool (0 = no audit).
        self.audit_every = int(audit_every)
        self._audit_item: int | None = None
        self._next_seq = 0
        self._ranking: list[Candidate] | None = None
        self.zero_shot: np.ndarray | None = None  # (N, classes) prior from class descriptions: set_zero_shot

    # ------------------------------------------------------------ read state
    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def labels(self) -> dict[int, str]:
        """Current labels, item -> class name."""
        lab = self.knn.labeled
        return {int(i): self.classes[self.knn.label[i]] for i in lab}

    def label_of(self, index: int) -> str | None:
        c = self.knn.label[index]
        return None if c < 0 else self.classes[c]

    @property
    def n_labeled(self) -> int:
        return self.knn.n_labeled

    def counts(self) -> dict[str, int]:
        """Labeled items per class (every class listed, zeros included)."""
        lab = self.knn.label[self.knn.labeled]
        bc = np.bincount(lab, minlength=len(self.classes)) if lab.size else np.zeros(len(self.classes), int)
        return {c: int(bc[i]) for i, c in enumerate(self.classes)}

    def pool_mask(self, include_skipped: bool = False) -> np.ndarray:
        m = self.eligible & (self.knn.label < 0)
        if not include_skipped:
            m &= ~self.skipped
        return m

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

    def _predict_row(self, index: int) -> tuple[str | None, float]:
        zs = self._zero_shot()
        if (self.knn.n_labeled == 0 and zs is None) or not self.classes:
            return None, 0.0
        p = self.knn.probabilities(len(self.classes), np.array([index]))[0]
        if zs is not None:
            p = zeroshot.blend(p[None], zs[[index]], self.knn.n_labeled, self._zs_weight(zs))[0]
        best = int(p.argmax())
        return self.classes[best], float(p[best])

    def audit_records(self) -> list[tuple[int, bool]]:
        """(labels before the audit item was labeled, was the k-NN right) for the audit labels in force."""
        out = []
        n = 0
        for a in self.history:
            if a.op != "label":
                continue
            if a.origin == "audit" and a.predicted is not None:
                out.append((n, a.predicted == a.cls))
            n += sum(1 for p in a.prev if p is None)
        return out

    def loo_accuracy_labeled(self) -> float | None:
        """The same figure as :meth:`loo_accuracy`, computed on the labeled rows only (O(labels), not O(pool)):
        the accuracy chart asks after every label."""
        from aldesk.core.evaluate.curves import loo_accuracy

        return loo_accuracy(self.knn, len(self.classes))

    def loo_accuracy(self) -> float | None:
        """Leave-one-out accuracy over all labels: optimistic, since active picks are not a random sample."""
        lab = self.knn.labeled
        if lab.size < 2:
            return None
        pred, _ = self.predictions()
        return float((pred[lab] == self.knn.label[lab]).mean())

    def predict(self, index: int, n_neighbours: int | None = None) -> Prediction:
        """Prediction and explanation for any item; a labeled item is predicted without its own label."""
        n_cls = max(1, len(self.classes))
        p, nbrs = self.knn.predict_exact(index, n_cls, n_neighbours)
        has = bool(nbrs) and bool(self.classes)
        return Prediction(
            index=index,
            predicted=self.classes[int(p.argmax())] if has else None,
            probabilities={c: float(p[i]) for i, c in enumerate(self.classes)},
            neighbours=[(j, s, self.classes[self.knn.label[j]]) for j, s in nbrs],
        )

    def predictions(self) -> tuple[np.ndarray, np.ndarray]:
        """Predicted class index and confidence for every item (from the stored top-k; -1 with no labels).

        For labeled items this is leave-one-out: their own label does not vote.
        """
        n_cls = max(1, len(self.classes))
        p = self.knn.probabilities(n_cls, exclude_self=True)
        zs = self._zero_shot()
        if zs is not None:
            p = zeroshot.blend(p, zs, self.knn.n_labeled, self._zs_weight(zs))
        pred = p.argmax(axis=1).astype(np.int32)
        conf = p.max(axis=1)
        if self.knn.n_labeled == 0 and zs is None:
            pred[:] = -1
        return pred, conf

    # ------------------------------------------------------------- zero-shot
    def set_zero_shot(self, zs_prior: np.ndarray | None) -> None:
        """Class probabilities before any label (:mod:`aldesk.core.query.zeroshot`), one column per class, or None.

        They order the first candidates (an item most like each class without a label) and are blended into
        every prediction with a weight that shrinks as labels arrive. A class added later has no column: the
        prior is then ignored (the k-NN alone predicts), never mis-assigned.
        """
        if zs_prior is not None and zs_prior.shape[0] != self.n:
            raise ValueError(f"the zero-shot prior has {zs_prior.shape[0]} rows for {self.n} items")
        self.zero_shot = None if zs_prior is None else np.asarray(zs_prior, dtype=np.float32)
        self._ranking = None

    def _zs_weight(self, zs: np.ndarray) -> float:
        labeled = self.knn.labeled
        return zeroshot.prior_weight(zs[labeled], self.knn.label[labeled])

    def _zero_shot(self) -> np.ndarray | None:
        zs = self.zero_shot
        return zs if zs is not None and zs.shape[1] == len(self.classes) and len(self.classes) > 1 else None

    # --------------------------------------------------------------- actions
    def _commit(self, action: Action) -> Action:
        action = replace(action, seq=self._next_seq)
        if self.journal is not None:
            self.journal(action)  # persists or raises; the state below changes only after it succeeded
        self._next_seq += 1
        self._apply(action)
        self._ranking = None
        return action

    def _class_index(self, name: str) -> int:
        try:
            return self.classes.index(name)
        except ValueError:
            raise KeyError(f"unknown class {name!r}") from None

    def label(self, index: int, cls: str, origin: str = "user") -> Action:
        """Label one item (relabel if it has a label)."""
        return self.label_many([index], cls, origin)

    def label_many(
        self, indices: Iterable[int], cls: str, origin: str = "batch", group: int | None = None
    ) -> Action:
        """Label several items in one action: one undo reverts them all (and every action of ``group``)."""
        self._class_index(cls)
        items = tuple(int(i) for i in indices)
        if not items:
            raise ValueError("nothing to label")
        for i in items:
            if not self.eligible[i]:
                raise ValueError(f"item {i} cannot be labeled (it has no embedding)")
        prev = tuple(self.label_of(i) for i in items)
        prev_ids = tuple(int(self.knn.label[i]) for i in items)
        predicted = None
        if len(items) == 1 and items[0] == self._audit_item and origin in INTERACTIVE:
            origin = "audit"
            predicted = self._predict_row(items[0])[0]
        action = self._commit(
            Action("label", items, cls, prev, origin, predicted=predicted, prev_ids=prev_ids, group=group)
        )
        if origin == "audit":
            self._audit_item = None
        return action

    def label_by_class(self, by_class: dict[str, list[int]], origin: str) -> list[Action]:
        """Each class its items, one label action per class, all one undo (the grid's Enter on mixed predictions)."""
        for cls in by_class:
            self._class_index(cls)
        group = self._next_seq
        return [self.label_many(items, cls, origin, group=group) for cls, items in by_class.items()]

    def skip(self, index: int) -> Action:
        return self._commit(Action("skip", (int(index),)))

    def unskip(self, index: int) -> Action:
        return self._commit(Action("unskip", (int(index),)))

    def keep(self, index: int) -> Action:
        """The review queue's K: the label of labeled item ``index`` stays; logged so the queue does not ask again
        (:func:`aldesk.core.quality.review.reviewed_items`). Undoable like a skip."""
        if self.knn.label[index] < 0:
            raise ValueError(f"item {index} has no label to keep")
        return self._commit(Action("keep", (int(index),), cls=self.label_of(index), origin="review"))

    def undo(self) -> Action | None:
        """Revert the most recent label/skip still in force; None when there is nothing to undo."""
        if not self.history:
            return None
        target = self.history[-1]
        targets: tuple[int, ...] = ()
        if target.group is not None:
            group = []
            for a in reversed(self.history):
                if a.group != target.group:
                    break
                group.append(a.seq)
            targets = tuple(group)
        self._commit(
            Action(
                "undo",
                target.items,
                target.cls,
                target.prev,
                target.origin,
                target=target.seq,
                targets=targets,
            )
        )
        return target

    def redo(self) -> tuple[Action, ...] | None:
        """Apply again what the most recent undo reverted; None when there is nothing to redo (nothing was undone,
        or an action since then emptied the redo stack)."""
        if not self.redo_stack:
            return None
        entry = self.redo_stack[-1]
        last = entry[-1]
        self._commit(
            Action("redo", last.items, last.cls, last.prev, last.origin, targets=tuple(a.seq for a in entry))
        )
        return entry

    def class_items(self, name: str) -> list[int]:
        """The items labeled ``name``, in labeling order (what a merge or delete of the class touches)."""
        c = self._class_index(name)
        return [int(i) for i in self.knn.labeled if self.knn.label[i] == c]

    def merge_class(self, source: str, target: str) -> Action:
        """Class ``source`` goes into ``target``: its items get ``target`` and it leaves the class list (undoable)."""
        pos = self._class_index(source)
        self._class_index(target)
        if source == target:
            raise ValueError("a class cannot be merged into itself")
        items = tuple(self.class_items(source))
        return self._commit(Action("merge_class", items, target, (source,), prev_ids=(pos,)))

    def delete_class(self, name: str) -> Action:
        """Class ``name`` leaves the class list; its items become unlabeled, back in the pool (undoable)."""
        pos = self._class_index(name)
        items = tuple(self.class_items(name))
        return self._commit(Action("delete_class", items, name, prev_ids=(pos,)))

    def add_class(self, name: str) -> Action:
        self._check_new_class(name)
        return self._commit(Action("add_class", cls=name))

    def rename_class(self, old: str, new: str) -> Action:
        self._class_index(old)
        if new != old:
            self._check_new_class(new)
        return self._commit(Action("rename_class", cls=new, prev=(old,)))

    def _check_new_class(self, name: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a class name cannot be empty")
        if name != name.strip():
            raise ValueError("a class name cannot start or end with spaces")
        if name in self.classes:
            raise ValueError(f"class {name!r} exists already")

    # ------------------------------------------------------ applying actions
    def _apply(self, a: Action, *, log: bool = True) -> None:
        """What ``a`` does to the session in memory: its op says (:mod:`aldesk.core.labeling.ops`)."""
        kind = op(a.op)
        kind.apply(self, a)
        if log and kind.undoable:
            self.history.append(a)
        if a.op not in ("undo", "redo"):
            self.redo_stack.clear()  # a redo must meet the state its actions met (see actions.stacks)

    # The surface ops.py applies actions through (besides knn, skipped and classes).
    def class_index(self, name: str) -> int:
        return self._class_index(name)

    def pop_history(self, seq: int | None) -> Action:
        return self._pop(seq)

    def push_redo(self, entry: tuple[Action, ...]) -> None:
        self.redo_stack.append(entry)

    def pop_redo(self, seqs: tuple[int, ...]) -> tuple[Action, ...]:
        if not self.redo_stack or tuple(a.seq for a in self.redo_stack[-1]) != tuple(seqs):
            raise ValueError(f"cannot redo actions {list(seqs)}: they are not the last undone")
        return self.redo_stack.pop()

    def _pop(self, seq: int | None) -> Action:
        for j in range(len(self.history) - 1, -1, -1):
            if self.history[j].seq == seq:
                return self.history.pop(j)
        raise ValueError(f"cannot undo action {seq}: it is not in the undo history")

    # ------------------------------------------------------------- reopening
    def replay(self, actions: Iterable[Action]) -> None:
        """Re-apply a log action by action (no journal). Exact, but one mat-vec per label: for small logs."""
        for a in actions:
            self._apply(a)
            self._next_seq = max(self._next_seq, a.seq + 1)
        self._ranking = None

    def restore(
        self,
        labels: dict[int, str],
        skipped: Iterable[int],
        actions: list[Action],
        slots: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray] | None] | None = None,
    ) -> None:
        """Reopen from a project's materialised state: labels and skips in one block, undo stack from the log.

        ``self.classes`` must already be the project's current class list. ``slots(labeled)``, when given, may
        return stored neighbour slots for exactly these labeled items (see aldesk.core.neighbours.store), which replaces
        the N x L x d rebuild.
        """
        idx = np.fromiter(labels.keys(), dtype=np.int64, count=len(labels))
        cls = np.fromiter((self._class_index(c) for c in labels.values()), dtype=np.int32, count=len(labels))
        # Keep the labeling order of the log so that "last picks" and learning curves replay faithfully.
        order: dict[int, int] = {}
        for a in actions:
            if a.op == "label":
                for i in a.items:
                    order.setdefault(i, a.seq)
        if idx.size:
            perm = np.argsort([order.get(int(i), 1 << 62) for i in idx], kind="stable")
            idx, cls = idx[perm], cls[perm]
        stored = slots(idx) if slots is not None and idx.size >= self.knn.k else None
        if stored is not None:
            self.knn.set_labels_with_slots(idx, cls, *stored)
        else:
            self.knn.add_many(idx, cls)
        self.skipped[:] = False
        self.skipped[np.fromiter(skipped, dtype=np.int64)] = True
        self.history, self.redo_stack = stacks(actions)
        self._next_seq = max((a.seq for a in actions), default=-1) + 1
        self._ranking = None

    # ------------------------------------------------------- read API (for the UI)
    # What the window reads of the classifier, by name, so that UI code never reaches into ``self.knn`` (its
    # arrays are the session's state: one stray write would desynchronise labels, votes and the log). Everything
    # returned is a fresh array or a read-only view.
    @property
    def k(self) -> int:
        """Neighbours per vote (the project's saved k, or the default)."""
        return self.knn.k

    def labeled_items(self) -> np.ndarray:
        """The labeled items in the order they were labeled (a reopen keeps the log's order). A copy."""
        return self.knn.labeled

    def label_index(self, items: np.ndarray | None = None) -> np.ndarray:
        """Class index (into :attr:`classes`) of each of ``items`` (indices or a bool mask; all items when None),
        -1 where unlabeled. A copy."""
        return self.knn.label.copy() if items is None else self.knn.label[np.asarray(items)]

    def probabilities(self, items: np.ndarray | None = None) -> np.ndarray:
        """(len(items), len(classes)) class probabilities from the stored top-k votes: no mat-vec, so cheap
        enough for a hover or a restyle of the map. Uniform while nothing is labeled. A labeled item's own vote
        counts; :meth:`predictions` is the leave-one-out reading, :meth:`predict` the exact one."""
        rows = None if items is None else np.asarray(items)
        return self.knn.probabilities(max(1, len(self.classes)), rows)

    def neighbour_slots(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(labeled items, neighbour slots (N, k), their similarities (N, k)): what a project stores on close so
        that the next open skips the N x L x d rebuild (``aldesk.core.neighbours.store.save_knn_state``). Read-only views:
        no copy of two N x k arrays at 1M items."""
        nbr, sim = self.knn.nbr.view(), self.knn.sim.view()
        nbr.flags.writeable = False
        sim.flags.writeable = False
        return self.knn.labeled, nbr, sim
