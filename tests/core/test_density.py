import numpy as np

from aldesk.core.neighbours import builder
from aldesk.core.neighbours.store import graph_key, knn_density_cached
from tests.core.conftest import clustered


def test_density_is_stored_and_reused(tmp_path, monkeypatch):
    X, _ = clustered(500, 8, 3)
    eligible = np.ones(500, bool)
    eligible[::7] = False
    key = graph_key("m", [f"{i:040x}" for i in range(500)], eligible, 10)
    first = knn_density_cached(X, eligible, key, root=tmp_path)
    expected = builder.knn_density(X[eligible])
    np.testing.assert_allclose(first[eligible], expected, rtol=1e-5)
    assert (first[~eligible] == 0).all()

    def boom(*a, **kw):
        raise AssertionError("the graph should come from disk")

    monkeypatch.setattr(builder, "knn_graph", boom)
    again = knn_density_cached(X, eligible, key, root=tmp_path)
    np.testing.assert_array_equal(first, again)


def test_key_changes_with_content_and_eligibility():
    h = [f"{i:040x}" for i in range(5)]
    e = np.ones(5, bool)
    k0 = graph_key("m", h, e, 10)
    assert k0 == graph_key("m", h, e, 10)
    assert k0 != graph_key("m2", h, e, 10)
    assert k0 != graph_key("m", h[::-1], e, 10)
    e2 = e.copy()
    e2[2] = False
    assert k0 != graph_key("m", h, e2, 10)


def test_damaged_graph_file_is_recomputed(tmp_path):
    X, _ = clustered(100, 8, 2)
    e = np.ones(100, bool)
    key = graph_key("m", [str(i) for i in range(100)], e, 10)
    a = knn_density_cached(X, e, key, root=tmp_path)
    (tmp_path / f"{key}.idx.npy").write_bytes(b"garbage")
    b = knn_density_cached(X, e, key, root=tmp_path)
    np.testing.assert_allclose(a, b)


def test_stored_knn_state_restores_the_same_session(tmp_path):
    from aldesk.core.labeling.actions import Action
    from aldesk.core.labeling.session import Session
    from aldesk.core.neighbours.store import knn_state_key, load_knn_state, save_knn_state

    X, y = clustered(800, 16, 4, seed=2)
    classes = ["a", "b", "c", "d"]
    log: list[Action] = []
    s = Session(X, classes, k=5, journal=log.append)
    for _ in range(30):
        c = s.candidates(1)[0]
        s.label(c.index, classes[y[c.index]])
    s.undo()
    key = knn_state_key("vec", s.knn.labeled, 5)
    assert save_knn_state(s.knn.nbr, s.knn.sim, key, tmp_path)

    calls = []

    def slots(labeled):
        calls.append(1)
        return load_knn_state(knn_state_key("vec", labeled, 5), len(X), 5, tmp_path)

    fast = Session(X, classes, k=5)
    fast.restore(s.labels, [], log, slots=slots)
    slow = Session(X, classes, k=5)
    slow.restore(s.labels, [], log)
    assert calls == [1]
    # the stored slots come from mat-vecs, the rebuild from a mat-mul: float32 rounding differs slightly
    np.testing.assert_allclose(fast.knn.probabilities(4), slow.knn.probabilities(4), rtol=1e-5)
    assert [c.index for c in fast.candidates(10)] == [c.index for c in slow.candidates(10)]
    # a different labeled set, or damaged files, are not used
    assert load_knn_state(knn_state_key("vec", s.knn.labeled[:-1], 5), len(X), 5, tmp_path) is None
    (tmp_path / f"{key}.knnidx.npy").write_bytes(b"junk")
    assert load_knn_state(key, len(X), 5, tmp_path) is None
