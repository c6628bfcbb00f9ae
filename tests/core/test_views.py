"""The grid's queries (predicted as X, least confident of X, unlabeled neighbours) and the lasso preview's counts,
checked against the k-NN's own numbers: each item's exact prediction (Session.predict) and a brute-force search."""

from __future__ import annotations

import numpy as np
import pytest

from aldesk.core.labeling import views
from aldesk.core.labeling.session import Session
from tests.core.conftest import clustered

CLASSES = ["a", "b", "c", "d"]


@pytest.fixture
def session() -> Session:
    # Noisy clusters (spread 2.0): the k-NN is often wrong and unsure, so every class has mixed predictions.
    X, y = clustered(800, 16, 4, seed=3, spread=2.0)
    s = Session(X, CLASSES)
    rng = np.random.default_rng(0)
    for i in rng.choice(800, 40, replace=False):
        s.label(int(i), CLASSES[y[i]])
    s.skip(int(np.flatnonzero(s.pool_mask())[0]))
    return s


def _exact(s: Session, item: int) -> tuple[str | None, dict[str, float]]:
    p = s.predict(item)
    return p.predicted, p.probabilities


def test_predicted_as_is_every_pool_item_the_knn_predicts_as_x_by_confidence(session: Session) -> None:
    s = session
    pool = set(np.flatnonzero(s.pool_mask()).tolist())
    for cls in CLASSES:
        items, conf = views.predicted_as(s, cls)
        expected = {i for i in pool if _exact(s, i)[0] == cls}
        assert set(items.tolist()) == expected and len(items) == len(expected) > 0
        for i, c in zip(items.tolist(), conf.tolist(), strict=True):
            assert _exact(s, i)[1][cls] == pytest.approx(c, rel=1e-5)
        assert np.all(np.diff(conf) <= 0)  # most confident first
        least, lconf = views.predicted_as(s, cls, least_confident=True, n=5)
        assert np.all(np.diff(lconf) >= 0) and lconf[0] == pytest.approx(conf.min())
        assert set(least.tolist()) <= expected
    assert not s.skipped[np.concatenate([views.predicted_as(s, c)[0] for c in CLASSES])].any()


def test_predicted_as_is_empty_before_any_label() -> None:
    X, _ = clustered(50, 8, 2)
    items, conf = views.predicted_as(Session(X, ["x", "y"]), "x")
    assert items.size == 0 and conf.size == 0
    with pytest.raises(KeyError):
        views.predicted_as(Session(X, ["x"]), "nope")


def test_unlabeled_neighbours_match_a_brute_force_search(session: Session) -> None:
    s = session
    item = int(s.knn.labeled[0])
    got, sims = views.unlabeled_neighbours(s, item, 12)
    pool = np.flatnonzero(s.pool_mask())
    pool = pool[pool != item]
    brute = pool[np.argsort(-(s.X[pool] @ s.X[item]), kind="stable")[:12]]
    assert got.tolist() == brute.tolist()
    assert np.allclose(sims, s.X[got] @ s.X[item], atol=1e-6)
    assert all(s.label_of(i) is None and not s.skipped[i] for i in got.tolist())


def test_label_preview_counts_each_target_by_its_own_prediction(session: Session) -> None:
    s = session
    rng = np.random.default_rng(1)
    labeled = s.knn.labeled[:3]
    sel = np.concatenate([rng.choice(np.flatnonzero(s.pool_mask()), 60, replace=False), labeled])
    pv = views.label_preview(s, sel, "b")
    targets = [i for i in sel.tolist() if s.label_of(i) is None]
    preds = [_exact(s, i)[0] for i in targets]
    assert sorted(pv.targets.tolist()) == sorted(targets)
    assert pv.already_labeled == 3
    assert pv.agree == preds.count("b")
    assert pv.others == {c: preds.count(c) for c in CLASSES if c != "b" and preds.count(c)}
    assert pv.agree + sum(pv.others.values()) == len(targets)
    assert pv.agree < len(targets)  # noisy clusters: some of them are predicted as another class
