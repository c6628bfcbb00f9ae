"""The grid expert of ``simulate --effort grid`` on the real window with real keys and clicks: a page of the
current candidates, every card showing its own prediction; a click on each wrong card deselects it, Enter gives
every selected card the class it shows (several classes), the clicked ones stay unlabeled, all logged with origin
"grid", and ONE Ctrl+Z undoes the whole page, in the session and in the project file (issue 13.7)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from aldesk.core.project import Project
from aldesk.ui.shell.keys import OTHER_KEYS
from tests.ui.helpers import class_key
from tests.ui.test_settings import _project_workspace


def test_candidates_page_click_the_wrong_ones_enter_accepts_the_rest_one_undo(
    qtbot, make_window, tmp_path: Path
) -> None:
    path = tmp_path / "p.aldesk"
    win = make_window()
    win.set_workspace(_project_workspace(path), density=False)
    s = win.ctl.session
    s.audit_every = 0
    for n in (1, 2, 3, 1, 2, 3, 1, 2, 3):
        qtbot.keyClick(win, class_key(n))
    win.ctl.flush()
    before = dict(s.labels)
    qtbot.keyClick(win, Qt.Key.Key_G)  # the grid tab opens on the candidates
    grid = win.grid
    grid.page_size.setValue(20)
    assert grid.mode == "candidates"
    view = grid.view
    page = view.grid_model.items()
    assert page == [c.index for c in s.candidates(20)] and len(page) == 20
    shown = {c.item: c.predicted for c in view.grid_model.cards}
    assert len(set(shown.values())) >= 2  # a page of mixed predictions: the case one class key cannot do
    assert view.selected_items() == page  # all selected
    wrong = [page[2], page[7]]  # the expert clicks the cards whose prediction is wrong
    for i in wrong:
        rect = view.visualRect(view.grid_model.index(page.index(i)))
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.selected_items() == [i for i in page if i not in wrong]
    n_history = len(s.history)
    qtbot.keyClick(view, Qt.Key.Key_Return)  # Enter: every selected card gets the class it shows
    accepted = [i for i in page if i not in wrong]
    assert all(s.label_of(i) == shown[i] for i in accepted)
    assert all(s.label_of(i) is None for i in wrong)  # the clicked ones stay in the pool
    new = s.history[n_history:]
    assert {a.cls for a in new} == {shown[i] for i in accepted} and len(new) >= 2  # a batch per class
    assert all(a.origin == "grid" for a in new) and len({a.group for a in new}) == 1
    assert sorted(i for a in new for i in a.items) == sorted(accepted)
    with Project.open(path, readonly=True) as p:  # committed, read by a second connection
        rows = {r.item: r for r in p.label_rows()}
    assert all(rows[i].origin == "grid" and rows[i].cls == shown[i] for i in accepted)
    assert "Ctrl+Z undoes the page" in grid.info.text()
    qtbot.keyClick(
        win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
    )  # ONE undo: every class of the page
    assert dict(s.labels) == before
    with Project.open(path, readonly=True) as p:
        assert {r.item for r in p.label_rows()} == set(before)
    qtbot.keyClick(
        win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )  # and one redo brings it all back
    assert all(s.label_of(i) == shown[i] for i in accepted)


def test_the_help_list_names_the_grid_keys() -> None:
    grid_rows = {k: what for k, what in OTHER_KEYS if what.startswith("Grid:")}
    assert "prediction it shows" in grid_rows["Enter"] and "deselect" in grid_rows["Space / click"]
