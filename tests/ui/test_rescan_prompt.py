"""The window and data that grows: the prompt when a project's CSV changed, File › Rescan, declining the prompt."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

import aldesk
from aldesk.cli import main
from aldesk.core.project import Project
from aldesk.ui.opening.rescan_prompt import TITLE
from tests.ui.helpers import class_key, wait_open

LINES = (
    (Path(aldesk.__file__).parent / "resources" / "demo" / "texts.csv")
    .read_text(encoding="utf-8")
    .splitlines()
)


def _prompt(qtbot) -> QMessageBox:
    def shown() -> list[QMessageBox]:
        return [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.isVisible() and w.windowTitle() == TITLE
        ]

    qtbot.waitUntil(lambda: bool(shown()), timeout=60_000)
    return shown()[0]


def _append(csv: Path, lo: int, hi: int) -> None:
    with csv.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(LINES[lo:hi]) + "\n")


def _items(win) -> int:
    return int(win.ctl.session.X.shape[0])


def test_changed_csv_prompt_rescan_menu_and_decline(qtbot, make_window, tmp_path: Path) -> None:
    csv, proj = tmp_path / "reviews.csv", tmp_path / "reviews.aldesk"
    csv.write_text("\n".join(LINES[:21]) + "\n", encoding="utf-8")
    assert main(["init", str(csv), "--project", str(proj)]) == 0
    win = make_window()
    win.open_path(proj)
    wait_open(qtbot, win)
    assert _items(win) == 20
    first = win.ctl.current
    qtbot.keyClick(win, class_key(1))  # a real key press: label the current item
    qtbot.waitUntil(lambda: win.ctl.session.labels.get(first) is not None)
    labels = dict(win.ctl.session.labels)
    history = [(a.op, a.items, a.cls) for a in win.ctl.session.history]
    win.close()

    _append(csv, 21, 26)  # 5 rows more, and the first row gone
    text = csv.read_text(encoding="utf-8").splitlines()
    csv.write_text("\n".join([text[0], *text[2:]]) + "\n", encoding="utf-8")
    win = make_window()
    win.open_path(proj)
    box = _prompt(qtbot)
    assert box.text() == "5 new items, 1 missing — add them?"
    qtbot.keyClick(box, Qt.Key.Key_Return)  # the default button: "Add them"
    wait_open(qtbot, win)
    assert _items(win) == 25
    assert dict(win.ctl.session.labels) == labels
    assert [(a.op, a.items, a.cls) for a in win.ctl.session.history] == history
    assert not win.ctl.session.eligible[0]  # the row that left the CSV is missing: never offered
    assert "Rescan: 5 new items, 1 missing" in win.statusBar().currentMessage()

    _append(csv, 26, 29)
    win.rescan_action.trigger()  # File › Rescan: no question, the user asked for it
    qtbot.waitUntil(lambda: win.ctl is not None and _items(win) == 28, timeout=60_000)
    assert dict(win.ctl.session.labels) == labels
    win.close()

    _append(csv, 29, 31)
    win = make_window()
    win.open_path(proj)
    box = _prompt(qtbot)
    assert box.text().startswith("2 new items")
    qtbot.keyClick(box, Qt.Key.Key_Escape)  # "Not now": the project opens as it was
    wait_open(qtbot, win)
    assert _items(win) == 28

    more = tmp_path / "more.csv"  # File › Add a source, with the path the dialog would give
    more.write_text("\n".join([LINES[0], *LINES[40:44]]) + "\n", encoding="utf-8")
    win.add_source(more)
    qtbot.waitUntil(lambda: win.ctl is not None and _items(win) == 32, timeout=60_000)
    assert "Added a source: 4 new items" in win.statusBar().currentMessage()
    assert dict(win.ctl.session.labels) == labels
    win.close()
    with Project.open(proj, readonly=True) as p:
        assert p.n_items == 32 and [a.op for a in p.actions()].count("rescan") == 3
        assert [s.root for s in p.sources()] == [csv, more]
