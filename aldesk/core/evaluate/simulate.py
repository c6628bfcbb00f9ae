"""Learning curves: the evaluation protocol of SCORING.md (K folds, strategies vs random, k-NN accuracy).

In each fold the pool starts unlabeled; at every step a strategy picks one pool item, its true label is revealed,
and the k-NN's accuracy on the held-out fold is recorded. Curves are averaged over folds; ``random`` always runs
beside the other strategies on the same folds.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from aldesk.core.model.knn import IncrementalKNN
from aldesk.core.neighbours import builder
from aldesk.core.progress import CancelFn, ProgressFn, check
from aldesk.core.query import registry
from aldesk.core.query.baselines import PoolContext

DEFAULT_FOLDS = 16


@dataclass
class SimulationResult:
    dataset: str
    n_items: int
    n_classes: int
    folds: int
    budget: int
    full_accuracy: float
    curves: dict[str, np.ndarray]  # strategy -> (folds, budget) accuracies

    def to_dict(self) -> dict:
        strategies = {}
        for name, c in self.curves.items():
            mean = c.mean(axis=0)
            strategies[name] = {
                "accuracy": [round(float(a), 6) for a in mean],
                "auc": float(mean.mean()),
                "labels_to_90": labels_to(mean, 0.90 * self.full_accuracy),
                "labels_to_95": labels_to(mean, 0.95 * self.full_accuracy),
            }
        return {
            "dataset": self.dataset,
            "n_items": self.n_items,
            "n_classes": self.n_classes,
            "folds": self.folds,
            "budget": self.budget,
            "full_accuracy": self.full_accuracy,
            "strategies": strategies,
        }


def labels_to(curve: np.ndarray, target: float) -> int | None:
    """Labels needed (1-based) for the mean curve to first reach ``target``; None if it never does."""
    hit = np.flatnonzero(curve >= target)
    return int(hit[0]) + 1 if hit.size else None


def kfold(n: int, folds: int, rng: np.random.Generator, y: np.ndarray | None = None) -> list[np.ndarray]:
    """Test-index arrays of a (stratified when ``y`` is given) K-fold split."""
    if folds < 2:
        raise ValueError("need at least 2 folds")
    if folds > n:
        raise ValueError(f"{folds} folds need at least {folds} items")
    assign = np.empty(n, dtype=np.int64)
    if y is None:
        perm = rng.permutation(n)
        assign[perm] = np.arange(n) % folds
    else:
        # Deal each class round-robin over the folds, continuing where the previous class stopped.
        offset = 0
        for c in np.unique(y):
            members = rng.permutation(np.flatnonzero(y == c))
            assign[members] = (offset + np.arange(members.size)) % folds
            offset += members.size
    return [np.flatnonzero(assign == f) for f in range(folds)]


def knn_accuracy(
    X: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, k: int, n_classes: int
) -> float:
    """Accuracy on ``test`` of the k-NN that knows every label of ``train`` (exact, chunked)."""
    knn = IncrementalKNN(X, k)
    knn.add_many(train, y[train])
    p = knn.probabilities(n_classes, test)
    return float((p.argmax(axis=1) == y[test]).mean())


def run_fold(
    X: np.ndarray,
    y: np.ndarray,
    pool: np.ndarray,
    test: np.ndarray,
    strategy: registry.Strategy,
    budget: int,
    k: int,
    n_classes: int,
    rng: np.random.Generator,
    density: np.ndarray | None = None,
    cancel: CancelFn | None = None,
    graph: tuple[np.ndarray, np.ndarray] | None = None,
    memo: dict | None = None,
    seed: int = 0,
) -> np.ndarray:
    """One learning curve: accuracy on ``test`` after 1..budget labels picked from ``pool`` by ``strategy``.

    ``density`` is over ``pool`` (aligned with it), ``graph`` the pool's k-NN graph (indices into ``pool``).
    Works on the pool+test sub-matrix so each label costs one (|pool|+|test|) x d mat-vec, exactly as in the app.
    A pool strategy (typiclust, probcover, …) sees only the pool, never the test fold; ``memo`` carries its
    label-free work (clusterings, ball graphs) between the strategies of one fold.
    """
    sub = np.concatenate([pool, test])
    Xs = X[sub]
    ys = y[sub]
    n_pool = pool.size
    test_rows = np.arange(n_pool, sub.size)
    knn = IncrementalKNN(Xs, k)
    available = np.ones(n_pool, dtype=bool)
    ctx = PoolContext(Xs, np.arange(n_pool), density, seed, {} if memo is None else memo, graph)
    acc = np.empty(budget, dtype=np.float64)
    for step in range(budget):
        if step % 16 == 0:
            check(cancel)
        cand = np.flatnonzero(available)
        if cand.size == 0:
            acc[step:] = acc[step - 1] if step else 0.0
            break
        pick = pick_one(strategy, step, knn, n_classes, cand, ctx, rng, density, graph)
        available[pick] = False
        knn.add(pick, int(ys[pick]))
        p = knn.probabilities(n_classes, test_rows)
        acc[step] = float((p.argmax(axis=1) == ys[test_rows]).mean())
    return acc


def pick_one(
    strategy: registry.Strategy,
    step: int,
    knn: IncrementalKNN,
    n_classes: int,
    cand: np.ndarray,
    ctx: PoolContext,
    rng: np.random.Generator,
    density: np.ndarray | None,
    graph: tuple[np.ndarray, np.ndarray] | None,
) -> int:
    """The item ``strategy`` picks at ``step`` (0-based) among the pool rows ``cand``: one step of a curve, shared
    by the protocol here and its variants (evaluate/drift.py, evaluate/effort.py)."""
    active = strategy.active(knn.n_labeled)  # a cold start's first strategy, then the strategy itself
    if active.is_random or (strategy.every and (step + 1) % strategy.every == 0):
        return int(cand[rng.integers(cand.size)])
    if active.picker is not None:
        probs = knn.probabilities(n_classes, cand) if active.picker == "info-density" else None
        return int(
            cand[int(np.argmax(registry.picker_scores(active.picker, ctx, knn, n_classes, cand, probs)))]
        )
    probs = knn.probabilities(n_classes, cand) if active.measure else None
    dens = density[cand] if density is not None else None
    ms = knn.max_similarity(cand) if active.diversity else None
    meas = registry.measure_values(active, knn, n_classes, cand, probs, graph)
    idx, _ = registry.select(active, 1, rng, probs, dens, ms, measure=meas)
    return int(cand[idx[0]])


def known_items(X: np.ndarray, labels: list[str] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows of ``X`` with a known label (None/"" rows dropped), the sorted class names, and each kept row's
    class index: what every simulation protocol (here, drift, effort, stopping, zero-shot) starts from."""
    labels = np.asarray(labels, dtype=object)
    known = np.array([lab is not None and lab != "" for lab in labels], dtype=bool)
    names, y = np.unique(labels[known].astype(str), return_inverse=True)
    return X[known], names, y


def simulate(
    X: np.ndarray,
    labels: list[str] | np.ndarray,
    *,
    strategies: list[str],
    folds: int = DEFAULT_FOLDS,
    budget: int = 200,
    k: int = 10,
    seed: int = 0,
    dataset: str = "",
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> SimulationResult:
    """Run the protocol. ``labels`` are the known labels of the rows of X (None/"" rows are dropped)."""
    X, class_names, y = known_items(X, labels)
    n, n_classes = X.shape[0], class_names.size
    if n_classes < 2:
        raise ValueError("simulation needs items of at least two known classes")
    from aldesk.core.labeling.session import DEFAULT_SIMULATION_STRATEGY

    names = registry.expand_strategies(list(strategies) + ["random"], DEFAULT_SIMULATION_STRATEGY)
    parsed = [registry.parse_strategy(s) for s in names]
    rng = np.random.default_rng(seed)
    splits = kfold(n, folds, rng, y)
    budget_eff = min(budget, n - max(s.size for s in splits))
    curves = {name: np.zeros((folds, budget_eff)) for name in names}
    full = np.zeros(folds)
    total = folds * len(parsed)
    done = 0
    for f, test in enumerate(splits):
        pool = np.setdiff1d(np.arange(n), test, assume_unique=True)
        full[f] = knn_accuracy(X, y, pool, test, k, n_classes)
        dens_cache: dict[str, np.ndarray] = {}
        memo: dict = {}
        graph = None
        for name, strat in zip(names, parsed, strict=True):
            check(cancel)
            if strat.is_random:
                kind = None
            else:
                # A strategy without a density factor still breaks a first tie by typicality, as the app does:
                # eer has the k-NN graph anyway; the others take the global density (cheap, order-free).
                kind = strat.density or (
                    "knn" if strat.measure == "eer" or strat.picker or strat.cold else "global"
                )
            if graph is None and (kind == "knn" or strat.measure == "eer" or strat.picker or strat.cold):
                graph = builder.knn_graph(X[pool])
                dens_cache["knn"] = graph[1].mean(axis=1).astype(np.float32)
            if kind and kind not in dens_cache:
                dens_cache[kind] = builder.global_density(X[pool])
            # Each strategy gets its own generator, seeded per fold, so adding a strategy changes no other curve.
            srng = np.random.default_rng([seed, f, zlib.crc32(name.encode())])
            curves[name][f] = run_fold(
                X,
                y,
                pool,
                test,
                strat,
                budget_eff,
                k,
                n_classes,
                srng,
                dens_cache.get(kind) if kind else None,
                cancel,
                graph if strat.measure == "eer" or strat.picker else None,
                memo,
                seed * 1000 + f,
            )
            done += 1
            if progress is not None:
                progress(done / total, f"fold {f + 1}/{folds}: {name}")
    return SimulationResult(dataset, n, n_classes, folds, budget_eff, float(full.mean()), curves)
