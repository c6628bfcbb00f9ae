"""The drift protocol of ``simulate --drift`` (issue 14.5): new classes arrive in the middle of labeling.

Per fold (the folds of :mod:`.simulate`): the items of the drift classes are held out of the pool for the first
``drift_at`` labels, then they join it the way a rescan adds them (the pool's neighbour graph grows,
:func:`aldesk.core.neighbours.grow.grow_joined`; the k-NN already holds their rows). Accuracy is measured on the
test items of the classes present: before the arrival those of the old classes, after it all of them. Reported per
strategy, after the arrival: labels until the first item of each new class is labeled, and labels until the
accuracy is back within ``RECOVER_POINTS`` of its value just before (None where a fold does not get there within
the budget; the means are over the folds that do, with their count).

Strategies: the default, the default with the new-group hint (aldesk.core.labeling.novelty: the ranking puts a
group that looks like a new class first, as the window suggests it), and random.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from aldesk.core.evaluate.simulate import DEFAULT_FOLDS, kfold, known_items, pick_one
from aldesk.core.labeling import novelty
from aldesk.core.model.knn import IncrementalKNN
from aldesk.core.neighbours import builder
from aldesk.core.neighbours.grow import grow_joined
from aldesk.core.progress import CancelFn, ProgressFn, check
from aldesk.core.query import registry
from aldesk.core.query.baselines import PoolContext

RECOVER_POINTS = 0.02
NOTICE_SUFFIX = "+new"  # "eer@10+new": the strategy with the new-group hint


@dataclass
class DriftFold:
    accuracy: np.ndarray  # (budget,)
    before: float  # accuracy after drift_at labels, on the old classes' test items
    first_label: dict[str, int | None]  # new class -> labels after the arrival until its first label
    recovered: int | None  # labels after the arrival until accuracy >= before - RECOVER_POINTS


def run_drift_fold(
    X: np.ndarray,
    y: np.ndarray,
    pool: np.ndarray,
    test: np.ndarray,
    drift: np.ndarray,
    drift_at: int,
    strategy: registry.Strategy,
    notice: bool,
    budget: int,
    k: int,
    n_classes: int,
    rng: np.random.Generator,
    cancel: CancelFn | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(accuracy (budget,), class of each label (budget,)) for one fold; ``drift`` are the held class indices."""
    held_mask = np.isin(y[pool], drift)
    present, held = pool[~held_mask], pool[held_mask]
    sub = np.concatenate([present, held, test])  # pool rows first (graph numbering), then the test fold
    Xs, ys = X[sub], y[sub]
    n_present, n_pool = present.size, present.size + held.size
    test_rows = np.arange(n_pool, sub.size)
    old_test = test_rows[~np.isin(ys[test_rows], drift)]
    knn = IncrementalKNN(Xs, k)
    uses_graph = not strategy.is_random
    graph = builder.knn_graph(Xs[:n_present]) if uses_graph else None
    available = np.zeros(n_pool, dtype=bool)
    available[:n_present] = True
    acc = np.empty(budget)
    classes = np.full(budget, -1, dtype=np.int64)
    new_rows = np.arange(n_present, n_pool)
    density = graph[1].mean(axis=1).astype(np.float32) if graph is not None else None
    ctx = PoolContext(Xs, np.arange(n_present), density, seed, {}, graph)
    for step in range(budget):
        if step % 16 == 0:
            check(cancel)
        if step == drift_at:  # the new classes arrive: the graph takes them in, they are candidates at once
            available[n_present:] = True
            if graph is not None:
                graph = grow_joined(Xs[:n_pool], graph[0], graph[1])  # a view: no copy of the pool
                density = graph[1].mean(axis=1).astype(np.float32)
            ctx = PoolContext(Xs, np.arange(n_pool), density, seed, {}, graph)
        cand = np.flatnonzero(available)
        if cand.size == 0:
            acc[step:] = acc[step - 1] if step else 0.0
            break
        pick = -1
        hint = notice and step >= drift_at and not _audit_step(strategy, step)
        if hint and graph is not None and density is not None:
            groups = novelty.new_groups(
                knn.max_similarity()[:n_pool], density, graph[0], new_rows, knn.labeled
            )
            if groups:
                pick = int(groups[0].items[0])
        if pick < 0:
            pick = pick_one(strategy, step, knn, n_classes, cand, ctx, rng, density, graph)
        available[pick] = False
        knn.add(pick, int(ys[pick]))
        classes[step] = ys[pick]
        rows = test_rows if step >= drift_at else old_test
        p = knn.probabilities(n_classes, rows)
        acc[step] = float((p.argmax(axis=1) == ys[rows]).mean())
    return acc, classes


def _audit_step(strategy: registry.Strategy, step: int) -> bool:
    return bool(strategy.every and (step + 1) % strategy.every == 0)


def fold_summary(
    acc: np.ndarray, classes: np.ndarray, drift: np.ndarray, names: np.ndarray, drift_at: int
) -> DriftFold:
    before = float(acc[drift_at - 1]) if drift_at > 0 else 0.0
    after = np.arange(drift_at, acc.size)
    first = {}
    for c in drift:
        hit = after[classes[after] == c]
        first[str(names[c])] = int(hit[0] - drift_at + 1) if hit.size else None
    back = after[acc[after] >= before - RECOVER_POINTS]
    return DriftFold(acc, before, first, int(back[0] - drift_at + 1) if back.size else None)


def simulate_drift(
    X: np.ndarray,
    labels: list[str] | np.ndarray,
    *,
    drift_classes: list[str],
    drift_at: int,
    strategies: list[str],
    folds: int = DEFAULT_FOLDS,
    budget: int = 300,
    k: int = 10,
    seed: int = 0,
    dataset: str = "",
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> dict:
    """Run the drift protocol; returns the JSON-ready summary (see the module's docstring)."""
    X, names, y = known_items(X, labels)
    unknown = [c for c in drift_classes if c not in set(names)]
    if unknown:
        raise ValueError(
            f"--drift names no class of the data: {', '.join(unknown)} (classes: {', '.join(names)})"
        )
    drift = np.array([int(np.flatnonzero(names == c)[0]) for c in drift_classes])
    if drift.size >= names.size - 1:
        raise ValueError("--drift must leave at least two classes in the pool before the arrival")
    if not 0 < drift_at < budget:
        raise ValueError(f"--drift-at must be between 1 and the budget - 1 ({budget - 1})")
    from aldesk.core.labeling.session import DEFAULT_SIMULATION_STRATEGY

    base = registry.expand_strategies(list(strategies), DEFAULT_SIMULATION_STRATEGY)
    runs = (
        [(s, False) for s in base]
        + [(s + NOTICE_SUFFIX, True) for s in base if s != "random"]
        + [("random", False)]
    )
    rng = np.random.default_rng(seed)
    splits = kfold(X.shape[0], folds, rng, y)
    budget = min(budget, X.shape[0] - max(s.size for s in splits))
    out: dict = {
        "dataset": dataset,
        "n_items": int(X.shape[0]),
        "n_classes": int(names.size),
        "folds": folds,
        "budget": budget,
        "drift": list(drift_classes),
        "drift_at": drift_at,
        "strategies": {},
    }
    results: dict[str, list[DriftFold]] = {name: [] for name, _ in runs}
    total, done = folds * len(runs), 0
    for f, test in enumerate(splits):
        pool = np.setdiff1d(np.arange(X.shape[0]), test, assume_unique=True)
        for name, notice in runs:
            check(cancel)
            strat = registry.parse_strategy(name.removesuffix(NOTICE_SUFFIX))
            srng = np.random.default_rng([seed, f, zlib.crc32(name.removesuffix(NOTICE_SUFFIX).encode())])
            acc, cls = run_drift_fold(
                X,
                y,
                pool,
                test,
                drift,
                drift_at,
                strat,
                notice,
                budget,
                k,
                names.size,
                srng,
                cancel,
                seed * 1000 + f,
            )
            results[name].append(fold_summary(acc, cls, drift, names, drift_at))
            done += 1
            if progress is not None:
                progress(done / total, f"fold {f + 1}/{folds}: {name}")
    for name, fs in results.items():
        out["strategies"][name] = summarise(fs, folds)
    return out


def _mean(values: list[int | None]) -> dict:
    got = [v for v in values if v is not None]
    return {"mean": round(float(np.mean(got)), 1) if got else None, "folds": len(got), "per_fold": values}


def summarise(fs: list[DriftFold], folds: int) -> dict:
    first = {c: _mean([f.first_label[c] for f in fs]) for c in fs[0].first_label}
    return {
        "accuracy_before": round(float(np.mean([f.before for f in fs])), 4),
        "first_label_after": first,
        "recovered_after": _mean([f.recovered for f in fs]),
        "accuracy": [round(float(a), 6) for a in np.mean([f.accuracy for f in fs], axis=0)],
    }


def print_drift_table(out: dict) -> None:
    print(
        f"{out['dataset']}: {out['n_items']} items, {out['n_classes']} classes, {out['folds']} folds, budget "
        f"{out['budget']}; {', '.join(out['drift'])} held out until label {out['drift_at']}"
    )
    heads = [f"first {c}" for c in out["drift"]]
    print(
        f"{'strategy':<22} {'acc before':>10} "
        + " ".join(f"{h:>16}" for h in heads)
        + f" {'back within 2 pts':>18} {'acc at end':>10}"
    )
    for name, s in out["strategies"].items():
        cells = [_cell(s["first_label_after"][c], out["folds"]) for c in out["drift"]]
        print(
            f"{name:<22} {s['accuracy_before']:10.3f} "
            + " ".join(f"{c:>16}" for c in cells)
            + f" {_cell(s['recovered_after'], out['folds']):>18} {s['accuracy'][-1]:10.3f}"
        )


def _cell(m: dict, folds: int) -> str:
    if m["mean"] is None:
        return "-"
    return f"{m['mean']:.1f}" + ("" if m["folds"] == folds else f" ({m['folds']}/{folds})")
