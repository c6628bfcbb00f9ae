"""Merge and delete of a class, and redo (issue 13.3): undoable, logged, the same in memory and in the file, and
the same again after a reopen (the redo stack included); the k-NN after each equals one built from scratch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aldesk.core import synthetic
from aldesk.core.dataset import Dataset
from aldesk.core.labeling.session import Session
from aldesk.core.project import Project

N = 120


def _project(tmp_path: Path, classes=("a", "b", "c", "d")) -> tuple[Project, np.ndarray]:
    X, _ = synthetic.clustered(N, 16, 4, seed=3)
    p = Project.create(
        tmp_path / "p.aldesk",
        Dataset("text", tmp_path / "t.csv", [f"t{i}" for i in range(N)]),
        list(classes),
        model_id="m",
    )
    return p, X


def _mem(s: Session) -> tuple:
    return s.labels, set(np.flatnonzero(s.skipped).tolist()), list(s.classes)


def _file(p: Project) -> tuple:
    return p.labels(), p.skipped(), p.classes


def _same_as_scratch(s: Session) -> None:
    """The incrementally updated k-NN gives the probabilities of one built from the same labels at once."""
    fresh = Session(s.X, list(s.classes), k=s.k)
    lab = s.labels
    if lab:
        fresh.knn.add_many(
            np.fromiter(lab, np.int64), np.array([fresh.classes.index(c) for c in lab.values()], np.int32)
        )
    # float32 similarities: a mat-vec and a block product differ in the last bits
    np.testing.assert_allclose(s.probabilities(), fresh.probabilities(), atol=1e-5)


def test_merge_delete_undo_redo_agree_in_memory_file_and_reopen(tmp_path: Path) -> None:
    p, X = _project(tmp_path)
    s = p.open_session(X, k=5)
    for i in range(40):
        s.label(i, "abcd"[i % 4])
    s.skip(50)
    before = _mem(s)
    steps = [
        (lambda: s.merge_class("b", "d"), {"a", "c", "d"}),
        (lambda: s.delete_class("a"), {"c", "d"}),
    ]
    for step, classes in steps:
        step()
        assert set(s.classes) == classes
        assert _mem(s) == _file(p)
        _same_as_scratch(s)
    assert s.classes == ["c", "d"] and p.classes == ["c", "d"]
    assert all(s.label_of(i) == "d" for i in range(1, 40, 4))  # b's items went into d
    assert all(s.label_of(i) is None for i in range(0, 40, 4))  # a's items are unlabeled again
    assert s.pool_mask()[0]  # ... and back in the pool

    s.undo()  # the delete
    assert s.classes == ["a", "c", "d"] and _mem(s) == _file(p)
    _same_as_scratch(s)
    s.undo()  # the merge
    assert _mem(s) == before == _file(p)
    _same_as_scratch(s)
    # Redo both, in order; the file follows.
    s.redo()
    assert s.classes == ["a", "c", "d"] and _mem(s) == _file(p)
    # Reopened between two redos: the redo stack survives, like the undo stack.
    p.close()
    p = Project.open(tmp_path / "p.aldesk")
    s = p.open_session(X, k=5)
    assert s.classes == ["a", "c", "d"]
    assert [a.op for e in s.redo_stack for a in e] == ["delete_class"]
    s.redo()
    assert s.classes == ["c", "d"] and _mem(s) == _file(p)
    _same_as_scratch(s)
    assert s.redo() is None  # nothing left to redo
    # Undo after the reopen walks back through redo'd actions too.
    s.undo()
    s.undo()
    assert _mem(s) == before == _file(p)
    p.close()


def test_a_new_action_after_undo_empties_the_redo_stack_also_after_reopen(tmp_path: Path) -> None:
    p, X = _project(tmp_path)
    s = p.open_session(X)
    s.label(0, "a")
    s.label(1, "b")
    s.undo()
    assert len(s.redo_stack) == 1
    s.label(2, "c")  # a new label: the undone label of 1 can no longer be redone
    assert s.redo_stack == [] and s.redo() is None
    assert s.labels == {0: "a", 2: "c"}
    s.undo()
    s.undo()
    assert [a.items for e in s.redo_stack for a in e] == [(2,), (0,)]
    p.close()
    p = Project.open(tmp_path / "p.aldesk")
    s = p.open_session(X)
    assert s.labels == {}
    assert [a.items for e in s.redo_stack for a in e] == [(2,), (0,)]
    s.redo()
    assert s.labels == {0: "a"} == p.labels()
    p.close()


def test_a_class_added_after_a_delete_keeps_its_place_when_the_delete_is_undone(tmp_path: Path) -> None:
    p, X = _project(tmp_path, ("a", "b", "c"))
    s = p.open_session(X)
    s.label(0, "b")
    s.label(1, "c")
    s.delete_class("c")  # the last class: its id is the highest one
    s.add_class("new")
    s.label(2, "new")
    assert p.classes == s.classes == ["a", "b", "new"]
    # The new class must not take the deleted class's id (the order is by id): undo of the delete puts c back
    # before it, in memory and in the file alike.
    s.undo()  # the label of 2
    s.undo()  # the delete (add_class is not undoable)
    assert s.classes == p.classes == ["a", "b", "c", "new"]
    assert s.labels == p.labels() == {0: "b", 1: "c"}
    _same_as_scratch(s)
    p.close()
    with Project.open(tmp_path / "p.aldesk") as again:
        assert again.classes == ["a", "b", "c", "new"]


def test_delete_of_a_big_class_and_its_undo_match_a_rebuild(tmp_path: Path) -> None:
    p, X = _project(tmp_path)
    s = p.open_session(X, k=7)
    s.label_many(range(80), "a")  # > 32 items: the undo takes the block path
    s.label_many(range(80, 90), "b")
    s.delete_class("a")
    _same_as_scratch(s)
    assert s.n_labeled == 10
    s.undo()
    _same_as_scratch(s)
    assert s.n_labeled == 90 and _mem(s) == _file(p)
    p.close()


def test_merge_refuses_itself_and_unknown_classes(tmp_path: Path) -> None:
    p, X = _project(tmp_path)
    s = p.open_session(X)
    with pytest.raises(ValueError, match="itself"):
        s.merge_class("a", "a")
    with pytest.raises(KeyError):
        s.merge_class("a", "zzz")
    with pytest.raises(KeyError):
        s.delete_class("zzz")
    assert p.classes == ["a", "b", "c", "d"] and p.actions() == []
    p.close()


def test_delete_undo_with_fewer_labels_than_k_keeps_later_labels_right(tmp_path: Path) -> None:
    p, X = _project(tmp_path)
    s = p.open_session(X, k=10)
    s.label_many(range(4), "a")
    s.label(4, "b")
    s.delete_class("a")
    s.undo()  # 5 labels, k = 10: the slots must stay in labeling order for the next label's fast path
    s.label(5, "c")
    s.label(6, "d")
    _same_as_scratch(s)
    p.close()
