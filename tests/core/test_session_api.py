"""The read API of Session (what the UI reads instead of ``session.knn.*``), checked against the k-NN's own state."""

import numpy as np
import pytest

from aldesk.core.labeling.session import Session

CLASSES = ["a", "b", "c", "d"]


def _labeled_session(blobs, k: int = 7) -> tuple[Session, np.ndarray]:
    X, y = blobs
    s = Session(X, CLASSES, k=k)
    for i in range(0, 60, 3):
        s.label(i, CLASSES[y[i]])
    s.label_many([100, 101, 102], "b")
    return s, y


def test_k_is_the_classifiers(blobs):
    X, _ = blobs
    assert Session(X, CLASSES, k=7).k == 7
    s = Session(X, CLASSES)
    assert s.k == s.knn.k


def test_label_index_matches_the_knn_and_is_a_copy(blobs):
    s, y = _labeled_session(blobs)
    every = s.label_index()
    assert np.array_equal(every, s.knn.label)
    assert every[0] == CLASSES.index(CLASSES[y[0]]) and every[1] == -1 and every[100] == CLASSES.index("b")
    items = np.array([0, 1, 100, 599])
    assert np.array_equal(s.label_index(items), s.knn.label[items])
    mask = np.zeros(s.n, dtype=bool)
    mask[[3, 4, 101]] = True
    assert np.array_equal(s.label_index(mask), s.knn.label[[3, 4, 101]])
    every[:] = 3
    s.label_index(items)[:] = 3
    assert s.label_of(1) is None and s.label_of(0) == CLASSES[y[0]]  # the session's state was not touched
    s.undo()  # the batch of three
    assert np.array_equal(s.label_index(np.array([100, 101, 102])), [-1, -1, -1])


def test_probabilities_match_the_knn_votes(blobs):
    s, _ = _labeled_session(blobs)
    items = np.array([1, 2, 5, 300, 0])
    p = s.probabilities(items)
    assert p.shape == (items.size, len(CLASSES))
    assert np.allclose(p, s.knn.probabilities(len(CLASSES), items))
    assert np.allclose(p.sum(axis=1), 1.0)
    assert np.allclose(s.probabilities(), s.knn.probabilities(len(CLASSES)))
    # One class more: the new class has no votes yet, and the rows still sum to one.
    s.add_class("e")
    p5 = s.probabilities(items)
    assert p5.shape == (items.size, 5) and np.allclose(p5.sum(axis=1), 1.0)
    assert np.allclose(p5, s.knn.probabilities(5, items))


def test_probabilities_before_any_label_are_uniform(blobs):
    X, _ = blobs
    s = Session(X, CLASSES)
    assert np.allclose(s.probabilities(np.array([0, 9])), 1.0 / len(CLASSES))
    assert Session(X, []).probabilities(np.array([0])).shape == (1, 1)  # no classes yet: no crash


def test_neighbour_slots_are_the_knns_and_read_only(blobs):
    s, _ = _labeled_session(blobs)
    labeled, nbr, sim = s.neighbour_slots()
    assert np.array_equal(labeled, s.knn.labeled)
    assert np.array_equal(nbr, s.knn.nbr) and np.array_equal(sim, s.knn.sim, equal_nan=True)
    assert nbr.shape == (s.n, s.k)
    with pytest.raises(ValueError):
        nbr[0, 0] = 5
    with pytest.raises(ValueError):
        sim[0, 0] = 1.0
    assert s.knn.nbr.flags.writeable  # the session itself still updates its slots
    s.label(1, "a")
    labeled2, nbr2, _ = s.neighbour_slots()
    assert labeled2[-1] == 1 and np.array_equal(nbr2, s.knn.nbr)
