import numpy as np

from aldesk.core import scoring
from aldesk.core.density import graph_key, knn_density_cached
from tests.core.conftest import clustered


def test_density_is_stored_and_reused(tmp_path, monkeypatch):
    X, _ = clustered(500, 8, 3)
    eligible = np.ones(500, bool)
    eligible[::7] = False
    key = graph_key("m", [f"{i:040x}" for i in range(500)], eligible, 10)
    first = knn_density_cached(X, eligible, key, root=tmp_path)
    expected = scoring.knn_density(X[eligible])
    np.testing.assert_allclose(first[eligible], expected, rtol=1e-5)
    assert (first[~eligible] == 0).all()

    def boom(*a, **kw):
        raise AssertionError("the graph should come from disk")

    monkeypatch.setattr(scoring, "knn_graph", boom)
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
