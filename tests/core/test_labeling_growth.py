"""grown_slots: the k-NN slots stored for the old items take the new rows in, equal to a rebuild; slots that no
longer match today's vectors (a labeled item's file changed) or a labeled new item are refused."""

from __future__ import annotations

import numpy as np

from aldesk.core import synthetic
from aldesk.core.labeling.growth import grown_slots
from aldesk.core.model.knn import IncrementalKNN


def _old_state(X: np.ndarray, n_old: int, labeled: np.ndarray, y: np.ndarray) -> IncrementalKNN:
    knn = IncrementalKNN(X[:n_old], 5)
    for i in labeled:  # one by one, as a user labels
        knn.add(int(i), int(y[i]))
    return knn


def test_grown_slots_equal_a_rebuild_and_compute_only_the_new_rows(monkeypatch) -> None:
    X, y = synthetic.clustered(900, 32, 6, seed=3)
    labeled = np.random.default_rng(0).choice(700, 40, replace=False)
    old = _old_state(X, 700, labeled, y)
    rows: list[int] = []
    real = IncrementalKNN._recompute
    monkeypatch.setattr(IncrementalKNN, "_recompute", lambda self, r: rows.append(len(r)) or real(self, r))
    got = grown_slots(X, old.labeled, old.nbr, old.sim)
    assert got is not None and rows == [200]
    monkeypatch.undo()
    rebuilt = IncrementalKNN(X, 5)
    rebuilt.add_many(labeled, y[labeled])
    np.testing.assert_array_equal(np.sort(got[0], axis=1), np.sort(rebuilt.nbr, axis=1))
    np.testing.assert_allclose(np.sort(got[1], axis=1), np.sort(rebuilt.sim, axis=1), atol=1e-5)


def test_slots_of_other_vectors_or_a_labeled_new_item_are_refused() -> None:
    X, y = synthetic.clustered(300, 32, 4, seed=1)
    labeled = np.arange(0, 200, 10)
    old = _old_state(X, 200, labeled, y)
    changed = X.copy()
    changed[labeled[3]] = X[250]  # a labeled item's file was replaced under the same name
    assert grown_slots(changed, old.labeled, old.nbr, old.sim) is None
    assert grown_slots(X, np.append(old.labeled, 250), old.nbr, old.sim) is None
    assert grown_slots(X, old.labeled, old.nbr, old.sim) is not None
