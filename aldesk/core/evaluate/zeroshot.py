"""``simulate --zero-shot``: accuracy after 0, 5 and 10 labels with the zero-shot prior vs without.

The same folds (SCORING.md's K-fold split) and strategy for both arms. Without: the protocol's own curve
(:func:`aldesk.core.evaluate.simulate.run_fold`), where 0 labels means no prediction (every test item counted
as the first class, what the k-NN's uniform vote gives). With: the session's zero-shot behaviour
(:mod:`aldesk.core.query.zeroshot`): predictions blend the prior into the k-NN, the first picks seed each class
without a label, then the strategy ranks as usual.
"""

from __future__ import annotations

import zlib

import numpy as np

from aldesk.core.evaluate.simulate import kfold, known_items, run_fold
from aldesk.core.model.knn import IncrementalKNN
from aldesk.core.neighbours import builder
from aldesk.core.progress import CancelFn, ProgressFn, check
from aldesk.core.query import registry, zeroshot

CHECKPOINTS = (0, 5, 10)


def _zero_shot_fold(
    X: np.ndarray,
    y: np.ndarray,
    zs: np.ndarray,
    pool: np.ndarray,
    test: np.ndarray,
    strategy: registry.Strategy,
    budget: int,
    k: int,
    n_classes: int,
    rng: np.random.Generator,
    density: np.ndarray,
    graph: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Accuracy on ``test`` after 0..budget labels, picked and predicted as a session with the prior does."""
    sub = np.concatenate([pool, test])
    ys, zsub = y[sub], zs[sub]
    n_pool = pool.size
    test_rows = np.arange(n_pool, sub.size)
    knn = IncrementalKNN(X[sub], k)
    available = np.ones(n_pool, dtype=bool)
    counts = np.zeros(n_classes, dtype=np.int64)
    acc = np.empty(budget + 1)

    def weight() -> float:
        return zeroshot.prior_weight(zsub[knn.labeled], ys[knn.labeled])

    def accuracy() -> float:
        p = zeroshot.blend(knn.probabilities(n_classes, test_rows), zsub[test_rows], knn.n_labeled, weight())
        return float((p.argmax(axis=1) == ys[test_rows]).mean())

    acc[0] = accuracy()
    for step in range(budget):
        cand = np.flatnonzero(available)
        seeds = zeroshot.seed_order(zsub, cand, counts, 1) if weight() > 0 else None
        active = strategy.active(knn.n_labeled)
        if seeds is not None:
            pick = cand[seeds[0]]
        elif active.is_random or (strategy.every and (step + 1) % strategy.every == 0):
            pick = cand[rng.integers(cand.size)]
        else:
            probs = zeroshot.blend(knn.probabilities(n_classes, cand), zsub[cand], knn.n_labeled, weight())
            meas = registry.measure_values(active, knn, n_classes, cand, probs, graph)
            ms = knn.max_similarity(cand) if active.diversity else None
            idx, _ = registry.select(active, 1, rng, probs, density[cand], ms, measure=meas)
            pick = cand[idx[0]]
        available[pick] = False
        knn.add(pick, int(ys[pick]))
        counts[ys[pick]] += 1
        acc[step + 1] = accuracy()
    return acc


def simulate_zero_shot(
    X: np.ndarray,
    labels: list[str] | np.ndarray,
    descriptions: dict[str, np.ndarray],
    *,
    strategy: str,
    folds: int,
    k: int,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> dict:
    """Mean accuracy at :data:`CHECKPOINTS` labels, with and without the prior; ``descriptions`` maps each class
    to its embedded description (the prototype)."""
    X, class_names, y = known_items(X, labels)
    protos = np.stack([descriptions[c] for c in class_names])
    zs = zeroshot.prior(X, protos)
    n_classes = class_names.size
    strat = registry.parse_strategy(strategy)
    rng = np.random.default_rng(seed)
    splits = kfold(X.shape[0], folds, rng, y)
    budget = max(CHECKPOINTS)
    with_zs = np.zeros((folds, budget + 1))
    without = np.zeros((folds, budget + 1))
    for f, test in enumerate(splits):
        check(cancel)
        pool = np.setdiff1d(np.arange(X.shape[0]), test, assume_unique=True)
        graph = builder.knn_graph(X[pool])
        density = graph[1].mean(axis=1).astype(np.float32)
        srng = np.random.default_rng([seed, f, zlib.crc32(strategy.encode())])
        curve = run_fold(X, y, pool, test, strat, budget, k, n_classes, srng, density, cancel, graph)
        without[f, 1:] = curve
        without[f, 0] = float((y[test] == 0).mean())  # no label: the uniform vote's argmax, the first class
        zrng = np.random.default_rng([seed, f, zlib.crc32(strategy.encode())])
        with_zs[f] = _zero_shot_fold(X, y, zs, pool, test, strat, budget, k, n_classes, zrng, density, graph)
        if progress is not None:
            progress((f + 1) / folds, f"zero-shot fold {f + 1}/{folds}")
    return {
        "strategy": strategy,
        "folds": folds,
        "classes": class_names.tolist(),
        "prior_accuracy": float((zs.argmax(axis=1) == y).mean()),
        "with": {str(c): float(with_zs[:, c].mean()) for c in CHECKPOINTS},
        "without": {str(c): float(without[:, c].mean()) for c in CHECKPOINTS},
    }
