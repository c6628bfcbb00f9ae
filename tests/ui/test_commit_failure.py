"""A commit that fails in the window (the disk full) is shown at once, pauses labeling, and Retry saves the
very action that failed. The project lives on a real small tmpfs the test mounts; keys are real key presses.

A read-only remount cannot be tested this way: Linux refuses ``remount,ro`` while SQLite holds the file open
for writing ("mount point is busy"), so the read-only message is the core's (``_write_error``) to prove.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from aldesk.core.dataset import Dataset
from aldesk.core.embed import default_card
from aldesk.core.project import Project
from tests.tmpfs import mounted_tmpfs
from tests.ui.helpers import class_key, wait_open

N_TEXTS = 40


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MB tmpfs."""
    with mounted_tmpfs(tmp_path / "disk", "8m") as mnt:
        yield mnt


def _fill(folder: Path) -> Path:
    """Write a filler file until the file system has not one byte left."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 16, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError as exc:
                assert exc.errno == 28, exc  # ENOSPC, nothing else
    finally:
        os.close(fd)
    return filler


def _open_project(qtbot, make_window, tmp_path: Path, folder: Path):
    path = folder / "p.aldesk"
    texts = [
        f"review number {i}: " + ("a fine film, loved it" if i % 2 else "dull, a waste of time")
        for i in range(N_TEXTS)
    ]
    Project.create(
        path, Dataset("text", folder / "t.csv", texts), ["good", "bad"], model_id=default_card("text").id
    ).close()
    win = make_window()
    win.opener.cache_dir = tmp_path / "cache"  # off the small disk: only the project lives there
    win.open_path(path)
    wait_open(qtbot, win)
    return win, path


def _window_count(win) -> int:
    """The label count the window shows in its status bar."""
    m = re.match(r"([\d,]+) labeled", win.status_counts.text())
    assert m, win.status_counts.text()
    return int(m.group(1).replace(",", ""))


def _file_labels(path: Path) -> dict[int, str]:
    """What the project file holds, read by a second, read-only connection."""
    with Project.open(path, readonly=True) as p:
        return p.labels()


def _assert_paused(win, path: Path, saved: dict[int, str], cause: str) -> None:
    assert win.save_failed.isVisible() and cause in win.save_failed.label.text()
    assert "\n" not in win.save_failed.label.text() and "Traceback" not in win.save_failed.label.text()
    assert not win.tabs.isEnabled()  # the labeling view is visibly paused
    assert _window_count(win) == len(saved) == win.ctl.session.n_labeled
    assert win.ctl.session.labels == saved


def test_disk_full_shows_the_cause_pauses_keys_and_retry_saves(
    qtbot, make_window, tmp_path, small_disk
) -> None:
    win, path = _open_project(qtbot, make_window, tmp_path, small_disk)
    ctl = win.ctl
    for n in (1, 2, 1):  # labels that land while there is space
        qtbot.keyClick(win, class_key(n))
    assert _window_count(win) == 3 == len(_file_labels(path))
    assert not win.save_failed.isVisible()

    filler = _fill(small_disk)
    # SQLite may still reuse WAL space it holds: keep pressing until a commit really needs a new byte.
    for _ in range(20):
        shown = ctl.current
        qtbot.keyClick(win, class_key(2))
        if win.save_failed.isVisible():
            break
    assert win.save_failed.isVisible(), "a commit on a full disk never failed"
    failed_item = shown
    saved = _file_labels(path)
    assert failed_item not in saved and ctl.current == failed_item  # not shown as labeled, still on screen
    _assert_paused(win, path, saved, "full")

    # Further keys of every kind do not pretend: no label, skip, undo or move; the cause is shown again.
    for key in (class_key(1), class_key(2), Qt.Key.Key_Return, Qt.Key.Key_S, Qt.Key.Key_J):
        qtbot.keyClick(win, key)
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "full" in win.statusBar().currentMessage()
    assert _file_labels(path) == saved and ctl.current == failed_item
    assert not ctl.session.skipped.any()
    _assert_paused(win, path, saved, "full")

    # Retry while the disk is still full: it fails again, and says so.
    qtbot.mouseClick(win.save_failed.retry_button, Qt.MouseButton.LeftButton)
    _assert_paused(win, path, saved, "full")

    # Space freed: Retry saves exactly the action that failed, and labeling goes on.
    filler.unlink()
    qtbot.mouseClick(win.save_failed.retry_button, Qt.MouseButton.LeftButton)
    assert not win.save_failed.isVisible() and win.tabs.isEnabled()
    after = _file_labels(path)
    assert after == {**saved, failed_item: "bad"}
    assert _window_count(win) == len(after) and ctl.current != failed_item
    qtbot.keyClick(win, class_key(1))
    assert len(_file_labels(path)) == len(after) + 1 == _window_count(win)


def test_undo_on_a_full_disk_is_refused_and_retry_undoes_it(qtbot, make_window, tmp_path, small_disk) -> None:
    win, path = _open_project(qtbot, make_window, tmp_path, small_disk)
    ctl = win.ctl
    for n in (1, 2) * 6:
        qtbot.keyClick(win, class_key(n))
    assert len(_file_labels(path)) == 12
    filler = _fill(small_disk)
    for _ in range(12):  # undos may still fit in WAL space SQLite holds; one soon needs a new byte
        qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        if win.save_failed.isVisible():
            break
    assert win.save_failed.isVisible(), "an undo on a full disk never failed"
    saved = _file_labels(path)
    assert saved, "every undo succeeded: the test never saw a failed one"
    _assert_paused(win, path, saved, "full")
    last = ctl.session.history[-1]  # the action the failed undo meant to revert: still in force
    assert all(saved.get(i) == last.cls for i in last.items)
    filler.unlink()
    qtbot.mouseClick(win.save_failed.retry_button, Qt.MouseButton.LeftButton)
    assert not win.save_failed.isVisible()
    after = _file_labels(path)
    assert after == {i: c for i, c in saved.items() if i not in last.items}
    assert _window_count(win) == len(after) == ctl.session.n_labeled
    assert ctl.current == last.items[0]  # the undone item is shown again, as after any undo


def test_close_project_from_the_banner_keeps_what_was_saved(qtbot, make_window, tmp_path, small_disk) -> None:
    win, path = _open_project(qtbot, make_window, tmp_path, small_disk)
    qtbot.keyClick(win, class_key(1))
    filler = _fill(small_disk)
    for _ in range(20):
        qtbot.keyClick(win, class_key(2))
        if win.save_failed.isVisible():
            break
    assert win.save_failed.isVisible()
    saved = _file_labels(path)
    qtbot.mouseClick(win.save_failed.close_button, Qt.MouseButton.LeftButton)  # closing on a full disk works
    assert win.stack.currentWidget() is win.start_page and not win.save_failed.isVisible()
    filler.unlink()
    win.open_path(path)  # the lock was released: it reopens here with exactly what was saved
    wait_open(qtbot, win)
    assert win.ctl.session.labels == saved and _window_count(win) == len(saved)
