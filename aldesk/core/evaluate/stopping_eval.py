"""Does the stopping signal fire where the learning curve flattens? ``aldesk simulate --stopping``.

SCORING.md's protocol (K folds, a strategy picks from the pool, the k-NN's accuracy on the held-out fold after
each label), with what the app sees at each step on top: the audit records (the strategy's ``@m`` picks are the
uniform random audit items; the k-NN's guess on them is recorded before their label is revealed) and, every
``check_every`` labels, the stopping signal of :mod:`aldesk.core.quality.stopping` over the fold's remaining
pool. Per fold: the label count where the signal first fires; against it, where the fold-mean curve first
reaches 95 % and 98 % of its final accuracy (the accuracy after the whole budget).

The picking is ``simulate.run_fold``'s, step for step (same registry calls, same per-strategy generator), so the
curve here is the curve ``simulate`` reports for that strategy.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from aldesk.core.evaluate.simulate import kfold, known_items, labels_to
from aldesk.core.model.knn import IncrementalKNN
from aldesk.core.neighbours import builder
from aldesk.core.progress import CancelFn, ProgressFn, check
from aldesk.core.quality import stopping
from aldesk.core.query import registry
from aldesk.core.query.baselines import PoolContext

CHECK_EVERY = 10
THRESHOLDS = (0.01, 0.02, 0.05)  # reported beside the signal's own: where it would fire with each


@dataclass
class StoppingEvaluation:
    strategy: str
    folds: int
    budget: int
    window: int
    max_change: float
    curve: np.ndarray  # fold-mean accuracy after 1..budget labels
    fired: list[int | None]  # per fold: labels when the signal first fired (None: never within the budget)
    # per fold, every check: (labels, share of predictions changed, expected gain, whether the audit allows)
    checks: list[list[tuple[int, float, float, bool]]]
    accuracy_at_fire: list[float | None]  # per fold: that fold's test accuracy then
    final: list[float]  # per fold: test accuracy after the budget
    moved_at_end: list[float]  # per fold: |accuracy after the budget - accuracy ``window`` labels before|

    def fired_at(self, max_change: float, on: str = "expected") -> list[int | None]:
        """Per fold, where the signal would first fire with another threshold (same checks, same audit veto),
        on the expected gain (the signal's own reading) or on the share of changed predictions (the bound)."""
        col = 2 if on == "expected" else 1
        return [next((c[0] for c in fold if c[col] <= max_change and c[3]), None) for fold in self.checks]

    def to_dict(self) -> dict:
        final = float(self.curve[-1])
        fired = [f for f in self.fired if f is not None]
        at = [a for a in self.accuracy_at_fire if a is not None]
        return {
            "strategy": self.strategy,
            "folds": self.folds,
            "budget": self.budget,
            "window": self.window,
            "max_change": self.max_change,
            "final_accuracy": round(final, 4),
            "labels_to_95_of_final": labels_to(self.curve, 0.95 * final),
            "labels_to_98_of_final": labels_to(self.curve, 0.98 * final),
            "fired": self.fired,
            "fired_by_threshold": {f"{t:g}": self.fired_at(t) for t in THRESHOLDS},
            "fired_by_share_threshold": {f"{t:g}": self.fired_at(t, on="share") for t in THRESHOLDS},
            "changed_at_end": [round(c[-1][1], 4) if c else None for c in self.checks],
            "expected_gain_at_end": [round(c[-1][2], 4) if c else None for c in self.checks],
            "accuracy_moved_at_end": [round(m, 4) for m in self.moved_at_end],
            "fired_median": float(np.median(fired)) if fired else None,
            "folds_fired": len(fired),
            "accuracy_at_fire_mean": round(float(np.mean(at)), 4) if at else None,
            "final_accuracy_mean_of_fired_folds": (
                round(float(np.mean([f for f, x in zip(self.final, self.fired, strict=True) if x])), 4)
                if fired
                else None
            ),
        }


def evaluate_stopping(
    X: np.ndarray,
    labels: list[str] | np.ndarray,
    *,
    strategy: str,
    folds: int = 4,
    budget: int = 300,
    k: int = 10,
    seed: int = 0,
    window: int = stopping.WINDOW,
    max_change: float = stopping.MAX_CHANGE,
    check_every: int = CHECK_EVERY,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> StoppingEvaluation:
    """Run ``strategy`` on every fold (the same folds and seed as :func:`simulate`) with the stopping signal."""
    X, _, y = known_items(X, labels)
    n_classes = int(y.max()) + 1
    if n_classes < 2:
        raise ValueError("the stopping evaluation needs items of at least two known classes")
    strat = registry.parse_strategy(strategy)
    rng = np.random.default_rng(seed)
    splits = kfold(X.shape[0], folds, rng, y)
    budget = min(budget, X.shape[0] - max(s.size for s in splits))
    curves = np.zeros((folds, budget))
    fired: list[int | None] = []
    checks: list[list[tuple[int, float, float, bool]]] = []
    at_fire: list[float | None] = []
    for f, test in enumerate(splits):
        pool = np.setdiff1d(np.arange(X.shape[0]), test, assume_unique=True)
        srng = np.random.default_rng([seed, f, zlib.crc32(strat.name.encode())])
        curves[f], fire, fold_checks = _fold(
            X,
            y,
            pool,
            test,
            strat,
            budget,
            k,
            n_classes,
            srng,
            seed * 1000 + f,
            window,
            max_change,
            check_every,
            cancel,
        )
        fired.append(fire)
        checks.append(fold_checks)
        at_fire.append(None if fire is None else float(curves[f][fire - 1]))
        if progress is not None:
            progress((f + 1) / folds, f"fold {f + 1}/{folds}: {strat.name} with the stopping signal")
    return StoppingEvaluation(
        strat.name,
        folds,
        budget,
        window,
        max_change,
        curves.mean(axis=0),
        fired,
        checks,
        at_fire,
        list(curves[:, -1]),
        [float(abs(c[-1] - c[-1 - window])) if budget > window else 0.0 for c in curves],
    )


def _fold(
    X: np.ndarray,
    y: np.ndarray,
    pool: np.ndarray,
    test: np.ndarray,
    strategy: registry.Strategy,
    budget: int,
    k: int,
    n_classes: int,
    rng: np.random.Generator,
    ctx_seed: int,
    window: int,
    max_change: float,
    check_every: int,
    cancel: CancelFn | None,
) -> tuple[np.ndarray, int | None, list[tuple[int, float, float, bool]]]:
    """One fold, as ``simulate.run_fold`` picks it; returns (accuracy per step, labels at the first firing, every
    check: (labels, share changed, whether the audit estimate allows stopping))."""
    sub = np.concatenate([pool, test])
    Xs, ys = X[sub], y[sub]
    n_pool = pool.size
    test_rows = np.arange(n_pool, sub.size)
    needs_graph = strategy.measure == "eer" or strategy.picker or strategy.cold or strategy.density == "knn"
    graph = builder.knn_graph(Xs[:n_pool]) if needs_graph else None
    if strategy.is_random:
        density = None
    elif graph is not None:
        density = graph[1].mean(axis=1).astype(np.float32)
    else:
        density = builder.global_density(Xs[:n_pool])
    knn = IncrementalKNN(Xs, k)
    available = np.ones(n_pool, dtype=bool)
    ctx = PoolContext(Xs, np.arange(n_pool), density, ctx_seed, {}, graph)
    acc = np.empty(budget)
    audits: list[tuple[int, bool]] = []
    fire = None
    checks: list[tuple[int, float, float, bool]] = []
    for step in range(budget):
        if step % 16 == 0:
            check(cancel)
        cand = np.flatnonzero(available)
        active = strategy.active(knn.n_labeled)
        audit = bool(strategy.every and (step + 1) % strategy.every == 0)
        if active.is_random or audit:
            pick = cand[rng.integers(cand.size)]
        elif active.picker is not None:
            probs = knn.probabilities(n_classes, cand) if active.picker == "info-density" else None
            pick = cand[
                int(np.argmax(registry.picker_scores(active.picker, ctx, knn, n_classes, cand, probs)))
            ]
        else:
            probs = knn.probabilities(n_classes, cand) if active.measure else None
            dens = density[cand] if density is not None else None
            ms = knn.max_similarity(cand) if active.diversity else None
            meas = registry.measure_values(active, knn, n_classes, cand, probs, graph)
            idx, _ = registry.select(active, 1, rng, probs, dens, ms, measure=meas)
            pick = cand[idx[0]]
        if audit and knn.n_labeled:  # what the app records: the k-NN's guess before the label
            guess = int(knn.probabilities(n_classes, np.array([pick]))[0].argmax())
            audits.append((knn.n_labeled, guess == int(ys[pick])))
        available[pick] = False
        knn.add(pick, int(ys[pick]))
        p = knn.probabilities(n_classes, test_rows)
        acc[step] = float((p.argmax(axis=1) == ys[test_rows]).mean())
        n = step + 1
        if n >= 2 * window and n % check_every == 0:
            lab = knn.labeled
            sig = stopping.stopping_signal(
                Xs,
                lab,
                knn.label[lab],
                k,
                np.flatnonzero(available),
                audits,
                window=window,
                max_change=max_change,
            )
            if sig.changed is not None and sig.expected is not None:
                checks.append((n, sig.changed, sig.expected, sig.audit_allows))
            if fire is None and sig.stopped:
                fire = n
    return acc, fire, checks


def print_stopping(d: dict) -> None:
    """The evaluation as two lines under ``simulate``'s table."""
    fired = ", ".join("-" if f is None else str(f) for f in d["fired"])
    print(
        f"stopping signal ({d['strategy']}, expected gain of the last {d['window']} labels <= "
        f"{d['max_change']:.1%}): fired at {fired} labels (median {d['fired_median']}, {d['folds_fired']}/{d['folds']} folds)"
    )
    others = "; ".join(f"<= {float(t):.0%}: {v}" for t, v in d["fired_by_threshold"].items())
    shares = "; ".join(f"<= {float(t):.0%}: {v}" for t, v in d["fired_by_share_threshold"].items())
    print(f"  with other thresholds it fires at: {others}; on the changed share instead: {shares}")
    print(
        f"  at the end, the last {d['window']} labels changed {d['changed_at_end']} of the pool's predictions "
        f"(expected gain {d['expected_gain_at_end']}) and moved the test accuracy by {d['accuracy_moved_at_end']}"
    )
    print(
        f"  the mean curve reaches 95 % of its final accuracy ({d['final_accuracy']:.3f}) at "
        f"{d['labels_to_95_of_final']} labels, 98 % at {d['labels_to_98_of_final']}; accuracy when it fired: "
        f"{d['accuracy_at_fire_mean']} (those folds' final: {d['final_accuracy_mean_of_fired_folds']})"
    )
