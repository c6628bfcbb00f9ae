"""Opening data: the set-up dialog, errors as messages, cancel and resume of the embedding, recent projects."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

import aldesk
from aldesk.ui.opening.new_project_dialog import NewProjectDialog
from aldesk.ui.opening.start_page import recent_projects
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


def test_cancel_embedding_then_resume(qtbot, make_window, tmp_path: Path, monkeypatch) -> None:
    import aldesk.core.embed
    from aldesk.core.progress import Cancelled

    # The real embedder, parked after its first batch until Cancel has been clicked: the click then always lands
    # on a running embedding, however loaded the machine (waiting for the bar alone raced with the reading stage,
    # whose own progress fills the same bar, and with an embedding that had finished meanwhile).
    real = aldesk.core.embed.embed_dataset
    parked, release = threading.Event(), threading.Event()
    outcomes: list = []

    def embed_dataset(*args, progress, **kwargs):
        def progress_(fraction: float, message: str) -> None:
            progress(fraction, message)
            if fraction > 0 and not outcomes and not parked.is_set():
                parked.set()
                release.wait(120)

        try:
            result = real(*args, progress=progress_, **kwargs)
        except Cancelled:
            outcomes.append("cancelled")
            raise
        outcomes.append(result)
        return result

    monkeypatch.setattr(aldesk.core.embed, "embed_dataset", embed_dataset)
    win = make_window()
    win.opener.cache_dir = tmp_path / "cache"  # nothing cached: the image model really runs
    win.open_path(DEMO / "images", tmp_path / "demo.aldesk", ["a", "b"])
    try:
        qtbot.waitUntil(parked.is_set, timeout=120_000)
        qtbot.waitUntil(
            lambda: win.progress_page.bar.value() > 0, timeout=30_000
        )  # the user sees it progress
        assert "Embedding" in win.progress_page.title.text()
        qtbot.mouseClick(win.progress_page.cancel_btn, Qt.MouseButton.LeftButton)
        # Not before the worker has stopped: a resume now would run beside it and find nothing cached yet.
        assert not win.progress_page.resume_btn.isVisible()
    finally:
        release.set()
    qtbot.waitUntil(lambda: win.progress_page.resume_btn.isVisible(), timeout=60_000)
    assert outcomes == ["cancelled"]  # the embedding itself stopped, mid-way
    assert win.ctl is None
    qtbot.mouseClick(win.progress_page.resume_btn, Qt.MouseButton.LeftButton)
    wait_open(qtbot, win)
    assert len(win.ws.dataset) == win.ctl.session.n
    resumed = outcomes[1]
    # It resumed: what ran before the cancel came from the cache, only the rest ran through the model.
    assert resumed.n_cached > 0 and resumed.n_computed > 0
    assert resumed.n_cached + resumed.n_computed + len(resumed.failed) <= len(win.ws.dataset)


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
    dismiss = next(
        b for b in win.problems.findChildren(type(win.progress_page.cancel_btn)) if b.text() == "Dismiss"
    )
    qtbot.mouseClick(dismiss, Qt.MouseButton.LeftButton)
    assert not win.problems.isVisible()


def test_project_open_in_another_process_is_a_message(qtbot, make_window, tmp_path: Path) -> None:
    from aldesk.core.dataset import Dataset
    from aldesk.core.embed import default_card
    from aldesk.core.project import Project
    from tests.core import lock_holder

    path = tmp_path / "busy.aldesk"
    ds = Dataset("text", tmp_path / "t.csv", [f"a short text, number {i}" for i in range(12)])
    Project.create(path, ds, ["a", "b"], model_id=default_card("text").id).close()
    holder = lock_holder.start(path)  # another aldesk, labeling in this project
    try:
        win = make_window()
        win.opener.cache_dir = tmp_path / "cache"
        win.open_path(path)
        qtbot.waitUntil(lambda: bool(_visible(QMessageBox)), timeout=30_000)
        box = _visible(QMessageBox)[0]
        assert str(path) in box.text() and "open in another aldesk window" in box.text()
        assert f"process {holder.pid}" in box.text() and "Traceback" not in box.text()
        assert box.detailedText() == ""  # a user error: nothing to copy
        box.close()
        assert win.stack.currentWidget() is win.start_page
        assert lock_holder.command(holder, "label 0 a") == "OK"  # the first aldesk goes on, untouched
        assert lock_holder.command(holder, "close") == "CLOSED"
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.communicate()
    # Closed there: it opens here, with the label made there.
    win.open_path(path)
    wait_open(qtbot, win)
    assert win.ctl.session.labels == {0: "a"}
