"""The expert's effort (``simulate --effort grid``, issue 13.7): accuracy against expert ACTIONS, not labels.

Without the grid, every label costs one action (a key): the default strategy picks an item, the expert names its
class. With the grid the expert alternates ``SINGLES`` such picks with one grid page (after ``start`` labels given
one by one): a page of :mod:`.effort_pages` (``confident``: the items predicted as class X, most confident first;
``candidates``: the strategy's top items, each with its own prediction), which costs one key plus one per card the
oracle finds wrong. Every label given is true on both sides; what differs is the price.

Per fold (the folds of :mod:`.simulate`): the accuracy on the test fold after each event, read as a step function of
the actions spent (1..budget) and of the labels given. Reported: actions and labels to reach 90 % / 95 % of the
whole-pool k-NN's accuracy, and the actions from which the mean curve stays there.
"""

from __future__ import annotations

import zlib

import numpy as np

from aldesk.core.evaluate import effort_pages
from aldesk.core.evaluate.simulate import DEFAULT_FOLDS, kfold, knn_accuracy, known_items, labels_to, pick_one
from aldesk.core.model.knn import IncrementalKNN
from aldesk.core.neighbours import builder
from aldesk.core.progress import CancelFn, ProgressFn, check
from aldesk.core.query import registry
from aldesk.core.query.baselines import PoolContext

SINGLES = 10  # strategy picks between two grid pages
PAGE = 20


def run_effort_fold(
    X: np.ndarray,
    y: np.ndarray,
    pool: np.ndarray,
    test: np.ndarray,
    strategy: registry.Strategy,
    grid: bool,
    actions_budget: int,
    k: int,
    n_classes: int,
    rng: np.random.Generator,
    *,
    page: int = PAGE,
    singles: int = SINGLES,
    kind: str = "confident",
    start: int = 0,
    cancel: CancelFn | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """(accuracy after 1..actions_budget actions, accuracy after 1..L labels, counts) for one fold. With the grid,
    once ``start`` items are labeled, a page of ``kind`` (:mod:`.effort_pages`) follows every ``singles`` picks."""
    sub = np.concatenate([pool, test])
    Xs, ys = X[sub], y[sub]
    n_pool = pool.size
    test_rows = np.arange(n_pool, sub.size)
    knn = IncrementalKNN(Xs, k)
    graph = builder.knn_graph(Xs[:n_pool]) if not strategy.is_random else None
    density = graph[1].mean(axis=1).astype(np.float32) if graph is not None else None
    ctx = PoolContext(Xs, np.arange(n_pool), density, seed, {}, graph)
    available = np.ones(n_pool, dtype=bool)

    def accuracy() -> float:
        return float((knn.probabilities(n_classes, test_rows).argmax(axis=1) == ys[test_rows]).mean())

    start_acc = accuracy()
    by_action = np.full(actions_budget, np.nan)
    by_label: list[float] = []
    actions = picks = pages = corrections = cards = since = 0
    next_class = 0
    while actions < actions_budget and available.any():
        if picks % 16 == 0:
            check(cancel)
        cand = np.flatnonzero(available)
        if grid and len(by_label) >= max(start, 1) and since >= singles:
            if kind == "confident":
                pg, cls = effort_pages.confident_page(knn, n_classes, cand, ys, page, next_class)
                next_class = (cls + 1) % n_classes
            else:
                pg = effort_pages.candidates_page(
                    strategy, knn, n_classes, cand, ys, page, ctx, rng, density, graph
                )
            pages += 1
            since = 0
            corrections += pg.wrong
            cards += pg.cards
            cost = pg.cost
            for i, lab in zip(pg.items.tolist(), pg.labels.tolist(), strict=True):
                available[i] = False
                knn.add(i, int(lab))
                by_label.append(np.nan)
            a = accuracy()
            if pg.items.size:
                by_label[-1] = a
        else:
            i = pick_one(strategy, picks, knn, n_classes, cand, ctx, rng, density, graph)
            picks += 1
            since += 1
            available[i] = False
            knn.add(i, int(ys[i]))
            cost = 1
            a = accuracy()
            by_label.append(a)
        actions += cost
        if actions <= actions_budget:  # a page finished past the budget does not count
            by_action[actions - 1] = a
    curve_a = _fill(by_action, start_acc)
    curve_l = _fill(np.array(by_label), start_acc)
    return (
        curve_a,
        curve_l,
        {"labels": len(by_label), "pages": pages, "corrections": corrections, "picks": picks, "cards": cards},
    )


def _fill(curve: np.ndarray, start: float) -> np.ndarray:
    """Carry the last known accuracy forward over the steps where nothing was learned (NaN)."""
    out = curve.astype(np.float64).copy()
    last = start
    for i in range(out.size):
        if np.isnan(out[i]):
            out[i] = last
        else:
            last = out[i]
    return out


def simulate_effort(
    X: np.ndarray,
    labels: list[str] | np.ndarray,
    *,
    strategies: list[str],
    folds: int = DEFAULT_FOLDS,
    budget: int = 300,
    page: int = PAGE,
    singles: int = SINGLES,
    kind: str = "confident",
    start: int = 0,
    k: int = 10,
    seed: int = 0,
    dataset: str = "",
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> dict:
    """Each strategy without and with the grid, ``budget`` expert actions per fold; JSON-ready summary."""
    X, names, y = known_items(X, labels)
    if names.size < 2:
        raise ValueError("simulation needs items of at least two known classes")
    from aldesk.core.labeling.session import DEFAULT_SIMULATION_STRATEGY

    base = registry.expand_strategies(list(strategies), DEFAULT_SIMULATION_STRATEGY)
    runs = [(s, False) for s in base] + [(s + " +grid", True) for s in base]
    rng = np.random.default_rng(seed)
    splits = kfold(X.shape[0], folds, rng, y)
    by_action = {name: np.zeros((folds, budget)) for name, _ in runs}
    by_label: dict[str, list[np.ndarray]] = {name: [] for name, _ in runs}
    counts: dict[str, list[dict]] = {name: [] for name, _ in runs}
    full = np.zeros(folds)
    total, done = folds * len(runs), 0
    for f, test in enumerate(splits):
        pool = np.setdiff1d(np.arange(X.shape[0]), test, assume_unique=True)
        full[f] = knn_accuracy(X, y, pool, test, k, names.size)
        for name, grid in runs:
            check(cancel)
            plain = name.removesuffix(" +grid")
            srng = np.random.default_rng([seed, f, zlib.crc32(plain.encode())])
            a, lab, c = run_effort_fold(
                X,
                y,
                pool,
                test,
                registry.parse_strategy(plain),
                grid,
                budget,
                k,
                names.size,
                srng,
                page=page,
                singles=singles,
                kind=kind,
                start=start,
                cancel=cancel,
                seed=seed * 1000 + f,
            )
            by_action[name][f] = a
            by_label[name].append(lab)
            counts[name].append(c)
            done += 1
            if progress is not None:
                progress(done / total, f"fold {f + 1}/{folds}: {name}")
    full_acc = float(full.mean())
    out: dict = {
        "dataset": dataset,
        "n_items": int(X.shape[0]),
        "n_classes": int(names.size),
        "folds": folds,
        "budget_actions": budget,
        "page": page,
        "singles_between_pages": singles,
        "grid_page": kind,
        "grid_start": start,
        "full_accuracy": full_acc,
        "strategies": {},
    }
    for name, _ in runs:
        ma = by_action[name].mean(axis=0)
        n_lab = min(len(x) for x in by_label[name])
        ml = np.mean([x[:n_lab] for x in by_label[name]], axis=0)
        out["strategies"][name] = {
            "accuracy_by_action": [round(float(v), 6) for v in ma],
            "accuracy_by_label": [round(float(v), 6) for v in ml],
            "actions_to_90": labels_to(ma, 0.90 * full_acc),
            "actions_to_95": labels_to(ma, 0.95 * full_acc),
            "actions_to_90_held": held_from(ma, 0.90 * full_acc),
            "actions_to_95_held": held_from(ma, 0.95 * full_acc),
            "labels_to_90": labels_to(ml, 0.90 * full_acc),
            "labels_to_95": labels_to(ml, 0.95 * full_acc),
            "accuracy_at_budget": round(float(ma[-1]), 4),
            "labels_given": round(float(np.mean([c["labels"] for c in counts[name]])), 1),
            "pages": round(float(np.mean([c["pages"] for c in counts[name]])), 1),
            "corrections": round(float(np.mean([c["corrections"] for c in counts[name]])), 1),
        }
    return out


def held_from(curve: np.ndarray, target: float) -> int | None:
    """Actions (1-based) from which the mean curve stays at or above ``target`` to the end of the budget; None if
    it ends below. Early curves spike past a target and fall back: the first crossing alone can mislead."""
    below = np.flatnonzero(curve < target)
    if curve.size == 0 or curve[-1] < target:
        return None
    return int(below[-1]) + 2 if below.size else 1


def print_effort_table(out: dict) -> None:
    print(
        f"{out['dataset']}: {out['n_items']} items, {out['n_classes']} classes, {out['folds']} folds, "
        f"{out['budget_actions']} expert actions, pages of {out['page']}; k-NN on the whole pool: "
        f"{out['full_accuracy']:.3f}"
    )
    print(
        f"{'strategy':<20} {'actions to 90%':>14} {'actions to 95%':>14} {'held from 95%':>13} "
        f"{'labels to 95%':>13} {'acc at end':>10} {'labels':>7}"
    )
    for name, s in out["strategies"].items():
        cells = [s["actions_to_90"], s["actions_to_95"], s["actions_to_95_held"], s["labels_to_95"]]
        a90, a95, h95, l95 = ("-" if v is None else v for v in cells)
        print(
            f"{name:<20} {a90:>14} {a95:>14} {h95:>13} {l95:>13} {s['accuracy_at_budget']:10.3f} "
            f"{s['labels_given']:>7}"
        )
