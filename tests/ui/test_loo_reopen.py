"""After a reopen the leave-one-out curve is drawn (issue 13, smaller list): the accuracy chart rebuilds the curve
from the project's labeling order, and each rebuilt point is the leave-one-out figure a session holding only
those first labels gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aldesk.core import synthetic
from aldesk.core.dataset import Dataset
from aldesk.core.evaluate.loo_history import loo_history
from aldesk.core.labeling.session import Session
from aldesk.core.project import Project
from aldesk.ui.labeling.controller import Controller, Workspace
from aldesk.ui.plots.accuracy_panel import AccuracyPanel


def test_a_reopened_project_draws_its_leave_one_out_curve(qtbot, tmp_path: Path) -> None:
    X, y = synthetic.clustered(200, 32, 3, seed=5)
    ds = Dataset("text", tmp_path / "t.csv", [f"text {i}" for i in range(200)])
    classes = ["a", "b", "c"]
    with Project.create(tmp_path / "p.aldesk", ds, classes, model_id="m") as p:
        s = p.open_session(X, k=5)
        rng = np.random.default_rng(0)
        for i in rng.permutation(200)[:60]:
            # Some labels disagree with the clusters: the curve is not flat at 100 %.
            s.label(int(i), classes[int(y[i]) if i % 5 else (int(y[i]) + 1) % 3])
        order = s.labeled_items()
    p = Project.open(tmp_path / "p.aldesk")
    s = p.open_session(X, k=5)
    assert list(s.labeled_items()) == list(order)  # the reopen keeps the labeling order
    panel = AccuracyPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_controller(Controller(Workspace(ds, s, p, [], "t")))
    xs, accs = panel.loo.labels, panel.loo.accuracy
    assert len(xs) >= 20 and xs[-1] == 60  # the rebuilt history, then the current figure
    drawn = panel.plot.loo.getData()[0]
    assert drawn is not None and len(drawn) == len(xs)  # on the chart, as a line
    assert len(set(accs)) > 1
    # Each rebuilt point is what a session with only the first m labels says.
    for m, acc in zip(xs[:-1], accs[:-1], strict=True):
        prefix = Session(X, classes, k=5)
        for i in order[:m]:
            prefix.label(int(i), s.label_of(int(i)))
        assert prefix.loo_accuracy_labeled() == acc, m
    assert accs[-1] == s.loo_accuracy_labeled()
    p.close()


def test_loo_history_gives_nothing_for_too_few_labels() -> None:
    X, _ = synthetic.clustered(50, 8, 2, seed=1)
    assert loo_history(X, np.array([0, 1]), np.array([0, 1]), 5) == ([], [])
