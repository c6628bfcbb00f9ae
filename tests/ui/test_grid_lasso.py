"""The lasso made trustworthy: a real drag draws an outline that stays; the preview's counts are the targets' own
k-NN predictions (each item's exact Session.predict), per class; the targets are shown in a grid, the ones
predicted as another class first; items dropped there with Space are not labeled; one Ctrl+Z undoes the batch."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from aldesk.ui.labeling.controller import Controller, Workspace
from aldesk.ui.plots.dock import PlotsDock
from aldesk.ui.shell.tasks import TaskRunner
from tests.ui.helpers import class_key, text_workspace
from tests.ui.test_plots import _drag


@pytest.fixture
def dock_for(qtbot):
    runner = TaskRunner()
    docks: list[PlotsDock] = []

    def make(ws: Workspace) -> tuple[PlotsDock, Controller]:
        ctl = Controller(ws)
        dock = PlotsDock(runner)
        dock.map.auto_umap = False
        qtbot.addWidget(dock)
        dock.resize(900, 800)
        dock.show()
        qtbot.waitExposed(dock)
        dock.set_controller(ctl)
        ctl.start()
        docks.append(dock)
        return dock, ctl

    yield make
    for d in docks:
        d.set_controller(None)
    assert runner.shutdown(120_000)


def _numbers(text: str) -> dict[str, int]:
    """The preview's counts, read back from the words the user reads."""
    plain = re.sub(r"<[^>]+>", "", text)
    out = {"targets": int(re.search(r"Label ([\d,]+) items", plain).group(1).replace(",", ""))}
    out["agree"] = int(re.search(r"agrees with ([\d,]+) of them", plain).group(1).replace(",", ""))
    m = re.search(r"predicts ([\d,]+) as another class \(([^)]*)\)", plain)
    out["other"] = int(m.group(1).replace(",", "")) if m else 0
    for part in m.group(2).split(", ") if m else []:
        name, k = part.rsplit(" ", 1)
        out[f"cls:{name}"] = int(k.replace(",", ""))
    return out


def test_lasso_preview_counts_are_the_items_own_predictions(qtbot, dock_for) -> None:
    dock, ctl = dock_for(text_workspace(3000))
    dock.tabs.setCurrentWidget(dock.map)
    qtbot.waitUntil(lambda: dock.map.projection == "pca")
    for n in (1, 2, 3, 1, 2, 3, 1, 2):
        ctl.label_current(ctl.session.classes[n - 1])
    ctl.flush()
    plot = dock.map.plot
    s = ctl.session
    # A real lasso around the map's centre (where the clusters, hence the predicted classes, mix).
    centre = np.median(plot.pos, axis=0)
    c = plot.mapFromScene(plot.vb.mapViewToScene(QPointF(float(centre[0]), float(centre[1]))))
    ang = np.linspace(0, 2 * np.pi, 40)
    _drag(
        qtbot,
        plot,
        [c + QPoint(int(70 * np.cos(a)), int(70 * np.sin(a))) for a in ang],
        Qt.KeyboardModifier.ShiftModifier,
    )
    sel = plot.selection.copy()
    assert sel.size >= 20, sel.size
    assert plot.vb.outline_shown()  # the outline is drawn and stays after the release
    plot.setFocus()
    qtbot.keyClick(plot, class_key(1))
    target = s.classes[0]
    targets = [int(i) for i in sel if s.label_of(int(i)) is None]
    preds = {i: s.predict(i).predicted for i in targets}  # each item's own, exact prediction
    got = _numbers(dock.map.info.text())
    assert got["targets"] == len(targets)
    assert got["agree"] == sum(p == target for p in preds.values())
    assert got["other"] == sum(p != target for p in preds.values()) > 0
    for cls in s.classes[1:]:
        assert got.get(f"cls:{cls}", 0) == sum(p == cls for p in preds.values())
    # The grid shows every target, all selected, the ones predicted as another class first and marked.
    grid = dock.map.preview_grid
    assert grid.isVisible() and sorted(grid.grid_model.items()) == sorted(targets)
    cards = grid.grid_model.cards
    flags = [c.off_target for c in cards]
    assert flags == sorted(flags, reverse=True) and sum(flags) == got["other"]
    assert all(c.predicted == preds[c.item] for c in cards)
    assert grid.selected_items() == grid.grid_model.items()
    assert s.n_labeled == 8  # only a preview so far
    # Drop the first two (predicted as another class) with Space, then apply with Enter.
    grid.setFocus()
    dropped = [cards[0].item, cards[1].item]
    qtbot.keyClick(grid, Qt.Key.Key_Space)
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    qtbot.keyClick(grid, Qt.Key.Key_Space)
    after = _numbers(dock.map.info.text())
    assert after["targets"] == len(targets) - 2 and "2 dropped" in dock.map.info.text()
    assert after["other"] == got["other"] - 2
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    kept = [i for i in targets if i not in dropped]
    assert s.history[-1].items == tuple(kept)  # one action, in the selection's order
    assert all(s.label_of(i) == target for i in kept) and all(s.label_of(i) is None for i in dropped)
    assert not grid.isVisible() and plot.selection.size == 0 and not plot.vb.outline_shown()
    ctl.undo()
    assert s.n_labeled == 8
