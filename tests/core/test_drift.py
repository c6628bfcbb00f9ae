"""``simulate --drift``: classes held out of the pool until label N, then added (issue 14.5)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aldesk.core import synthetic
from aldesk.core.evaluate import drift
from aldesk.core.evaluate.simulate import kfold
from aldesk.core.query import registry
from tests.core.test_cli import DEMO, run


def _data():
    X, y = synthetic.clustered(900, 24, 5, seed=21)
    return X, np.array([f"c{c}" for c in y], dtype=object), y


def test_held_classes_are_never_labeled_before_they_arrive():
    X, _, y = _data()
    test = kfold(900, 3, np.random.default_rng(0), y)[0]
    pool = np.setdiff1d(np.arange(900), test)
    held = np.array([4])
    for name in ("random", "eer@10"):
        acc, cls = drift.run_drift_fold(
            X,
            y,
            pool,
            test,
            held,
            25,
            registry.parse_strategy(name),
            False,
            60,
            10,
            5,
            np.random.default_rng(1),
        )
        assert not np.isin(cls[:25], held).any()
        assert (cls >= 0).all() and acc.shape == (60,)
        assert ((acc >= 0) & (acc <= 1)).all()


def test_the_new_group_hint_asks_for_the_new_class_at_once():
    """On well separated clusters the held class is one dense group far from every label: the strategy with the
    hint labels one of its items with the first pick after the arrival, in every fold."""
    X, labels, _ = _data()
    out = drift.simulate_drift(
        X, labels, drift_classes=["c4"], drift_at=25, strategies=["eer@10"], folds=3, budget=60
    )
    assert list(out["strategies"]) == ["eer@10", "eer@10+new", "random"]
    hint = out["strategies"]["eer@10+new"]
    assert hint["first_label_after"]["c4"]["per_fold"] == [1, 1, 1]
    for s in out["strategies"].values():
        assert len(s["accuracy"]) == 60
        assert 0 < s["accuracy_before"] <= 1
        rec = s["recovered_after"]
        assert rec["folds"] == sum(v is not None for v in rec["per_fold"])
    json.dumps(out)  # JSON-ready


def test_fold_summary_counts_labels_after_the_arrival():
    acc = np.array([0.5, 0.8, 0.4, 0.5, 0.79, 0.9])
    cls = np.array([0, 1, 0, 2, 0, 2])
    f = drift.fold_summary(acc, cls, np.array([2]), np.array(["a", "b", "new"]), 2)
    assert f.before == 0.8
    assert f.first_label == {"new": 2}  # the 2nd label after the arrival (step 3) is the first "new"
    assert f.recovered == 3  # 0.79 >= 0.8 - 0.02 at step 4: the 3rd label after the arrival


def test_misuse_is_refused():
    X, labels, _ = _data()
    with pytest.raises(ValueError, match="names no class"):
        drift.simulate_drift(X, labels, drift_classes=["nope"], drift_at=5, strategies=["random"], folds=2)
    with pytest.raises(ValueError, match="at least two classes"):
        drift.simulate_drift(
            X, labels, drift_classes=["c1", "c2", "c3", "c4"], drift_at=5, strategies=["random"]
        )
    with pytest.raises(ValueError, match="drift-at"):
        drift.simulate_drift(X, labels, drift_classes=["c1"], drift_at=60, budget=60, strategies=["random"])


@pytest.mark.slow
def test_cli_drift_on_the_demo_images(tmp_path):
    """End to end: real images, real ONNX embedding, the table and the JSON."""
    out = tmp_path / "drift.json"
    r = run(
        "simulate",
        str(DEMO / "images"),
        "--folds",
        "2",
        "--budget",
        "40",
        "--drift",
        "bag,trouser",
        "--drift-at",
        "15",
        "--out",
        str(out),
        "--quiet",
        cache=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert res["drift"] == ["bag", "trouser"] and res["drift_at"] == 15
    assert set(res["strategies"]) == {"eer@10", "eer@10+new", "random"}
    assert "held out until label 15" in r.stdout and "first bag" in r.stdout
    bad = run("simulate", str(DEMO / "images"), "--drift", "bags", "--quiet", cache=tmp_path)
    assert bad.returncode != 0 and "names no class" in bad.stderr and "Traceback" not in bad.stderr
