"""The label-quality features in the real window: the review queue on keys (K keeps, class keys relabel, logged
and undoable), the stopping line in the Accuracy tab, and File › Compare with…"""

from __future__ import annotations

from PySide6.QtCore import Qt

from aldesk.core.dataset import Dataset
from aldesk.core.labeling.actions import Action
from aldesk.core.project import Project
from tests.ui.helpers import class_key, text_workspace, wait_open, wait_plots


def _open_demo_with_labels(qtbot, win, n: int = 90, wrong: int = 3) -> list[int]:
    """The image demo with ``n`` true labels, ``wrong`` of them planted as another class; the planted items."""
    win.open_demo("images")
    wait_open(qtbot, win)
    ctl = win.ctl
    s, ds = ctl.session, ctl.ws.dataset
    planted = []
    for i in range(0, 3 * n, 3):
        true = ds.known_labels[i]
        if len(planted) < wrong and true in ("bag", "trouser", "sandal"):
            s.label(i, {"bag": "trouser", "trouser": "sandal", "sandal": "bag"}[true])
            planted.append(i)
        else:
            s.label(i, true)
    ctl.labels_changed.emit()
    return planted


def _review(qtbot, win):
    """Review › Review suspicious labels (its shortcut), and wait for the freshly computed queue on its tab."""
    old = getattr(win.quality.review_view, "queue", None)
    qtbot.keyClick(win, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(
        lambda: (
            win.quality.review_view is not None
            and win.quality.review_view.queue is not old
            and win.tabs.currentWidget() is win.quality.review_view
        )
    )
    return win.quality.review_view


def test_review_queue_keeps_and_relabels_on_keys_logged_and_undoable(qtbot, make_window) -> None:
    win = make_window()
    planted = _open_demo_with_labels(qtbot, win)
    ctl, s = win.ctl, win.ctl.session
    view = _review(qtbot, win)
    assert len(view.queue) > 0 and set(planted) & {q.index for q in view.queue}
    assert "Review 1 of" in view.header.text() and "K</b> keep" in view.keys.text()
    first = view.current()
    qtbot.keyClick(view, Qt.Key.Key_K)  # keep
    assert s.history[-1].op == "keep" and s.history[-1].items == (first.index,)
    assert s.label_of(first.index) == first.given  # the label stayed
    second = view.current()
    assert second is not None and second.index != first.index
    target = next(n for n, c in enumerate(s.classes, start=1) if c != second.given)
    qtbot.keyClick(view, class_key(target))  # relabel with a class key
    assert s.label_of(second.index) == s.classes[target - 1]
    assert (s.history[-1].op, s.history[-1].origin) == ("label", "review")
    # Both are in the file, and the queue asks about neither again.
    with Project.open(win.ws.project.path, readonly=True) as p:
        assert [(a.op, a.origin) for a in p.actions()[-2:]] == [("keep", "review"), ("label", "review")]
        assert {r.item: r.origin for r in p.label_rows()}[second.index] == "review"
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert win.tabs.currentIndex() == 0
    view = _review(qtbot, win)
    assert not {first.index, second.index} & {q.index for q in view.queue}
    # Ctrl+Z (the window's Undo) reverts the relabel, then the keep: both are asked again.
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.label_of(second.index) == second.given
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not [a for a in s.history if a.op == "keep"]
    view = _review(qtbot, win)
    assert {first.index, second.index} <= {q.index for q in view.queue}
    assert ctl.failure is None


def test_stopping_line_in_the_accuracy_tab_wraps_and_does_not_widen_the_window(qtbot, make_window) -> None:
    win = make_window()
    win.resize(900, 700)
    ws = text_workspace(600)
    win.set_workspace(ws)
    plots = wait_plots(qtbot, win)
    plots.tabs.setCurrentWidget(plots.accuracy)
    width = win.width()
    line = plots.accuracy.stopping
    plots.accuracy.flush()
    assert "from 100 labels on" in line.text()
    s = ws.session
    for i in range(160):
        s.label(i, s.classes[i % 3])
    win.ctl.labels_changed.emit()
    plots.accuracy.flush()
    text = line.text()
    assert text.startswith(("The model has stopped changing", "Still changing")), text
    assert "the last 50 labels changed" in text
    assert line.wordWrap()
    qtbot.wait(50)
    assert win.width() == width  # a long sentence wraps; it never widens the window


def test_compare_with_another_project_shows_kappa_classes_and_the_disagreements(
    qtbot, make_window, tmp_path
) -> None:
    win = make_window()
    _open_demo_with_labels(qtbot, win, n=60, wrong=0)
    s = win.ctl.session
    mine = s.labels
    ds = win.ws.project.dataset()
    other = tmp_path / "second.aldesk"
    b = Project.create(other, Dataset("image", ds.root, ds.keys), s.classes, model_id=win.ws.project.model_id)
    theirs = dict(mine)
    changed = sorted(mine)[:5]
    for i in changed:
        theirs[i] = next(c for c in s.classes if c != mine[i])
    acts = []
    for c in s.classes:
        items = tuple(i for i, lab in theirs.items() if lab == c)
        if items:
            acts.append(Action("label", items, c, (None,) * len(items), "user", seq=len(acts)))
    b.journal_many(acts)
    b.close()
    before = other.read_bytes()
    win.quality.compare_with(other)
    qtbot.waitUntil(lambda: win.quality.compare_dialog is not None and win.quality.compare_dialog.isVisible())
    dlg = win.quality.compare_dialog
    assert "Cohen's kappa: 0.9" in dlg.summary.text()
    assert dlg.queue.rowCount() == 5 and dlg.classes.rowCount() == len(s.classes)
    assert other.read_bytes() == before
    # Double-click a disagreement: the labeling view shows that item.
    qtbot.waitExposed(dlg)
    got = []
    dlg.open_item.connect(got.append)
    row = 2
    rect = dlg.queue.visualItemRect(dlg.queue.item(row, 0))
    # A press first: Qt's item views act on a double-click only on the item the press went to (as a user's does).
    qtbot.mouseClick(dlg.queue.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(dlg.queue.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert got == [dlg.cmp.disagreements[row].a], (got, rect)
    assert win.tabs.currentIndex() == 0 and win.ctl.current == dlg.cmp.disagreements[row].a
    # Enter on a selected row does the same.
    dlg.queue.setCurrentCell(4, 0)
    qtbot.keyClick(dlg.queue, Qt.Key.Key_Return)
    assert win.ctl.current == dlg.cmp.disagreements[4].a
    dlg.close()
