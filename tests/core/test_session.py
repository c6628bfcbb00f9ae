import numpy as np
import pytest

from aldesk.core.labeling.actions import Action, undo_stack
from aldesk.core.labeling.session import Session
from tests.core.conftest import clustered

CLASSES = ["a", "b", "c", "d"]


def _label_top(s: Session, y, n: int) -> list[int]:
    done = []
    for _ in range(n):
        c = s.candidates(1)[0]
        s.label(c.index, CLASSES[y[c.index]])
        done.append(c.index)
    return done


def test_candidates_exclude_labeled_and_skipped(blobs):
    X, y = blobs
    s = Session(X, CLASSES, k=5)
    done = _label_top(s, y, 10)
    first = s.candidates(1)[0].index
    s.skip(first)
    cands = [c.index for c in s.candidates(50)]
    assert not set(done) & set(cands)
    assert first not in cands
    assert len(set(cands)) == 50


def test_cold_start_is_density_times_diversity(blobs):
    X, _ = blobs
    s = Session(X, CLASSES)
    c = s.candidates(1)[0]
    # no labels: uncertainty and diversity are constant, so the densest item comes first
    assert c.index == int(np.argmax(s.density))
    assert c.predicted is None


def test_undo_any_depth_restores_labels_and_ranking(blobs):
    X, y = blobs
    s = Session(X, CLASSES, k=5)
    _label_top(s, y, 5)
    snapshot = (s.labels, [c.index for c in s.candidates(10)])
    more = _label_top(s, y, 7)
    s.skip(s.candidates(1)[0].index)
    for _ in range(8):
        assert s.undo() is not None
    assert s.labels == snapshot[0]
    assert [c.index for c in s.candidates(10)] == snapshot[1]
    assert not s.skipped.any()
    assert all(s.label_of(i) is None for i in more)
    for _ in range(5):
        s.undo()
    assert s.undo() is None and s.n_labeled == 0


def test_batch_label_is_one_undo_and_relabel_restores_previous(blobs):
    X, _y = blobs
    s = Session(X, CLASSES)
    s.label(0, "a")
    s.label_many([0, 1, 2, 3], "b")
    assert s.counts() == {"a": 0, "b": 4, "c": 0, "d": 0}
    s.undo()
    assert s.labels == {0: "a"}


def test_classes_add_rename_and_errors(blobs):
    X, _ = blobs
    s = Session(X, ["cat"])
    s.label(4, "cat")
    s.add_class("dog")
    s.rename_class("cat", "kitten")
    assert s.classes == ["kitten", "dog"] and s.labels == {4: "kitten"}
    with pytest.raises(ValueError):
        s.add_class("dog")
    with pytest.raises(ValueError):
        s.add_class("  ")
    with pytest.raises(KeyError):
        s.label(5, "horse")


def test_journal_sees_every_action_first_and_failure_changes_nothing(blobs):
    X, _ = blobs
    log: list[Action] = []
    s = Session(X, CLASSES, journal=log.append)
    s.label(1, "a")
    s.skip(2)
    s.undo()
    s.add_class("e")
    assert [a.op for a in log] == ["label", "skip", "undo", "add_class"]
    assert [a.seq for a in log] == [0, 1, 2, 3]

    def broken(_a):
        raise OSError("disk full")

    s.journal = broken
    with pytest.raises(OSError):
        s.label(3, "b")
    assert s.label_of(3) is None and s.labels == {1: "a"}


def test_restore_equals_replay(blobs):
    X, y = blobs
    log: list[Action] = []
    s = Session(X, CLASSES, k=5, journal=log.append)
    _label_top(s, y, 15)
    s.skip(s.candidates(1)[0].index)
    s.undo()
    s.undo()
    s.label_many([10, 11], "c")
    s.rename_class("d", "dd")

    replayed = Session(X, CLASSES, k=5)
    replayed.replay(log)
    restored = Session(X, list(s.classes), k=5)
    restored.restore(s.labels, np.flatnonzero(s.skipped), log)
    for other in (replayed, restored):
        assert other.labels == s.labels
        assert other.classes == s.classes
        assert [a.seq for a in other.history] == [a.seq for a in s.history]
        assert [c.index for c in other.candidates(10)] == [c.index for c in s.candidates(10)]
    # undo keeps working after a restore, and the next action continues the log
    restored.journal = log.append
    restored.undo()
    assert log[-1].seq == len(log) - 1 and log[-1].op == "undo"
    assert restored.label_of(10) is None


def test_undo_stack_from_log():
    acts = [
        Action("label", (1,), "a", (None,), seq=0),
        Action("skip", (2,), seq=1),
        Action("undo", target=1, seq=2),
        Action("add_class", cls="z", seq=3),
    ]
    assert [a.seq for a in undo_stack(acts)] == [0]


def test_prediction_explains_with_neighbours(blobs):
    X, y = blobs
    s = Session(X, CLASSES, k=5)
    for i in range(40):
        s.label(i, CLASSES[y[i]])
    pred = s.predict(100)
    assert pred.predicted == CLASSES[y[100]]
    assert len(pred.neighbours) == 5
    assert abs(sum(pred.probabilities.values()) - 1) < 1e-6
    p, _conf = s.predictions()
    assert (p[:40] == y[:40]).mean() > 0.9  # leave-one-out on labeled items


def test_ineligible_items_are_never_candidates(blobs):
    X, _ = blobs
    eligible = np.ones(len(X), bool)
    eligible[::2] = False
    s = Session(X, CLASSES, eligible=eligible)
    assert all(c.index % 2 == 1 for c in s.candidates(100))
    with pytest.raises(ValueError):
        s.label(0, "a")


def test_audit_items_are_uniform_draws_and_estimate_accuracy():
    X, y = clustered(3000, 16, 4, seed=11, spread=1.0)
    s = Session(X, CLASSES, k=5, audit_every=5, seed=3)
    audits = []
    for _ in range(200):
        c = s.candidates(1)[0]
        if c.audit:
            audits.append(c.index)
        s.label(c.index, CLASSES[y[c.index]])
    assert len(audits) == 40  # every 5th label
    rec = s.audit_records()
    assert len(rec) == 40  # the first audit comes after 4 labels, so the k-NN already predicts
    assert [n for n, _ in rec] == list(range(4, 200, 5))
    est = np.mean([ok for _, ok in rec])
    # true accuracy of the final model on the unlabeled rest
    pool = np.flatnonzero(s.pool_mask())
    true = (s.knn.probabilities(4, pool).argmax(axis=1) == y[pool]).mean()
    assert abs(est - true) < 0.2
    assert 0.5 < s.loo_accuracy() <= 1.0
    # undoing an audit label removes its record
    while s.history[-1].origin != "audit":
        s.undo()
    s.undo()
    assert len(s.audit_records()) == 39


def test_undo_after_rename_restores_the_renamed_class(blobs):
    X, _ = blobs
    log: list[Action] = []
    s = Session(X, ["cat", "dog"], journal=log.append)
    s.label(1, "cat")
    s.label(1, "dog")
    s.rename_class("cat", "feline")
    s.add_class("cat")  # a new class may take the old name: undo must not confuse them
    s.undo()
    assert s.labels == {1: "feline"}
    # the same log, through its JSON form, replays to the same state
    replayed = Session(X, ["cat", "dog"])
    replayed.replay([Action.from_dict(a.to_dict()) for a in log])
    assert replayed.labels == {1: "feline"} and replayed.classes == ["feline", "dog", "cat"]
