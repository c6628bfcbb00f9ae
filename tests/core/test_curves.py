"""Accuracy-estimate maths (Wilson band, trailing audit window, leave-one-out) and the map's projection/geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aldesk.core.evaluate.curves import LooTrace, audit_curve, loo_accuracy, wilson_interval
from aldesk.core.labeling.session import Session
from aldesk.core.maps.projection import pca_2d, points_in_polygon, simplify_path
from aldesk.core.model.knn import IncrementalKNN


def test_wilson_known_values() -> None:
    # Reference values (Wilson 1927; e.g. Newcombe 1998, table I): 81/263 -> (0.2553, 0.3662).
    lo, hi = wilson_interval(81, 263)
    assert lo == pytest.approx(0.2553, abs=5e-4) and hi == pytest.approx(0.3662, abs=5e-4)
    # At 0 % and 100 % the band keeps a width (the normal approximation would collapse to a point).
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=5e-4)
    lo, hi = wilson_interval(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.7225, abs=5e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_wilson_coverage_is_about_95_percent() -> None:
    rng = np.random.default_rng(1)
    n, p = 20, 0.8
    hits = 0
    trials = 4000
    for s in rng.binomial(n, p, trials):
        lo, hi = wilson_interval(int(s), n)
        hits += lo <= p <= hi
    assert 0.92 <= hits / trials <= 0.99


def test_audit_curve_trailing_window() -> None:
    recs = [(i * 10, i >= 5) for i in range(30)]  # wrong for the first 5 audits, right afterwards
    c = audit_curve(list(reversed(recs)), window=20)  # order of the records does not matter
    assert len(c) == 30
    assert list(c.labels[:3]) == [0, 10, 20]
    assert c.accuracy[4] == 0.0 and c.window_size[4] == 5
    assert c.accuracy[9] == pytest.approx(0.5)
    assert c.window_size[-1] == 20 and c.accuracy[-1] == 1.0  # the early misses fell out of the window
    assert np.all(c.low <= c.accuracy) and np.all(c.accuracy <= c.high)
    acc, lo, hi = c.last
    assert acc == 1.0 and hi == 1.0 and lo < 0.9
    assert audit_curve([]).last is None


def test_loo_matches_session_and_trace_handles_undo() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 16)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    s = Session(X, ["a", "b", "c"])
    assert loo_accuracy(s.knn, 3) is None
    for i in range(30):
        s.label(i, "abc"[int(X[i, 0] > 0) + int(X[i, 1] > 0)])
    assert loo_accuracy(s.knn, 3) == pytest.approx(s.loo_accuracy())
    t = LooTrace()
    for n, a in [(2, 0.5), (3, 0.6), (4, 0.7)]:
        t.update(n, a)
    t.update(3, 0.65)  # an undo went back to 3 labels: the point for 4 (and the old 3) go
    assert t.labels == [2, 3] and t.accuracy == [0.5, 0.65]
    t.update(1, None)
    assert t.labels == [] and t.accuracy == []


def test_loo_accuracy_is_exact_on_a_tiny_case() -> None:
    X = np.array([[1, 0], [0.99, 0.14], [0, 1], [0.14, 0.99]], dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    knn = IncrementalKNN(X, 3)  # k=1 would leave only the item itself, whose vote LOO removes
    knn.add_many(np.arange(4), np.array([0, 0, 1, 1]))
    assert loo_accuracy(knn, 2) == 1.0


def test_pca_2d_separates_clusters_and_is_deterministic() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 50)) * 0.1 + 1.0
    b = rng.normal(size=(300, 50)) * 0.1 - 1.0
    X = np.vstack([a, b]).astype(np.float32)
    Y = pca_2d(X, sample=200)
    assert Y.shape == (600, 2) and Y.dtype == np.float32 and np.isfinite(Y).all()
    # The first axis splits the two clusters.
    assert abs(Y[:300, 0].mean() - Y[300:, 0].mean()) > 1
    assert np.array_equal(Y, pca_2d(X, sample=200))
    assert pca_2d(np.zeros((0, 5))).shape == (0, 2)
    assert pca_2d(np.ones((2, 5))).shape == (2, 2)


def test_points_in_polygon_matches_a_square_and_a_concave_shape() -> None:
    rng = np.random.default_rng(0)
    pts = rng.uniform(-2, 2, size=(5000, 2))
    square = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float)
    inside = points_in_polygon(pts, square)
    expect = (np.abs(pts) < 1).all(axis=1)
    assert np.array_equal(inside, expect)
    # An L shape: the square minus its top-right quarter.
    ell = np.array([[-1, -1], [1, -1], [1, 0], [0, 0], [0, 1], [-1, 1]], float)
    got = points_in_polygon(pts, ell)
    assert np.array_equal(got, expect & ~((pts[:, 0] > 0) & (pts[:, 1] > 0)))
    assert not points_in_polygon(pts, square[:2]).any()


def test_simplify_path_keeps_ends() -> None:
    path = np.stack([np.arange(1000), np.arange(1000) ** 0.5], axis=1)
    s = simplify_path(path, 100)
    assert s.shape == (100, 2) and np.array_equal(s[0], path[0]) and np.array_equal(s[-1], path[-1])
    assert math.isclose(simplify_path(path[:5], 100).shape[0], 5)
