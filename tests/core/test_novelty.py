"""New items the k-NN cannot place are found as a group and surfaced (issue 14.4)."""

from __future__ import annotations

import numpy as np

from aldesk.core import synthetic
from aldesk.core.labeling import novelty
from aldesk.core.model.knn import IncrementalKNN
from aldesk.core.neighbours import builder


def _project(new_class: bool):
    """Old items of classes 0-3 with 40 labels, then 250 new items: of class 4 (a new product) or of old ones."""
    X, y = synthetic.clustered(2400, 32, 5, seed=11)
    old = np.flatnonzero(y < 4)[:1200]
    if new_class:
        new = np.concatenate([np.flatnonzero(y == 4)[:150], np.flatnonzero(y < 4)[1200:1300]])
    else:
        new = np.flatnonzero(y < 4)[1200:1450]
    order = np.concatenate([old, new])
    X, y = X[order], y[order]
    knn = IncrementalKNN(X, 10)
    for i in range(0, 1200, 30):
        knn.add(i, int(y[i]))
    idx, sims = builder.knn_graph(X, 10, method="exact")
    return X, y, knn, idx, sims.mean(axis=1), np.arange(1200, 1450)


def test_a_new_class_is_found_as_one_group():
    _, y, knn, idx, density, new = _project(new_class=True)
    groups = novelty.new_groups(knn.max_similarity(), density, idx, new, knn.labeled)
    assert groups, "the 150 items of the unlabeled class form a group"
    g = groups[0]
    purity = float((y[g.items] == 4).mean())
    found = int((y[g.items] == 4).sum())
    assert purity >= 0.9 and found >= 75, (purity, found)
    assert g.inside >= novelty.MIN_INSIDE
    assert y[g.items[0]] == 4  # the most typical member leads
    assert novelty.describe(g).startswith(f"These {g.size:,} new items look like a new class")


def test_new_items_of_known_classes_are_no_group():
    _, _, knn, idx, density, new = _project(new_class=False)
    assert novelty.new_groups(knn.max_similarity(), density, idx, new, knn.labeled) == []


def test_once_one_member_is_labeled_the_group_is_placed():
    _, y, knn, idx, density, new = _project(new_class=True)
    g = novelty.new_groups(knn.max_similarity(), density, idx, new, knn.labeled)[0]
    knn.add(int(g.items[0]), 4)
    again = novelty.new_groups(knn.max_similarity(), density, idx, new, knn.labeled)
    assert all((y[h.items] == 4).sum() < 0.5 * g.size for h in again)


def test_nothing_is_new_before_any_label():
    _, _, knn, idx, density, new = _project(new_class=True)
    fresh = IncrementalKNN(knn.X, 10)
    assert novelty.new_groups(fresh.max_similarity(), density, idx, new, fresh.labeled) == []


def test_surface_puts_each_group_head_first():
    groups = [novelty.NewGroup(np.array([7, 8, 9]), 0.9), novelty.NewGroup(np.array([3, 4]), 0.8)]
    out = novelty.surface(np.array([1, 3, 5, 7, 2]), groups)
    assert out.tolist() == [7, 3, 1, 5, 2]
    assert novelty.surface(np.array([1, 2]), []).tolist() == [1, 2]
