"""The grid on the real window with real keys: a page of 20 predicted items confirmed by one key and undone by one
Ctrl+Z, Space deselects, Enter accepts the shown predictions, M shows the nearest unlabeled items, a click toggles;
the labels are logged with origin "grid" in the project file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from aldesk.core.exchange.export import export_project
from aldesk.core.labeling import views
from aldesk.core.project import Project
from tests.ui.helpers import class_key, text_workspace
from tests.ui.test_settings import _project_workspace


def _seed_labels(qtbot, win) -> None:
    for n in (1, 2, 3, 1, 2, 3, 1, 2, 3):
        qtbot.keyClick(win, class_key(n))
    win.ctl.flush()


def test_a_page_of_20_confirmed_by_one_key_and_undone_by_one_ctrl_z(
    qtbot, make_window, tmp_path: Path
) -> None:
    path = tmp_path / "p.aldesk"
    win = make_window()
    win.set_workspace(_project_workspace(path), density=False)
    win.ctl.session.audit_every = 0
    _seed_labels(qtbot, win)
    s = win.ctl.session
    before = dict(s.labels)
    qtbot.keyClick(win, Qt.Key.Key_G)  # the grid tab, with the candidates
    grid = win.grid
    assert win.tabs.currentWidget() is grid and grid.mode == "candidates"
    assert grid.view.grid_model.items() == [c.index for c in s.candidates(grid.page_size.value())]
    grid.page_size.setValue(20)
    grid.show_predicted("neg")
    expected, _ = views.predicted_as(s, "neg", n=20)
    page = grid.view.grid_model.items()
    assert page == expected.tolist() and len(page) == 20
    assert grid.view.selected_items() == page  # a new page is all selected
    qtbot.keyClick(grid.view, Qt.Key.Key_Return)  # Enter: accept the shown predictions (all "neg" here)
    assert all(s.label_of(i) == "neg" for i in page)
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one undo: the whole page
    assert dict(s.labels) == before
    grid.refresh()
    page = grid.view.grid_model.items()
    qtbot.keyClick(grid.view, class_key(3))  # one class key labels the 20 as one batch
    assert all(s.label_of(i) == "meh" for i in page) and len(page) == 20
    with Project.open(path, readonly=True) as p:  # what was committed, read by a second connection
        rows = {r.item: r for r in p.label_rows()}
    assert all(rows[i].origin == "grid" and rows[i].cls == "meh" for i in page)
    assert s.history[-1].items == tuple(page) and s.history[-1].origin == "grid"
    out = tmp_path / "labels.jsonl"  # the export keeps the origin
    with Project.open(path, readonly=True) as p:
        export_project(p, "jsonl", out)
    exported = {r["item"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    keys = win.ctl.ws.dataset.keys
    assert all(exported[keys[i]]["origin"] == "grid" for i in page)
    assert all(exported[keys[i]]["origin"] == "user" for i in before)
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert dict(s.labels) == before
    with Project.open(path, readonly=True) as p:
        assert {r.item for r in p.label_rows()} == set(before)


def test_space_deselects_arrows_move_and_a_click_toggles(qtbot, make_window) -> None:
    win = make_window()
    win.set_workspace(text_workspace(), density=False)
    _seed_labels(qtbot, win)
    s = win.ctl.session
    qtbot.keyClick(win, Qt.Key.Key_G)
    grid = win.grid
    grid.page_size.setValue(20)
    grid.show_predicted("pos")
    page = grid.view.grid_model.items()
    assert len(page) == 20
    qtbot.keyClick(grid.view, Qt.Key.Key_Space)  # the focused (first) item: off
    qtbot.keyClick(grid.view, Qt.Key.Key_Right)  # moves the focus, the selection stays
    qtbot.keyClick(grid.view, Qt.Key.Key_Right)
    qtbot.keyClick(grid.view, Qt.Key.Key_Space)  # the third: off
    assert grid.view.selected_items() == [page[1], *page[3:]]
    view = grid.view
    rect = view.visualRect(view.grid_model.index(5))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # the sixth: off
    assert page[5] not in view.selected_items() and len(view.selected_items()) == 17
    qtbot.keyClick(grid.view, class_key(2))
    assert [i for i in page if s.label_of(i) == "neg"] == [page[1], page[3], page[4], *page[6:]]
    assert all(s.label_of(i) is None for i in (page[0], page[2], page[5]))
    # The query ran again: the page is the next 20 predicted as "pos", the labeled ones gone.
    assert grid.view.grid_model.items() == views.predicted_as(s, "pos", n=20)[0].tolist()
    assert page[0] in grid.view.grid_model.items() or s.predict(page[0]).predicted != "pos"


def test_m_shows_the_nearest_unlabeled_items_of_the_current_item(qtbot, make_window) -> None:
    win = make_window()
    win.set_workspace(text_workspace(), density=False)
    _seed_labels(qtbot, win)
    cur = win.ctl.current
    qtbot.keyClick(win, Qt.Key.Key_M)
    grid = win.grid
    assert win.tabs.currentWidget() is grid and grid.mode == "similar" and grid.anchor == cur
    s = win.ctl.session
    pool = np.flatnonzero(s.pool_mask())
    pool = pool[pool != cur]
    brute = pool[np.argsort(-(s.X[pool] @ s.X[cur]), kind="stable")][: grid.page_size.value()]
    assert grid.view.grid_model.items() == brute.tolist()
    # M inside the grid: more like the focused item.
    qtbot.keyClick(grid.view, Qt.Key.Key_Right)
    focused = grid.view.grid_model.cards[grid.view.currentIndex().row()].item
    qtbot.keyClick(grid.view, Qt.Key.Key_M)
    assert grid.anchor == focused and focused not in grid.view.grid_model.items()
    qtbot.keyClick(grid.view, Qt.Key.Key_Escape)  # back to the labeling view
    assert win.tabs.currentIndex() == 0


TEXTS = [
    "The chef cooked a delicious pasta dinner with fresh tomatoes.",
    "Our soccer team won the championship final last night.",
    "The stock market fell sharply after the interest rate decision.",
    "A kitten slept all afternoon on the warm windowsill.",
    "Heavy rain and strong winds are expected over the weekend.",
    "The orchestra played a beautiful symphony to a full hall.",
]


def test_typed_search_ranks_texts_by_meaning_and_substring_stays(qtbot, make_window, tmp_path: Path) -> None:
    from aldesk.core.dataset import Dataset
    from aldesk.core.embed import embed_dataset
    from aldesk.core.labeling.session import Session
    from aldesk.ui.labeling.controller import Workspace

    ds = Dataset("text", tmp_path / "t.csv", TEXTS)
    X = embed_dataset(ds, cache_dir=tmp_path / "cache").vectors  # the bundled text model, real inference
    win = make_window()
    win.set_workspace(Workspace(ds, Session(X, ["a", "b"]), None, [], "texts"), density=False)
    win.tabs.setCurrentWidget(win.grid)
    grid = win.grid
    assert grid.by_meaning.isChecked() and "meaning" in grid.search.toolTip()
    qtbot.keyClicks(grid.search, "a cute cat napping")
    qtbot.keyClick(grid.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: grid.mode == "search", timeout=60_000)
    assert grid.view.grid_model.items()[0] == 3
    assert grid.view.grid_model.cards[0].score == max(c.score for c in grid.view.grid_model.cards)
    grid.search.clear()
    qtbot.keyClicks(grid.search, "football match result")
    qtbot.keyClick(grid.search, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: grid.query_vec is not None and grid.view.grid_model.items()[0] == 1, timeout=60_000
    )
    grid.by_meaning.setChecked(False)  # substring search stays
    grid.search.clear()
    qtbot.keyClicks(grid.search, "the S")
    qtbot.keyClick(grid.search, Qt.Key.Key_Return)
    assert grid.query_vec is None and grid.view.grid_model.items() == [
        2
    ]  # "The stock market", whatever the case


def test_images_say_there_is_no_text_tower(qtbot, make_window) -> None:
    from aldesk.core.dataset import Dataset
    from aldesk.core.labeling.session import Session
    from aldesk.ui.labeling.controller import Workspace
    from tests.ui.helpers import clustered

    keys = [f"cat/{i}.png" if i % 2 else f"dog/{i}.png" for i in range(40)]
    ds = Dataset("image", Path("/nonexistent-root"), keys)
    win = make_window()
    win.set_workspace(Workspace(ds, Session(clustered(40), ["cat", "dog"]), None, [], "imgs"), density=False)
    grid = win.grid
    assert not grid.by_meaning.isEnabled() and "no text encoder" in grid.search.toolTip()
    grid.search.setText("cat/")
    grid.run_search()
    assert grid.view.grid_model.items() == [i for i in range(40) if i % 2][: grid.page_size.value()]


def test_a_hidden_grid_runs_no_query_on_a_key_and_catches_up_when_shown(qtbot, make_window) -> None:
    win = make_window()
    win.set_workspace(text_workspace(), density=False)
    grid = win.grid
    calls: list[int] = []
    real = grid.results
    grid.results = lambda n: (calls.append(n), real(n))[1]  # type: ignore[method-assign]
    _seed_labels(qtbot, win)
    qtbot.wait(50)
    assert calls == []  # nine keys in the Label tab: the hidden grid did nothing
    win.tabs.setCurrentWidget(grid)
    assert calls and grid.view.grid_model.items() == [c.index for c in win.ctl.session.candidates(20)]


def test_a_page_labeled_in_the_grid_is_queried_once(qtbot, make_window) -> None:
    win = make_window()
    win.set_workspace(text_workspace(), density=False)
    _seed_labels(qtbot, win)
    qtbot.keyClick(win, Qt.Key.Key_G)
    grid = win.grid
    grid.show_predicted("pos")
    calls: list[int] = []
    real = grid.results
    grid.results = lambda n: (calls.append(n), real(n))[1]  # type: ignore[method-assign]
    qtbot.keyClick(grid.view, class_key(1))
    qtbot.wait(100)  # the event loop turns: a second, redundant refresh would run here
    assert len(calls) == 1


def test_shift_digits_label_a_grid_page_with_classes_11_to_30(qtbot, make_window) -> None:
    """The grid takes the same class keys as the labeling view: Shift+1 is class 11 (also when the key arrives as
    "!", as on a US layout), Shift+Alt+2 class 22; Ctrl+digit is no class key."""
    classes = tuple(f"c{n:02d}" for n in range(1, 23))
    win = make_window()
    win.set_workspace(text_workspace(classes=classes), density=False)
    _seed_labels(qtbot, win)
    s = win.ctl.session
    qtbot.keyClick(win, Qt.Key.Key_G)
    grid = win.grid
    grid.page_size.setValue(5)
    grid.refresh()
    page = grid.view.grid_model.items()
    qtbot.keyClick(grid.view, Qt.Key.Key_Exclam, Qt.KeyboardModifier.ShiftModifier)
    assert all(s.label_of(i) == "c11" for i in page) and len(page) == 5
    grid.refresh()
    page = grid.view.grid_model.items()
    qtbot.keyClick(
        grid.view, Qt.Key.Key_2, Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.AltModifier
    )
    assert all(s.label_of(i) == "c22" for i in page)
    grid.refresh()
    page = grid.view.grid_model.items()
    qtbot.keyClick(grid.view, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert all(s.label_of(i) is None for i in page)
