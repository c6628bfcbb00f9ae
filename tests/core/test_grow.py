"""New items join the graph, the density, the stored graph, the k-NN and the map without a rebuild (issue 14.3)."""

from __future__ import annotations

import numpy as np
import pytest

from aldesk.core import synthetic
from aldesk.core.maps.projection import pca_2d, place_new
from aldesk.core.model.knn import IncrementalKNN
from aldesk.core.neighbours import builder, store
from aldesk.core.neighbours.grow import grow_knn_graph, recall
from aldesk.core.neighbours.pool import PoolState, take_in


def _sets_equal(a: np.ndarray, b: np.ndarray) -> bool:
    return bool((np.sort(a, axis=1) == np.sort(b, axis=1)).all())


def test_grown_exact_graph_equals_a_rebuild():
    X, _ = synthetic.clustered(3000, 32, 8, seed=1)
    n_old = 2400
    idx0, sim0 = builder.knn_graph(X[:n_old], 10, method="exact")
    idx, sims = grow_knn_graph(X[:n_old], idx0, sim0, X[n_old:], chunk=256)
    ref_idx, ref_sims = builder.knn_graph(X, 10, method="exact")
    assert idx.shape == ref_idx.shape == (3000, 10)
    assert _sets_equal(idx, ref_idx)
    np.testing.assert_allclose(np.sort(sims, axis=1), np.sort(ref_sims, axis=1), atol=1e-5)
    assert recall(idx, ref_idx) == 1.0
    # old rows did change: new items entered their top-k (the test would be empty otherwise)
    assert (idx[:n_old] >= n_old).any()
    assert not _sets_equal(idx[:n_old], idx0)


def test_recall_measures_missing_edges():
    ref = np.array([[1, 2], [0, 2], [0, 1]])
    assert recall(ref[:, ::-1], ref) == 1.0
    assert recall(np.array([[1, 0], [0, 2], [0, 1]]), ref) == 5 / 6


def test_grow_in_many_small_steps_equals_a_rebuild():
    X, _ = synthetic.clustered(900, 16, 5, seed=2)
    idx, sims = builder.knn_graph(X[:300], 8, method="exact")
    for stop in (301, 450, 451, 900):  # one item, a batch, one item, the rest
        start = idx.shape[0]
        idx, sims = grow_knn_graph(X[:start], idx, sims, X[start:stop])
    ref, _ = builder.knn_graph(X, 8, method="exact")
    assert _sets_equal(idx, ref)


@pytest.mark.slow
def test_grown_approximate_graph_keeps_recall_of_a_rebuild():
    """An approximate old graph (pynndescent) grown by exact new rows: recall against the exact graph is at least
    the rebuilt approximate graph's, minus a small margin (numbers printed for the record)."""
    X, _ = synthetic.clustered(6000, 64, 30, seed=3)
    n_old = 5000
    idx0, sim0 = builder.knn_graph(X[:n_old], 10, method="nndescent")
    idx, _ = grow_knn_graph(X[:n_old], idx0, sim0, X[n_old:])
    exact, _ = builder.knn_graph(X, 10, method="exact")
    rebuilt, _ = builder.knn_graph(X, 10, method="nndescent")
    r_grow, r_rebuild = recall(idx, exact), recall(rebuilt, exact)
    print(f"recall vs exact: grown {r_grow:.3f}, approximate rebuild {r_rebuild:.3f}")
    assert r_grow >= r_rebuild - 0.05
    assert recall(idx[n_old:], exact[n_old:]) == 1.0  # new rows are exact


def test_knn_grow_equals_a_fresh_classifier():
    X, y = synthetic.clustered(1200, 24, 4, seed=4)
    n_old = 1000
    for n_labels in (3, 40):  # fewer than k labels (column fill), then the general case
        knn = IncrementalKNN(X[:n_old], 10)
        lab = np.random.default_rng(n_labels).choice(n_old, n_labels, replace=False)
        for i in lab:
            knn.add(i, int(y[i]))
        knn.grow(X)
        fresh = IncrementalKNN(X, 10)
        for i in lab:
            fresh.add(i, int(y[i]))
        np.testing.assert_allclose(knn.probabilities(4), fresh.probabilities(4), atol=1e-6)
        np.testing.assert_allclose(knn.max_similarity(), fresh.max_similarity(), atol=1e-6)
        # and it keeps learning: a label on a new item reaches old and new rows alike
        knn.add(n_old + 5, int(y[n_old + 5]))
        fresh.add(n_old + 5, int(y[n_old + 5]))
        np.testing.assert_allclose(knn.probabilities(4), fresh.probabilities(4), atol=1e-6)
        knn.remove(int(lab[0]))
        fresh.remove(int(lab[0]))
        np.testing.assert_allclose(knn.probabilities(4), fresh.probabilities(4), atol=1e-6)


def test_knn_grow_refuses_vectors_that_drop_old_rows():
    X, _ = synthetic.clustered(50, 8, 2)
    knn = IncrementalKNN(X, 5)
    with pytest.raises(ValueError):
        knn.grow(X[:40])


def test_stored_graph_grows_under_the_new_key(tmp_path):
    X, _ = synthetic.clustered(1500, 16, 6, seed=5)
    n_old = 1200
    hashes = [f"h{i}" for i in range(1500)]
    elig = np.ones(1500, bool)
    elig[[7, 1300]] = False  # an unreadable old item and an unreadable new one
    old_key = store.graph_key("m", hashes[:n_old], elig[:n_old], 10)
    new_key = store.graph_key("m", hashes, elig, 10)
    store.knn_graph_cached(X[:n_old], elig[:n_old], old_key, root=tmp_path)
    grown = store.grow_graph_cached(X, elig, n_old, old_key, new_key, root=tmp_path)
    rebuilt = store.knn_graph_cached(X, elig, None)
    assert _sets_equal(grown.indices, rebuilt.indices)
    np.testing.assert_allclose(grown.density, rebuilt.density, atol=1e-5)
    assert grown.density[7] == 0 and grown.density[1300] == 0
    assert (grown.indices[1300] == 1300).all()
    # stored under the new key: reopening the grown project loads it, no build
    loaded = store.load_graph(new_key, tmp_path)
    assert loaded is not None and loaded[0].shape == (1498, 10)
    again = store.knn_graph_cached(X, elig, new_key, root=tmp_path)
    assert (again.indices == grown.indices).all()


def test_missing_old_graph_is_built_whole(tmp_path):
    X, _ = synthetic.clustered(400, 8, 3, seed=6)
    elig = np.ones(400, bool)
    g = store.grow_graph_cached(X, elig, 300, "no-such-key", "new", root=tmp_path)
    ref = store.knn_graph_cached(X, elig, None)
    assert _sets_equal(g.indices, ref.indices)
    assert store.load_graph("new", tmp_path) is not None


def test_new_group_is_placed_together_and_near_items_near_their_twins():
    X, y = synthetic.clustered(1100, 32, 5, seed=7)
    old = y < 4
    X_old, X_new = X[old], X[~old]  # class 4 is new: nothing old resembles it
    twins = X_old[:20] + 0.01 * np.random.default_rng(0).normal(size=(20, 32)).astype(np.float32)
    twins /= np.linalg.norm(twins, axis=1, keepdims=True)
    X_new = np.concatenate([X_new, twins])
    Y_old = pca_2d(X_old)
    g = builder.knn_graph(np.concatenate([X_old, X_new]), 10, method="exact")
    n = X_old.shape[0]
    Y = place_new(Y_old, g[0][n:], g[1][n:])
    assert (Y[:n] == Y_old).all()  # old points never move
    group = Y[n:-20]
    spread_group = np.linalg.norm(group - group.mean(axis=0), axis=1).mean()
    spread_map = np.linalg.norm(Y_old - Y_old.mean(axis=0), axis=1).mean()
    assert spread_group < 0.5 * spread_map
    d_twin = np.linalg.norm(Y[-20:] - Y_old[:20], axis=1)
    assert np.median(d_twin) < 0.1 * spread_map


def test_take_in_grows_every_part_in_one_call(tmp_path):
    X, y = synthetic.clustered(2000, 16, 4, seed=8)
    n_old = 1700
    elig = np.ones(n_old, bool)
    knn = IncrementalKNN(X[:n_old], 10)
    for i in range(0, 300, 7):
        knn.add(i, int(y[i]))
    key_old = store.graph_key("m", [str(i) for i in range(n_old)], elig, 10)
    key_new = store.graph_key("m", [str(i) for i in range(2000)], np.ones(2000, bool), 10)
    graph = store.knn_graph_cached(X[:n_old], elig, key_old, root=tmp_path)
    state = PoolState(elig, graph, knn, pca_2d(X[:n_old]))
    for kw in ({"old_key": key_old, "new_key": key_new, "root": tmp_path}, {}):  # from the store, from memory
        knn = IncrementalKNN(X[:n_old], 10)
        for i in range(0, 300, 7):
            knn.add(i, int(y[i]))
        state = PoolState(elig, graph, knn, pca_2d(X[:n_old]))
        new = take_in(state, X, n_old, **kw)
        ref = store.knn_graph_cached(X, np.ones(2000, bool), None)
        assert new.graph is not None and _sets_equal(new.graph.indices, ref.indices)
        assert new.layout is not None and new.layout.shape == (2000, 2)
        assert new.knn is knn and knn.n == 2000 and new.eligible.shape == (2000,)
        fresh = IncrementalKNN(X, 10)
        for i in range(0, 300, 7):
            fresh.add(i, int(y[i]))
        np.testing.assert_allclose(knn.probabilities(4), fresh.probabilities(4), atol=1e-6)
    assert store.load_graph(key_new, tmp_path) is not None


def test_probe_growth_is_close_to_exact_and_its_similarities_are_true():
    """The approximate growth (above EXACT_DENSITY_MAX_N items) on clustered data: recall of the new rows and of
    the old rows' new entries against the exact growth; every stored similarity is the real dot product."""
    X, _ = synthetic.clustered(8000, 96, 20, seed=9)  # 96-d: cells chosen in the 64-d sketch
    n_old = 7000
    idx0, sim0 = builder.knn_graph(X[:n_old], 10, method="exact")
    exact, _ = grow_knn_graph(X[:n_old], idx0, sim0, X[n_old:], method="exact")
    probe, psims = grow_knn_graph(X[:n_old], idx0, sim0, X[n_old:], method="probe")
    r_new = recall(probe[n_old:], exact[n_old:])
    r_all = recall(probe, exact)
    assert r_new >= 0.9 and r_all >= 0.95, (r_new, r_all)
    np.testing.assert_allclose(psims, np.einsum("ij,ikj->ik", X, X[probe]), atol=1e-5)
    assert (probe != np.arange(8000)[:, None]).all()  # nobody is its own neighbour
    assert (probe[:n_old] >= n_old).any()  # old rows took new items in
