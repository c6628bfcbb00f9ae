import numpy as np
import pytest

from aldesk.core.evaluate.simulate import kfold, labels_to, simulate
from tests.core.conftest import clustered


def test_kfold_partitions_and_stratifies():
    y = np.array([0] * 30 + [1] * 10)
    folds = kfold(40, 5, np.random.default_rng(0), y)
    allidx = np.concatenate(folds)
    assert sorted(allidx) == list(range(40))
    assert all((y[f] == 1).sum() == 2 for f in folds)


def test_labels_to():
    c = np.array([0.1, 0.5, 0.85, 0.9, 0.8])
    assert labels_to(c, 0.9) == 4 and labels_to(c, 0.95) is None


def test_simulate_json_shape_and_active_beats_random_on_clusters():
    X, y = clustered(1200, 16, 6, seed=7, spread=0.9)
    names = np.array([f"c{v}" for v in y], dtype=object)
    res = simulate(X, names, strategies=["uid"], folds=3, budget=60, k=5, seed=1).to_dict()
    assert list(res["strategies"]) == ["uid", "random"]
    for s in res["strategies"].values():
        assert len(s["accuracy"]) == 60
        assert s["auc"] == pytest.approx(np.mean(s["accuracy"]))
    assert res["n_items"] == 1200 and res["n_classes"] == 6 and res["folds"] == 3
    assert 0.5 < res["full_accuracy"] <= 1.0
    assert res["strategies"]["uid"]["auc"] >= res["strategies"]["random"]["auc"]


def test_simulate_is_reproducible_and_needs_two_classes():
    X, y = clustered(300, 8, 3)
    names = [str(v) for v in y]
    a = simulate(X, names, strategies=["margin"], folds=2, budget=20, seed=3).to_dict()
    b = simulate(X, names, strategies=["margin"], folds=2, budget=20, seed=3).to_dict()
    assert a == b
    with pytest.raises(ValueError, match="two known classes"):
        simulate(X, ["x"] * 300, strategies=["uid"], folds=2, budget=5)
