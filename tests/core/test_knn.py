import numpy as np
import pytest

from aldesk.core.model.knn import IncrementalKNN
from tests.core.conftest import clustered


def _same_neighbours(a: IncrementalKNN, b: IncrementalKNN) -> None:
    # Compare as sorted similarity lists (ties may order slots differently) and as neighbour sets.
    np.testing.assert_allclose(np.sort(a.sim, axis=1), np.sort(b.sim, axis=1), rtol=1e-5, atol=1e-6)
    for r in range(a.n):
        assert set(a.nbr[r][a.nbr[r] >= 0]) == set(b.nbr[r][b.nbr[r] >= 0])


@pytest.mark.parametrize("k", [1, 5, 10])
def test_incremental_add_equals_recompute(k):
    X, y = clustered(400, 12, 3, seed=k)
    rng = np.random.default_rng(1)
    inc = IncrementalKNN(X, k)
    order = rng.permutation(400)[:60]
    for i in order:
        inc.add(i, int(y[i]))
    ref = IncrementalKNN(X, k)
    ref.add_many(order, y[order])
    _same_neighbours(inc, ref)
    np.testing.assert_allclose(inc.probabilities(3), ref.probabilities(3), rtol=1e-5)


def test_remove_equals_recompute():
    X, y = clustered(300, 8, 3)
    rng = np.random.default_rng(2)
    inc = IncrementalKNN(X, 5)
    order = rng.permutation(300)[:40]
    for i in order:
        inc.add(i, int(y[i]))
    for i in order[[3, 17, 39, 0]]:
        inc.remove(i)
    kept = [i for i in order if inc.label[i] >= 0]
    assert len(kept) == 36
    assert list(inc.labeled) == kept  # labeling order survives removals
    ref = IncrementalKNN(X, 5)
    ref.add_many(np.array(kept), y[kept])
    _same_neighbours(inc, ref)


def test_relabel_changes_votes_not_neighbours():
    X, _y = clustered(100, 8, 2)
    knn = IncrementalKNN(X, 3)
    knn.add(0, 0)
    before = knn.nbr.copy()
    knn.add(0, 1)
    assert (knn.nbr == before).all()
    assert knn.probabilities(2)[0].argmax() == 1
    assert knn.n_labeled == 1


def test_probabilities_are_distributions_and_uniform_without_labels():
    X, _ = clustered(50, 8, 2)
    knn = IncrementalKNN(X, 5)
    p = knn.probabilities(4)
    np.testing.assert_allclose(p, 0.25)
    knn.add(3, 2)
    p = knn.probabilities(4)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert (p.argmax(axis=1) == 2).all()  # one label: everything predicts it


def test_predict_exact_excludes_self_and_sorts_neighbours():
    X, y = clustered(200, 8, 2, seed=3)
    knn = IncrementalKNN(X, 5)
    for i in range(0, 200, 7):
        knn.add(i, int(y[i]))
    p, nbrs = knn.predict_exact(7, 2)
    assert 7 not in [j for j, _ in nbrs]
    sims = [s for _, s in nbrs]
    assert sims == sorted(sims, reverse=True) and len(nbrs) == 5
    assert abs(p.sum() - 1) < 1e-9


def test_knn_accuracy_beats_chance_on_clusters():
    X, y = clustered(1000, 16, 5, seed=4)
    knn = IncrementalKNN(X, 10)
    tr = np.arange(0, 1000, 2)
    knn.add_many(tr, y[tr])
    te = np.arange(1, 1000, 2)
    acc = (knn.probabilities(5, te).argmax(axis=1) == y[te]).mean()
    assert acc > 0.9


def test_filling_phase_with_undo_equals_recompute():
    # fewer labels than k: the whole-column fast path, interleaved with removals
    X, y = clustered(300, 8, 3, seed=9)
    inc = IncrementalKNN(X, 10)
    for i in (5, 17, 40, 41, 99, 120):
        inc.add(i, int(y[i]))
    inc.remove(17)
    inc.remove(120)
    for i in (200, 201, 7, 8, 9, 10, 11):  # crosses k = 10 on the way
        inc.add(i, int(y[i]))
    kept = list(inc.labeled)
    ref = IncrementalKNN(X, 10)
    ref.add_many(np.array(kept), y[kept])
    _same_neighbours(inc, ref)
    np.testing.assert_allclose(inc.probabilities(3), ref.probabilities(3), rtol=1e-6)
    np.testing.assert_allclose(inc.max_similarity(), ref.max_similarity(), rtol=1e-6)
