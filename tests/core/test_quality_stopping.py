"""The stopping signal (aldesk/core/quality/stopping.py): how many pool predictions the last labels changed, the
audit band's veto, and the one-line message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aldesk.core import synthetic
from aldesk.core.dataset import Dataset
from aldesk.core.project import Project
from aldesk.core.quality import stopping


def _layout(last_near_pool: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """60 labels "a" around e1, then 50 labels "b": either far away (e3) or right on top of the pool (e2),
    and a pool of 40 items around e2 that the "a" labels predicted before."""
    rng = np.random.default_rng(0)
    d = 8
    e = np.eye(d, dtype=np.float32)
    a = e[0] + 0.05 * rng.standard_normal((60, d)) + 0.6 * e[1]
    b_centre = e[1] if last_near_pool else e[2]
    b = b_centre + 0.01 * rng.standard_normal((50, d))
    pool = e[1] + 0.05 * rng.standard_normal((40, d))
    X = np.concatenate([a, b, pool]).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    labeled = np.arange(110)
    labels = np.array([0] * 60 + [1] * 50)
    return X, labeled, labels, np.arange(110, 150)


def test_labels_far_from_the_pool_change_no_prediction_and_the_signal_fires() -> None:
    X, labeled, labels, pool = _layout(last_near_pool=False)
    assert stopping.prediction_change(X, labeled, labels, 10, pool) == stopping.Change(0.0, 0.0, 40)
    sig = stopping.stopping_signal(X, labeled, labels, 10, pool, [])
    assert sig.stopped and sig.changed == 0.0 and sig.audit is None
    msg = sig.message()
    assert msg.startswith(
        "The model has stopped changing: 50 more labels are unlikely to move accuracy by more than"
    )
    assert "0.1 points" in msg and "audit items are off" in msg


def test_labels_on_top_of_the_pool_change_every_prediction() -> None:
    X, labeled, labels, pool = _layout(last_near_pool=True)
    # By hand: before, every pool item's 10 neighbours are "a" labels; now the 50 "b" labels sit on the pool, and
    # the k-NN is sure of b now (all 10 votes): its expected gain per item is p(b) - p(a) = (1 + 0.05 - 0.05) / 1.1.
    ch = stopping.prediction_change(X, labeled, labels, 10, pool)
    assert ch is not None and (ch.share, ch.sample) == (1.0, 40)
    assert ch.expected == pytest.approx(1.0 / 1.1)
    sig = stopping.stopping_signal(X, labeled, labels, 10, pool, [])
    assert not sig.stopped
    assert sig.message().startswith(
        "Still changing: the last 50 labels changed 100.0% of 40 pool predictions"
    )


def test_too_few_labels_say_when_the_signal_comes() -> None:
    X, labeled, labels, pool = _layout(last_near_pool=False)
    sig = stopping.stopping_signal(X, labeled[:99], labels[:99], 10, pool, [])
    assert sig.changed is None and not sig.stopped
    assert "from 100 labels on" in sig.message()


def test_a_rising_audit_estimate_vetoes_a_stable_model() -> None:
    X, labeled, labels, pool = _layout(last_near_pool=False)
    wrong_then_right = [(n, False) for n in range(0, 50, 5)] + [(n, True) for n in range(60, 110, 5)]
    sig = stopping.stopping_signal(X, labeled, labels, 10, pool, wrong_then_right)
    assert sig.changed == 0.0 and not sig.stopped
    assert sig.audit_rise is not None and sig.audit_rise > (sig.audit[2] - sig.audit[1]) / 2
    assert "the audit estimate rose" in sig.message()
    flat = [(n, n % 10 == 0) for n in range(0, 110, 5)]
    sig = stopping.stopping_signal(X, labeled, labels, 10, pool, flat)
    assert sig.stopped and "audit estimate 50%, 95 %" in sig.message()


def test_the_sample_bounds_the_work_and_is_reproducible() -> None:
    X, y = synthetic.clustered(3000, 16, 4, spread=0.9, seed=5)
    labeled = np.arange(200)
    pool = np.arange(200, 3000)
    ch = stopping.prediction_change(X, labeled, y[labeled], 10, pool, sample=500)
    assert ch is not None and ch.sample == 500 and 0.0 < ch.share < 1.0
    assert 0.0 < ch.expected < ch.share  # each flip is worth less than a full point
    assert stopping.prediction_change(X, labeled, y[labeled], 10, pool, sample=500) == ch


def test_session_signal_reads_a_reopened_project(tmp_path: Path) -> None:
    X, y = synthetic.clustered(1000, 16, 3, spread=0.5, seed=6)
    path = tmp_path / "p.aldesk"
    names = ["a", "b", "c"]
    p = Project.create(
        path, Dataset("text", tmp_path / "t.csv", [f"t{i}" for i in range(1000)]), names, model_id="m"
    )
    s = p.open_session(X, k=10, audit_every=10)
    for _ in range(150):
        i = s.candidates(1)[0].index
        s.label(i, names[y[i]])
    first = stopping.session_signal(s)
    assert first.changed is not None and first.audit is not None
    p.close()
    with Project.open(path, readonly=True) as again:
        # No history kept anywhere: the same labels in the same order give the same signal.
        assert stopping.session_signal(again.open_session(X, k=10, audit_every=10)) == first


@pytest.mark.parametrize("share, text", [(0.0, "0.1 points"), (0.0123, "1.3 points"), (0.05, "5.0 points")])
def test_points_are_rounded_up(share: float, text: str) -> None:
    assert stopping._points(share) == text


@pytest.mark.parametrize("strategy", ["eer@10", "margin@10"])
def test_the_evaluation_replays_simulates_curve_and_fires_once_the_curve_is_flat(strategy: str) -> None:
    from aldesk.core.evaluate.simulate import simulate
    from aldesk.core.evaluate.stopping_eval import evaluate_stopping

    X, y = synthetic.clustered(900, 16, 4, spread=0.45, seed=7)
    labels = [f"c{c}" for c in y]
    ev = evaluate_stopping(X, labels, strategy=strategy, folds=3, budget=200, k=10, seed=1)
    sim = simulate(X, labels, strategies=[strategy], folds=3, budget=200, k=10, seed=1)
    np.testing.assert_allclose(ev.curve, sim.curves[strategy].mean(axis=0))  # the same picks, step for step
    d = ev.to_dict()
    assert d["folds_fired"] == 3  # separable clusters: the model stops changing within the budget
    assert all(f is not None and 100 <= f <= 200 for f in ev.fired)
    assert d["labels_to_98_of_final"] is not None and d["labels_to_98_of_final"] <= min(ev.fired)
    assert d["accuracy_at_fire_mean"] >= 0.98 * d["final_accuracy"]


def test_an_empty_pool_says_so() -> None:
    X, labeled, labels, _pool = _layout(last_near_pool=False)
    sig = stopping.stopping_signal(X, labeled, labels, 10, np.array([], dtype=np.int64), [])
    assert not sig.stopped and "every item is labeled" in sig.message()


@pytest.mark.parametrize("n_labels", [120, 400])
def test_the_sessions_fast_reading_equals_the_reference(n_labels: int) -> None:
    from aldesk.core.labeling.session import Session

    X, y = synthetic.clustered(4000, 16, 5, spread=0.9, seed=8)
    s = Session(X, [f"c{c}" for c in range(5)], k=10)
    order = np.random.default_rng(2).permutation(4000)[:n_labels]
    for i in order:
        s.label(int(i), f"c{y[i]}")
    lab = s.knn.labeled
    ref = stopping.prediction_change(X, lab, s.label_index(lab), 10, np.flatnonzero(s.pool_mask()))
    fast = stopping.session_prediction_change(s)
    assert ref is not None and fast is not None
    assert fast.sample == ref.sample == 2000
    assert fast.share == pytest.approx(ref.share, abs=1e-9) and 0 < ref.share < 1
    assert fast.expected == pytest.approx(ref.expected, abs=1e-6)
