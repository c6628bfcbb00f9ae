"""Plots dock: honest accuracy on real embeddings, map selection -> batch label -> one undo, click-to-open,
simulate through the task runner, and plot export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from aldesk.core.dataset import Dataset
from aldesk.core.labeling.session import Session
from aldesk.ui.labeling.controller import Controller, Workspace
from aldesk.ui.plots.curves import export_curves_png
from aldesk.ui.plots.dock import PlotsDock
from aldesk.ui.shell.tasks import TaskRunner
from tests.ui.helpers import class_key, clustered, text_workspace, wait_plots

DEMO_TEXTS = Path(__file__).resolve().parents[2] / "aldesk" / "resources" / "demo" / "texts.csv"


@pytest.fixture
def runner(qtbot):
    r = TaskRunner()
    yield r
    assert r.shutdown(120_000)  # never leave a worker running past the test (SIGABRT otherwise)


@pytest.fixture
def make_dock(qtbot, runner):
    docks: list[PlotsDock] = []

    def make(ws: Workspace) -> tuple[PlotsDock, Controller]:
        ctl = Controller(ws)
        dock = PlotsDock(runner)
        dock.map.auto_umap = False  # UMAP's JIT takes 30-45 s; tested on its own below
        qtbot.addWidget(dock)
        dock.resize(900, 700)
        dock.show()
        qtbot.waitExposed(dock)
        dock.set_controller(ctl)
        ctl.start()
        docks.append(dock)
        return dock, ctl

    yield make
    for d in docks:
        d.set_controller(None)


@pytest.fixture(scope="module")
def demo_texts() -> tuple[Dataset, np.ndarray]:
    from aldesk.core.embed import embed_dataset
    from aldesk.core.sources import load_source

    ds = load_source(DEMO_TEXTS, label_column="label")
    res = embed_dataset(ds)
    assert res.ok.all()
    return ds, res.vectors


def _truth(ds: Dataset, classes: list[str]) -> np.ndarray:
    return np.array([classes.index(lab) for lab in ds.known_labels])


def test_audit_estimate_tracks_true_accuracy_on_real_texts(qtbot, make_dock, demo_texts) -> None:
    ds, X = demo_texts
    classes = sorted(set(ds.known_labels))
    dock, ctl = make_dock(Workspace(ds, Session(X, classes), None, [], "demo texts"))
    dock.accuracy.audit_spin.setValue(4)
    assert ctl.session.audit_every == 4
    truth = _truth(ds, classes)
    for _ in range(160):  # the user labels the candidates with the true labels
        ctl.label_current(classes[truth[ctl.current]])
        ctl.flush()  # the user's pause between two labels: the pool is re-ranked (and an audit item drawn)
    s = ctl.session
    records = s.audit_records()
    assert len(records) >= 35
    # The chart redraws once the labels pause (never on a key's path): wait for it, as a user would.
    qtbot.waitUntil(
        lambda: (
            dock.accuracy.plot.audit.getData()[0] is not None
            and len(dock.accuracy.plot.audit.getData()[0]) == len(records)
        )
    )
    curve = dock.accuracy.plot.audit.getData()
    assert curve[0] is not None and len(curve[0]) == len(records)
    # True accuracy now: the k-NN's predictions on every still-unlabeled item against the known labels.
    pool = np.flatnonzero(s.knn.label < 0)
    p = s.knn.probabilities(len(classes), pool)
    true_acc = float((p.argmax(axis=1) == truth[pool]).mean())
    acc, lo, hi = dock.accuracy.estimate()
    assert lo <= true_acc <= hi, (acc, lo, hi, true_acc)
    assert hi - lo < 0.45  # 20 audits: an informative band, not [0, 1]
    assert "Audit estimate" in dock.accuracy.summary.text() and "optimistic" in dock.accuracy.summary.text()
    loo_x, loo_y = dock.accuracy.plot.loo.getData()
    assert loo_x[-1] == s.n_labeled and 0 <= loo_y[-1] <= 1
    # Leave-one-out is measured on the items the strategy chose: here it is not lower than the audit.
    ctl.undo()
    qtbot.waitUntil(lambda: dock.accuracy.plot.loo.getData()[0][-1] == s.n_labeled)


def _map_points(dock: PlotsDock, items: np.ndarray) -> list[QPoint]:
    """Widget pixel positions of items on the map."""
    plot = dock.map.plot
    rows = plot.row_of[items]
    out = []
    for x, y in plot.pos[rows]:
        scene = plot.vb.mapViewToScene(QPointF(float(x), float(y)))
        out.append(plot.mapFromScene(scene))
    return out


def _clickable_item(dock: PlotsDock) -> int:
    """An item with no other point within 8 px and not under the legend, so a click on it is unambiguous."""
    plot = dock.map.plot
    px = np.array([[p.x(), p.y()] for p in _map_points(dock, plot.items)], float)
    legend = plot.mapFromScene(plot.legend.sceneBoundingRect()).boundingRect().adjusted(-10, -10, 10, 10)
    vp = plot.viewport().rect().adjusted(10, 10, -10, -10)
    for row in np.argsort(-np.abs(plot.pos).sum(axis=1)):
        x, y = px[row]
        d = np.hypot(px[:, 0] - x, px[:, 1] - y)
        d[row] = np.inf
        if d.min() > 8 and vp.contains(int(x), int(y)) and not legend.contains(int(x), int(y)):
            return int(plot.items[row])
    raise AssertionError("no isolated point on the map")


def _drag(qtbot, widget, points: list[QPoint], modifier: Qt.KeyboardModifier) -> None:
    vp = widget.viewport()
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

    def send(kind: QEvent.Type, p: QPoint, button: Qt.MouseButton, buttons: Qt.MouseButton) -> None:
        ev = QMouseEvent(kind, QPointF(p), QPointF(vp.mapToGlobal(p)), button, buttons, modifier)
        QApplication.sendEvent(vp, ev)

    send(QEvent.Type.MouseButtonPress, points[0], left, left)
    for p in points[1:]:
        qtbot.wait(12)  # pyqtgraph drops moves closer than 10 ms apart (mouseRateLimit), as a real hand is
        send(QEvent.Type.MouseMove, p, none, left)
    send(QEvent.Type.MouseButtonRelease, points[-1], left, none)


@pytest.mark.parametrize("shape", ["lasso", "rectangle"])
def test_select_cluster_label_by_key_and_undo_all(qtbot, make_dock, shape: str) -> None:
    dock, ctl = make_dock(text_workspace(3000))
    dock.tabs.setCurrentWidget(dock.map)
    qtbot.waitUntil(lambda: dock.map.projection == "pca")
    for n in (1, 2, 3):
        ctl.label_current(ctl.session.classes[n - 1])
    plot = dock.map.plot
    # Select around the densest spot of the map: a box of +-40 px around the median point.
    centre = plot.pos[np.argsort(np.linalg.norm(plot.pos - np.median(plot.pos, axis=0), axis=1))[0]]
    c = plot.mapFromScene(plot.vb.mapViewToScene(QPointF(float(centre[0]), float(centre[1]))))
    if shape == "rectangle":
        pts = [c + QPoint(-40, -40), c + QPoint(0, 0), c + QPoint(40, 40)]
        _drag(qtbot, plot, pts, Qt.KeyboardModifier.ControlModifier)
    else:
        ang = np.linspace(0, 2 * np.pi, 40)
        pts = [c + QPoint(int(45 * np.cos(a)), int(45 * np.sin(a))) for a in ang]
        _drag(qtbot, plot, pts, Qt.KeyboardModifier.ShiftModifier)
    sel = plot.selection.copy()
    assert sel.size >= 5, sel.size
    # Everything selected lies inside the drawn shape (in pixels), nothing outside was taken.
    px = np.array([[p.x(), p.y()] for p in _map_points(dock, sel)])
    assert (np.abs(px - [c.x(), c.y()]) <= 46).all()
    unlabeled = sel[ctl.session.knn.label[sel] < 0]
    before = ctl.session.n_labeled
    plot.setFocus()
    qtbot.keyClick(plot, class_key(2))
    assert (
        f"Label {unlabeled.size:,} items as" in dock.map.info.text() and "agrees with" in dock.map.info.text()
    )
    assert ctl.session.n_labeled == before  # only a preview so far
    qtbot.keyClick(plot, Qt.Key.Key_Return)
    s = ctl.session
    assert s.n_labeled == before + unlabeled.size
    assert all(s.label_of(int(i)) == s.classes[1] for i in unlabeled)
    assert s.history[-1].items == tuple(int(i) for i in unlabeled)  # one action
    assert plot.selection.size == 0
    ctl.undo()  # one undo reverts the whole batch
    assert s.n_labeled == before
    assert all(s.label_of(int(i)) is None for i in unlabeled)


def test_escape_cancels_preview_and_selection(qtbot, make_dock) -> None:
    dock, ctl = make_dock(text_workspace(500))
    dock.tabs.setCurrentWidget(dock.map)
    qtbot.waitUntil(lambda: dock.map.projection == "pca")
    plot = dock.map.plot
    plot.set_selection(np.arange(20))
    plot.setFocus()
    qtbot.keyClick(plot, class_key(1))
    assert "Label 20 items" in dock.map.info.text()
    qtbot.keyClick(plot, Qt.Key.Key_Escape)
    assert plot.selection.size == 20 and ctl.session.n_labeled == 0
    qtbot.keyClick(plot, Qt.Key.Key_Escape)
    assert plot.selection.size == 0
    qtbot.keyClick(plot, Qt.Key.Key_Return)  # nothing pending: nothing happens
    assert ctl.session.n_labeled == 0


def test_click_opens_item_and_hover_names_it(qtbot, make_dock) -> None:
    dock, _ = make_dock(text_workspace(2000))
    dock.tabs.setCurrentWidget(dock.map)
    qtbot.waitUntil(lambda: dock.map.projection == "pca")
    plot = dock.map.plot
    target = _clickable_item(dock)
    p = _map_points(dock, np.array([target]))[0]
    with qtbot.waitSignal(dock.open_item, timeout=2000) as blocker:
        qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=p)
    assert blocker.args == [target]
    html = plot.tooltip_for(target)
    assert f"#{target + 1}" in html and "synthetic text number" in html  # 1-based, as the header counts


def test_map_colours_and_overlays_follow_the_session(qtbot, make_dock) -> None:
    dock, ctl = make_dock(text_workspace(1000))
    dock.tabs.setCurrentWidget(dock.map)
    qtbot.waitUntil(lambda: dock.map.projection == "pca")
    plot = dock.map.plot
    assert plot.n_drawn() == 1000
    first = ctl.current
    for n in (1, 2, 3, 1, 2):
        ctl.label_current(ctl.session.classes[n - 1])
    qtbot.waitUntil(lambda: len(plot.trail.getData()[0]) == 5)
    assert plot.trail.getData()[0][0] == plot.pos[plot.row_of[first], 0]
    ctl.flush()
    qtbot.waitUntil(lambda: len(plot.cands.data) == len(ctl.cands))  # the markers follow once the keys pause
    dock.map.colour.setCurrentIndex(1)
    used = [layer for layer in plot.layers if len(layer.data)]
    assert 2 <= len(used) <= 3 * 5 + 1  # a few style layers, each with one shared brush
    assert plot.n_drawn() == 1000
    assert all(len({id(b) for b in layer.data["brush"]}) == 1 for layer in used)


def test_simulate_panel_runs_in_background_and_plots(qtbot, make_dock, tmp_path: Path) -> None:
    ws = text_workspace(300)
    rng = np.random.default_rng(0)
    ws.dataset.known_labels = [str(c) for c in rng.choice(["pos", "neg", "meh"], 300)]
    dock, _ = make_dock(ws)
    panel = dock.simulate
    assert panel.run_button.isEnabled()
    panel.folds.setValue(2)
    panel.budget.setValue(30)
    panel.run_button.click()
    qtbot.waitUntil(lambda: panel.plot.result is not None, timeout=60_000)
    res = panel.plot.result
    assert set(res["strategies"]) == {"eer", "random"}
    assert "whole pool" in panel.status.text()
    # Export both ways the context menu offers, and the CLI's PNG function.
    item = panel.plot.getPlotItem()
    pyqtgraph.exporters.ImageExporter(item).export(str(tmp_path / "sim.png"))
    pyqtgraph.exporters.SVGExporter(item).export(str(tmp_path / "sim.svg"))
    assert (tmp_path / "sim.png").stat().st_size > 5000 and "<svg" in (tmp_path / "sim.svg").read_text()
    out = export_curves_png(res, tmp_path / "cli.png")
    assert out.stat().st_size > 5000
    # The export entry is in the plot's right-click menu.
    assert any("Export" in a.text() for a in panel.plot.scene().contextMenu)


def test_simulate_disabled_without_known_labels_and_cancel(qtbot, make_dock) -> None:
    dock, _ = make_dock(text_workspace(200))
    assert not dock.simulate.run_button.isEnabled()
    assert "known" in dock.simulate.status.text()


@pytest.mark.slow
def test_umap_swaps_in_from_the_task_runner(qtbot, make_dock) -> None:
    dock, _ = make_dock(text_workspace(600))
    dock.tabs.setCurrentWidget(dock.map)
    qtbot.waitUntil(lambda: dock.map.projection == "pca")
    dock.map.start_umap()
    assert dock.map.projection == "pca"  # the GUI did not wait
    qtbot.waitUntil(lambda: dock.map.projection == "umap", timeout=300_000)
    assert np.isfinite(dock.map.plot.pos).all() and dock.map.plot.pos.shape == (600, 2)


def test_uniform_scatter_draws_the_same_pixels_as_pyqtgraph(qtbot) -> None:
    from aldesk.ui.plots.fast_scatter import UniformScatter

    pos = np.random.default_rng(0).random((5000, 2))
    images = []
    for cls in (pg.ScatterPlotItem, UniformScatter):
        w = pg.PlotWidget(background="w")
        qtbot.addWidget(w)
        item = cls(pen=None)
        w.addItem(item)
        w.resize(400, 300)
        w.show()
        qtbot.waitExposed(w)
        item.setData(x=pos[:, 0], y=pos[:, 1], brush=pg.mkBrush(30, 60, 200, 120), size=5)
        item.setData(x=pos[::2, 0], y=pos[::2, 1], brush=pg.mkBrush(200, 60, 30, 200), size=7)  # restyle
        images.append(w.grab().toImage())
    assert images[0] == images[1]


def test_dock_in_the_main_window_opens_clicked_items_and_owns_class_keys(qtbot, make_window) -> None:
    win = make_window()
    win.set_workspace(text_workspace(800))
    dock = wait_plots(qtbot, win)
    assert dock is not None and dock.isVisible()
    menus = {a.text().replace("&", ""): a.menu() for a in win.menuBar().actions()}
    assert dock.toggleViewAction() in menus["View"].actions()
    assert win.ctl.session.audit_every == dock.accuracy.audit_spin.value() == 10
    dock.map.auto_umap = False
    dock.tabs.setCurrentWidget(dock.map)
    qtbot.waitUntil(lambda: dock.map.projection == "pca")
    plot = dock.map.plot
    target = _clickable_item(dock)
    win.tabs.setCurrentIndex(1)
    p = _map_points(dock, np.array([target]))[0]
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=p)
    assert win.ctl.current == target and win.tabs.currentIndex() == 0
    # With items selected on the map, a class key labels the selection (after the preview), not the current item.
    sel = np.array([i for i in range(31) if i != target][:29])
    plot.set_selection(sel)
    plot.setFocus()
    qtbot.keyClick(plot, class_key(1))
    assert win.ctl.session.label_of(target) is None and win.ctl.session.n_labeled == 0
    qtbot.keyClick(plot, Qt.Key.Key_Return)
    assert win.ctl.session.n_labeled == 29
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.ctl.session.n_labeled == 0


def test_charts_redraw_once_after_a_burst_of_keys(qtbot, make_window) -> None:
    win = make_window()
    win.set_workspace(text_workspace(800), density=False)
    dock = wait_plots(qtbot, win)
    assert dock.isVisible() and dock.accuracy.isVisible()
    draws: list[int] = []
    real = dock.accuracy.plot.set_curves
    dock.accuracy.plot.set_curves = lambda *a: (draws.append(a[2]), real(*a))  # type: ignore[method-assign]
    for n in (1, 2, 3, 1, 2, 3):
        qtbot.keyClick(win, class_key(n))
    assert win.ctl.session.n_labeled == 6 and draws == []  # the keys did not pay for the chart
    qtbot.waitUntil(lambda: draws == [6])  # one redraw, after the burst
    qtbot.wait(300)
    assert draws == [6]


def test_dock_starts_at_a_quarter_and_keeps_the_users_size(qtbot, make_window) -> None:
    win = make_window()
    win.resize(1280, 800)
    win.set_workspace(text_workspace(300), density=False)
    wait_plots(qtbot, win)
    qtbot.waitUntil(lambda: win.plots.isVisible())
    qtbot.wait(50)
    share = win.plots.width() / win.width()
    assert 0.2 <= share <= 0.3, share
    assert win.label_view.width() > 1.5 * win.plots.width()  # the labeling view keeps most of the room
    # The user hides the dock (View > Plots): the next start keeps it hidden.
    win.plots.toggleViewAction().trigger()
    assert not win.plots.isVisible()
    win.close()
    win2 = make_window()
    win2.set_workspace(text_workspace(300), density=False)
    wait_plots(qtbot, win2)
    qtbot.wait(50)
    assert not win2.plots.isVisible()


def test_map_tooltip_uses_cached_thumbnails(qtbot, make_dock, tmp_path: Path) -> None:
    import base64

    from PySide6.QtGui import QColor, QImage
    from PySide6.QtWidgets import QToolTip

    n = 60
    for i in range(n):
        img = QImage(640, 480, QImage.Format.Format_RGB32)  # bigger than the tooltip: it must be scaled down
        img.fill(QColor(4 * i, 100, 200))
        assert img.save(str(tmp_path / f"img{i:02d}.png"))
    ds = Dataset("image", tmp_path, [f"img{i:02d}.png" for i in range(n)])
    dock, _ = make_dock(Workspace(ds, Session(clustered(n), ["a", "b"]), None, [], "images"))
    dock.tabs.setCurrentWidget(dock.map)
    qtbot.waitUntil(lambda: dock.map.projection == "pca")
    plot = dock.map.plot
    target = int(plot.items[0])
    first = dock.map.tooltip(target)
    assert "loading thumbnail" in first and "img00.png" not in first.split("<br>")[0]
    # The hovered item's tooltip is shown again once the loader has the thumbnail.
    plot.hovered = target
    plot._hover_global = plot.mapToGlobal(plot.rect().center())
    shown: list[str] = []
    real = plot.refresh_tooltip
    plot.refresh_tooltip = lambda: (shown.append(plot.tooltip_for(plot.hovered)), real())  # type: ignore[method-assign]
    qtbot.waitUntil(lambda: "data:image/png;base64," in dock.map.tooltip(target))
    html = dock.map.tooltip(target)
    b64 = html.split("data:image/png;base64,")[1].split('"')[0]
    thumb = QImage.fromData(base64.b64decode(b64))
    assert max(thumb.width(), thumb.height()) <= 112  # the thumbnail, not the 640 px file
    assert f"img{target:02d}.png" in html and f"#{target + 1}" in html
    # Re-shown with the thumbnail once it arrived (offscreen, the tooltip then hides: no cursor over the plot).
    assert len(shown) == 1 and "data:image/png" in shown[0] and "data:image/png" in QToolTip.text()
    QToolTip.hideText()
