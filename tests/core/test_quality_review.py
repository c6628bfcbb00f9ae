"""The label-error review queue (aldesk/core/quality/review.py): out-of-sample self-confidence, confident-learning
thresholds, conflicting near-duplicates, and the keep op that stops the queue asking again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aldesk.core import synthetic
from aldesk.core.dataset import Dataset
from aldesk.core.model.knn import PRIOR, weight
from aldesk.core.project import Project
from aldesk.core.quality import review


def _unit(rows: list[list[float]]) -> np.ndarray:
    X = np.asarray(rows, dtype=np.float32)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_self_confidence_is_the_leave_one_out_vote_computed_by_hand() -> None:
    # Three items: a and b close together labeled x, c between them labeled y; k = 2.
    X = _unit([[1.0, 0.0], [0.9, 0.1], [0.95, 0.05]])
    oos = review.out_of_sample(X, np.array([0, 1, 2]), np.array([0, 0, 1]), 2, k=2)
    s_ca, s_cb = float(X[2] @ X[0]), float(X[2] @ X[1])
    total = float(weight(s_ca) + weight(s_cb))
    # c's own label y gets no vote (its neighbours are a and b, both x): only the prior's share.
    by_hand = (PRIOR / 2 * total) / ((1 + PRIOR) * total)
    assert oos.probs[2, 1] == pytest.approx(by_hand)
    assert oos.probs[2].sum() == pytest.approx(1.0)
    # a: neighbours b (x) and c (y), weighted by their similarity to a.
    wb, wc = float(weight(X[0] @ X[1])), float(weight(X[0] @ X[2]))
    assert oos.probs[0, 0] == pytest.approx((wb + PRIOR / 2 * (wb + wc)) / ((1 + PRIOR) * (wb + wc)))
    t = review.class_thresholds(oos)
    assert t[0] == pytest.approx((oos.probs[0, 0] + oos.probs[1, 0]) / 2)
    assert t[1] == pytest.approx(oos.probs[2, 1])


def test_planted_label_errors_are_the_top_of_the_queue() -> None:
    X, y = synthetic.clustered(800, 32, 5, spread=0.5, seed=3)
    classes = ["a", "b", "c", "d", "e"]
    label = np.full(800, -1)
    rng = np.random.default_rng(0)
    labeled = rng.choice(800, 300, replace=False)
    label[labeled] = y[labeled]
    planted = labeled[:12]
    label[planted] = (y[planted] + 1 + rng.integers(4, size=12)) % 5  # another class, never the true one
    queue = review.review_queue(X, label, classes, k=10)
    top = {s.index for s in queue[:12]}
    assert top == set(planted.tolist())
    for s in queue[:12]:
        assert s.kind == "label"
        assert s.suggested == classes[y[s.index]]  # the queue's suggestion is the true class
        assert s.self_confidence < s.threshold
    # Ranked by self-confidence, lowest first.
    conf = [s.self_confidence for s in queue]
    assert conf == sorted(conf)


def test_near_duplicates_with_different_labels_are_listed_both_ways() -> None:
    X, y = synthetic.clustered(200, 16, 2, spread=0.4, seed=1)
    X[1] = X[0]  # an exact duplicate of item 0 ...
    label = np.full(200, -1)
    label[:60] = y[:60]
    label[1] = 1 - y[0]  # ... with the other label
    queue = review.review_queue(X, label, ["p", "q"], k=10)
    dups = {s.index: s for s in queue if s.kind == "duplicate"}
    assert set(dups) == {0, 1}
    assert dups[0].other == 1 and dups[1].other == 0
    assert dups[0].similarity == pytest.approx(1.0, abs=1e-5)
    # Below the threshold, the pair is not a duplicate conflict.
    assert not [
        s
        for s in review.review_queue(X, label, ["p", "q"], k=10, duplicate_similarity=1.01)
        if s.kind == "duplicate"
    ]


def test_unembeddable_labeled_items_have_no_opinion() -> None:
    X, y = synthetic.clustered(100, 8, 2, seed=2)
    label = np.where(np.arange(100) < 50, y, -1)
    label[0] = 1 - y[0]
    eligible = np.ones(100, dtype=bool)
    eligible[0] = False
    assert 0 not in {s.index for s in review.review_queue(X, label, ["p", "q"], 5, eligible=eligible)}


def test_keep_and_review_relabels_are_logged_and_not_asked_again(tmp_path: Path) -> None:
    X, y = synthetic.clustered(300, 16, 3, spread=0.5, seed=4)
    path = tmp_path / "p.aldesk"
    p = Project.create(
        path,
        Dataset("text", tmp_path / "t.csv", [f"t{i}" for i in range(300)]),
        ["a", "b", "c"],
        model_id="m",
    )
    s = p.open_session(X, k=10)
    names = ["a", "b", "c"]
    s.label_many([i for i in range(120) if y[i] == 0], "a")
    s.label_many([i for i in range(120) if y[i] == 1], "b")
    s.label_many([i for i in range(120) if y[i] == 2], "c")
    wrong = [0, 1, 2]
    for i in wrong:
        s.label(i, names[(y[i] + 1) % 3])
    first = review.session_queue(s)
    assert {q.index for q in first[:3]} == set(wrong)
    s.keep(wrong[0])  # K: the label stays, the queue does not ask again
    assert s.label_of(wrong[0]) == names[(y[wrong[0]] + 1) % 3]
    s.label(wrong[1], names[y[wrong[1]]], origin=review.REVIEW_ORIGIN)  # relabel from the queue
    after = {q.index for q in review.session_queue(s)}
    assert wrong[0] not in after and wrong[1] not in after and wrong[2] in after
    p.close()
    with Project.open(path, readonly=True) as again:
        ops = [(a.op, a.items, a.origin) for a in again.actions()[-2:]]
        assert ops == [("keep", (wrong[0],), "review"), ("label", (wrong[1],), "review")]
        assert {r.item: r.origin for r in again.label_rows()}[wrong[1]] == "review"
        s2 = again.open_session(X, k=10)
        assert wrong[0] not in {q.index for q in review.session_queue(s2)}
    # Undo of a keep: the item is asked again (the keep is no longer in force), in the file too.
    p = Project.open(path)
    s3 = p.open_session(X, k=10)
    s3.undo()  # the review relabel
    s3.undo()  # the keep
    assert {wrong[0], wrong[1]} <= {q.index for q in review.session_queue(s3)}
    p.close()
    with Project.open(path, readonly=True) as again:
        assert {wrong[0], wrong[1]} <= {q.index for q in review.session_queue(again.open_session(X, k=10))}


def test_keep_refuses_an_unlabeled_item() -> None:
    X, _ = synthetic.clustered(20, 4, 2)
    from aldesk.core.labeling.session import Session

    s = Session(X, ["a", "b"])
    with pytest.raises(ValueError, match="no label to keep"):
        s.keep(3)
