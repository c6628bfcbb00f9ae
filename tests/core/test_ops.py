"""Each op's meaning lives in one class (aldesk/core/labeling/ops.py), used by the session in memory and by the
project file: the two stay the same through every op and its undo, and an op nobody knows is refused by both."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aldesk.core import synthetic
from aldesk.core.dataset import Dataset
from aldesk.core.labeling import actions, ops
from aldesk.core.labeling.actions import Action
from aldesk.core.labeling.session import Session
from aldesk.core.project import Project


def test_every_op_has_one_class_and_the_undoable_ones_agree() -> None:
    assert set(ops.OPS) == {
        *("label", "skip", "unskip", "undo", "redo"),
        *("add_class", "rename_class", "merge_class", "delete_class", "rescan", "keep"),
    }
    assert ops.UNDOABLE == actions.UNDOABLE
    with pytest.raises(ValueError, match="unknown action 'merge'"):
        ops.op("merge")


def _state(p: Project) -> tuple:
    return p.labels(), p.skipped(), p.classes


def test_memory_and_file_agree_through_every_op_and_its_undo(tmp_path: Path) -> None:
    X, _ = synthetic.clustered(40, 8, 3)
    p = Project.create(
        tmp_path / "p.aldesk",
        Dataset("text", tmp_path / "t.csv", [f"t{i}" for i in range(40)]),
        ["a", "b"],
        model_id="m",
    )
    s = p.open_session(X)
    steps = [
        lambda: s.label(0, "a"),
        lambda: s.label_many([1, 2, 3], "b"),
        lambda: s.label(1, "a"),
        lambda: s.skip(5),
        lambda: s.unskip(5),
        lambda: s.add_class("c"),
        lambda: s.label(4, "c"),
        lambda: s.rename_class("c", "see"),
    ]
    for step in steps:
        step()
        assert (s.labels, set(np.flatnonzero(s.skipped).tolist()), s.classes) == _state(p)
    for _ in range(5):  # undo the label of 4, the unskip, the skip, the relabel of 1, the batch
        s.undo()
        assert (s.labels, set(np.flatnonzero(s.skipped).tolist()), s.classes) == _state(p)
    assert p.labels() == {0: "a"} and p.classes == ["a", "b", "see"]
    # Reopened from the file alone: the same state, rebuilt by the same ops.
    again = Session(X, p.classes)
    again.restore(p.labels(), p.skipped(), p.actions())
    assert again.labels == s.labels and again.classes == s.classes
    p.close()


def test_an_unknown_op_is_refused_in_memory_and_in_the_file(tmp_path: Path) -> None:
    X, _ = synthetic.clustered(10, 8, 2)
    p = Project.create(
        tmp_path / "p.aldesk",
        Dataset("text", tmp_path / "t.csv", [f"t{i}" for i in range(10)]),
        ["a"],
        model_id="m",
    )
    with pytest.raises(ValueError, match="unknown action"):
        p.journal(Action("merge", (1,), "a", seq=0))
    assert p.actions() == []
    with pytest.raises(ValueError, match="unknown action"):
        Session(X, ["a"]).replay([Action("merge", (1,), "a", seq=0)])
    p.close()
