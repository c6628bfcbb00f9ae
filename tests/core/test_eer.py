"""Expected error reduction: the vectorised measure equals labeling each item for real, class by class."""

import copy

import numpy as np
import pytest

from aldesk.core.labeling.session import Session
from aldesk.core.model.knn import IncrementalKNN
from aldesk.core.neighbours import builder
from aldesk.core.query import measures
from aldesk.core.query.eer import expected_error_reduction
from tests.core.conftest import clustered


def _brute_force(knn: IncrementalKNN, n_classes: int, x: int, g_idx: np.ndarray) -> float:
    """(1 - max p(x)) + sum over x's unlabeled graph neighbours u of E_c[max p'(u)] - max p(u), by really adding
    the label x = c to a copy of the k-NN for every class c."""
    p_x = knn.probabilities(n_classes, np.array([x]))[0]
    nbrs = np.array([u for u in g_idx if knn.label[u] < 0])
    now = knn.probabilities(n_classes, nbrs).max(axis=1).sum() if nbrs.size else 0.0
    expected = 0.0
    for c in range(n_classes):
        trial = copy.deepcopy(knn)
        trial.add(x, c)
        after = trial.probabilities(n_classes, nbrs).max(axis=1).sum() if nbrs.size else 0.0
        expected += p_x[c] * after
    return (1.0 - p_x.max()) + expected - now


@pytest.mark.parametrize("n_labels", [0, 1, 4, 12, 80])
def test_eer_equals_labeling_for_real(n_labels: int) -> None:
    X, y = clustered(500, 10, 3, seed=n_labels, spread=0.8)
    k = 6
    knn = IncrementalKNN(X, k)
    rng = np.random.default_rng(n_labels)
    for i in rng.permutation(500)[:n_labels]:
        knn.add(i, int(y[i]))
    g_idx, g_sim = builder.knn_graph(X, 8)
    pool = np.flatnonzero(knn.label < 0)
    got = expected_error_reduction(knn, 3, pool, g_idx, g_sim)
    for j in rng.choice(pool.size, 25, replace=False):
        want = _brute_force(knn, 3, int(pool[j]), g_idx[pool[j]])
        assert got[j] == pytest.approx(want, abs=2e-6)  # float32 arithmetic
    # the chunked path gives the same numbers
    np.testing.assert_allclose(expected_error_reduction(knn, 3, pool, g_idx, g_sim, chunk=37), got)


def test_eer_prefers_an_unknown_cluster_to_a_settled_mixed_one() -> None:
    """Uncertainty ranks items among many labels that disagree (label noise the k-NN cannot learn) first; the
    expected error reduction ranks an untouched cluster first, where one label settles many items."""
    rng = np.random.default_rng(0)
    d = 16
    centres = np.eye(d)[:3]
    X = np.concatenate([centres[i] + 0.15 * rng.standard_normal((150, d)) for i in range(3)]).astype(
        np.float32
    )
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    knn = IncrementalKNN(X, 10)
    # cluster 0: 40 labels, half of each class (noisy); cluster 1: 20 clean labels; cluster 2: nothing.
    for i in range(40):
        knn.add(i, i % 2)
    for i in range(150, 170):
        knn.add(i, 0)
    g_idx, g_sim = builder.knn_graph(X, 10)
    pool = np.flatnonzero(knn.label < 0)
    eer = expected_error_reduction(knn, 2, pool, g_idx, g_sim)
    unc = measures.uncertainty(knn.probabilities(2, pool))
    cluster = pool // 150
    assert cluster[np.argmax(unc)] == 0  # the noisy cluster is where the k-NN is least sure...
    assert np.median(eer[cluster == 2]) > np.median(eer[cluster == 0])  # ...but not where a label helps most
    assert cluster[np.argmax(eer)] == 2


def test_session_ranks_by_eer_once_it_has_the_graph() -> None:
    X, y = clustered(600, 12, 4, seed=3)
    s = Session(X, ["a", "b", "c", "d"], strategy="eer")
    for i in range(8):
        s.label(i, "abcd"[y[i]])
    # without the graph: uncertainty, its own first term
    before = [c.index for c in s.candidates(10)]
    pool = np.flatnonzero(s.pool_mask())
    unc = measures.uncertainty(s.knn.probabilities(4, pool))
    assert unc[np.searchsorted(pool, before[0])] == pytest.approx(unc.max())
    g_idx, g_sim = builder.knn_graph(X, 10)
    s.set_density(g_sim.mean(axis=1), graph=(g_idx, g_sim))
    after = s.candidates(10)
    eer = expected_error_reduction(s.knn, 4, pool, g_idx, g_sim)
    assert after[0].index == pool[np.argmax(eer)]
    assert after[0].I is None and after[0].D is None and pytest.approx(1.0, abs=1e-3) == after[0].U
    with pytest.raises(ValueError, match="one row of neighbours per item"):
        s.set_density(np.ones(600, np.float32), graph=(g_idx[:10], g_sim[:10]))


def test_session_cache_equals_a_fresh_computation_through_label_relabel_undo_and_new_class() -> None:
    X, y = clustered(700, 12, 3, seed=5, spread=0.9)
    g_idx, g_sim = builder.knn_graph(X, 10)
    s = Session(X, ["a", "b", "c"], k=5, strategy="eer", density=g_sim.mean(axis=1), graph=(g_idx, g_sim))

    def check() -> None:
        s.candidates()
        pool = np.flatnonzero(s.pool_mask())
        fresh = expected_error_reduction(s.knn, len(s.classes), pool, g_idx, g_sim)
        np.testing.assert_allclose(s._eer[pool], fresh, rtol=1e-9, atol=1e-12)

    rng = np.random.default_rng(0)
    for _ in range(30):  # through the k-NN's filling phase and well beyond
        top = s.candidates(1)[0].index
        s.label(top, "abc"[y[top]])
        check()
    s.label(int(s.knn.labeled[3]), "c")  # a relabel moves votes without new similarities
    check()
    s.undo()
    s.undo()
    check()
    s.skip(s.candidates(1)[0].index)
    check()
    s.add_class("d")
    check()
    for i in rng.choice(np.flatnonzero(s.pool_mask()), 5, replace=False):
        s.label(int(i), "d")
    check()


def test_compiled_and_numpy_pair_sums_agree(monkeypatch) -> None:
    from aldesk.core.query import eer_kernel

    if eer_kernel.kernel() is None:
        pytest.skip("numba is not available here: only the numpy version runs")
    X, y = clustered(900, 16, 5, seed=11, spread=1.0)
    knn = IncrementalKNN(X, 10)
    g_idx, g_sim = builder.knn_graph(X, 10)
    rng = np.random.default_rng(4)
    for n_labels in (0, 3, 40, 200):
        while knn.n_labeled < n_labels:
            i = int(rng.integers(900))
            if knn.label[i] < 0:
                knn.add(i, int(y[i]))
        pool = np.flatnonzero(knn.label < 0)
        fast = expected_error_reduction(knn, 5, pool, g_idx, g_sim)
        monkeypatch.setattr(eer_kernel, "_kernel", None)
        monkeypatch.setattr(eer_kernel, "_tried", True)
        slow = expected_error_reduction(knn, 5, pool, g_idx, g_sim)
        monkeypatch.undo()
        np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=2e-6)
