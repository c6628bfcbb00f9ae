"""Opening data: the set-up dialog, errors as messages, cancel and resume of the embedding, recent projects."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

import aldesk
from aldesk.ui.new_project_dialog import NewProjectDialog
from aldesk.ui.start_page import recent_projects
from tests.ui.helpers import wait_open

DEMO = Path(aldesk.__file__).parent / "resources" / "demo"


def _visible(kind: type) -> list:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]


def test_new_project_dialog_creates_the_project(qtbot, make_window, tmp_path: Path) -> None:
    csv = tmp_path / "reviews.csv"
    csv.write_text((DEMO / "texts.csv").read_text(encoding="utf-8"), encoding="utf-8")
    win = make_window()
    win.open_path(csv)
    qtbot.waitUntil(lambda: bool(_visible(NewProjectDialog)), timeout=60_000)
    dlg = _visible(NewProjectDialog)[0]
    assert dlg.chosen_project() == tmp_path / "reviews.aldesk"  # default: next to the data
    assert dlg.chosen_classes() == ["fresh", "rotten"]  # guessed from the label column
    dlg.classes.clear()
    qtbot.keyClicks(dlg.classes, "good, bad, meh")
    qtbot.keyClick(dlg.classes, Qt.Key.Key_Return)
    wait_open(qtbot, win)
    assert win.ctl.session.classes == ["good", "bad", "meh"]
    assert (tmp_path / "reviews.aldesk").exists()
    assert recent_projects()[0] == str(tmp_path / "reviews.aldesk")
    win.close()
    # Opening the same data again reopens its project: no dialog.
    win2 = make_window()
    win2.open_path(csv)
    wait_open(qtbot, win2)
    assert win2.ctl.session.classes == ["good", "bad", "meh"]


def test_unusable_data_is_a_message_not_a_traceback(qtbot, make_window, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    win = make_window()
    win.open_path(empty, classes=["a"])
    qtbot.waitUntil(lambda: bool(_visible(QMessageBox)), timeout=30_000)
    box = _visible(QMessageBox)[0]
    assert "Traceback" not in box.text() and box.text()
    assert box.detailedText() == ""  # a user error: no details to copy
    box.close()
    assert win.stack.currentWidget() is win.start_page


def test_cancel_embedding_then_resume(qtbot, make_window, tmp_path: Path) -> None:
    win = make_window()
    win.opener.cache_dir = tmp_path / "cache"  # nothing cached: the image model really runs
    win.open_path(DEMO / "images", tmp_path / "demo.aldesk", ["a", "b"])
    qtbot.waitUntil(lambda: win.progress_page.bar.value() > 0, timeout=120_000)
    qtbot.mouseClick(win.progress_page.cancel_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.progress_page.resume_btn.isVisible(), timeout=30_000)
    assert win.ctl is None
    qtbot.mouseClick(win.progress_page.resume_btn, Qt.MouseButton.LeftButton)
    wait_open(qtbot, win)
    assert len(win.ws.dataset) == win.ctl.session.n


def test_unreadable_items_are_listed_and_dismissable(qtbot, make_window, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "pics"
    folder.mkdir()
    for p in sorted((DEMO / "images" / "bag").iterdir())[:6]:
        shutil.copy(p, folder / p.name)
    (folder / "broken.png").write_bytes(b"not a png at all")
    win = make_window()
    win.open_path(folder, tmp_path / "pics.aldesk", ["bag", "other"])
    wait_open(qtbot, win)
    assert win.problems.isVisible()
    assert any("broken.png" in win.problems.list.item(i).text() for i in range(win.problems.list.count()))
    assert not win.ctl.session.eligible[win.ws.dataset.keys.index("broken.png")]
    dismiss = next(b for b in win.problems.findChildren(type(win.progress_page.cancel_btn)) if b.text() == "Dismiss")
    qtbot.mouseClick(dismiss, Qt.MouseButton.LeftButton)
    assert not win.problems.isVisible()
