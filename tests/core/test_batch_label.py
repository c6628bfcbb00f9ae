"""A batch label (a grid page, a lasso) learns in one block product; it must leave the k-NN exactly as labeling
the items one by one would, and its undo exactly as before (tests against the one-by-one reference)."""

from __future__ import annotations

import numpy as np

from aldesk.core.labeling.session import Session
from aldesk.core.synthetic import clustered


def _state(s: Session) -> tuple:
    """Labels, each row's neighbour slots (as sets: their order is free) with similarities, and the votes."""
    knn = s.knn
    order = np.argsort(knn.nbr, axis=1, kind="stable")
    return (
        knn.label.copy(),
        np.take_along_axis(knn.nbr, order, 1),
        np.take_along_axis(knn.sim, order, 1),
        (knn.votes[:, : len(s.classes)].copy()),
    )


def _same(a: tuple, b: tuple) -> None:
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    # a block product and a mat-vec round the last float32 bit differently
    np.testing.assert_allclose(a[2], b[2], atol=1e-5)
    np.testing.assert_allclose(a[3], b[3], atol=1e-4)


def test_a_batch_label_equals_one_label_at_a_time_and_its_undo_restores_every_slot():
    X, _ = clustered(600, 16, 4, seed=3)
    batch, single = Session(X, ["a", "b", "c"], k=10), Session(X, ["a", "b", "c"], k=10)
    rng = np.random.default_rng(0)
    first = rng.choice(600, 25, replace=False)  # more than k labeled already: the slot-merging path
    for s in (batch, single):
        for n, i in enumerate(first):
            s.label(int(i), "abc"[n % 3])
    before = _state(batch)
    page = [int(i) for i in rng.choice(np.setdiff1d(np.arange(600), first), 60, replace=False)]
    page += [int(first[0]), int(first[1])]  # two already labeled: relabeled in the same batch
    batch.label_many(page, "b", origin="grid")
    for i in page:
        single.label(i, "b")
    _same(_state(batch), _state(single))
    np.testing.assert_allclose(batch.probabilities(), single.probabilities(), atol=1e-5)
    batch.undo()
    _same(_state(batch), before)
