"""First-run hints overlay: shown once per project, dismissed by Esc / Enter / click / any key, never eats a label."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLabel

from aldesk.ui.labeling.controller import Workspace
from tests.ui.helpers import class_key, text_workspace


class FakeProject:
    """Just the project surface the window uses (settings, path, close)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.settings: dict = {}

    def get_setting(self, key: str, default=None):
        return self.settings.get(key, default)

    def set_setting(self, key: str, value) -> None:
        self.settings[key] = value

    def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def _hints_on() -> None:
    QSettings().remove("hints/never")  # conftest turns them off for every other test


def _open(win, qtbot, ws: Workspace) -> None:
    win.set_workspace(ws, density=False)
    qtbot.waitUntil(lambda: win.hints is not None and win.hints.isVisible())


def test_any_class_key_dismisses_and_labels(qtbot, make_window) -> None:
    win = make_window()
    _open(win, qtbot, text_workspace())
    overlay = win.hints
    text = " ".join(lab.text() for lab in overlay.findChildren(QLabel))
    assert "U·I·D" in text and "audit" in text and "Ctrl+Z" in text and "Space / S" in text
    # The k-NN density arriving in the background (it refreshes the status) leaves the hints up.
    win.ctl.set_density(np.ones(win.ctl.session.n, np.float32))
    qtbot.wait(20)
    assert win.hints is overlay and overlay.isVisible()
    first = win.ctl.current
    qtbot.keyClick(win, class_key(1))
    assert win.hints is None and not overlay.isVisible()
    assert win.ctl.session.label_of(first) == "pos"  # the key did its usual job
    qtbot.keyClick(win, class_key(2))
    assert win.ctl.session.n_labeled == 2


@pytest.mark.parametrize("key", [Qt.Key.Key_Escape, Qt.Key.Key_Return])
def test_esc_and_enter_only_dismiss(qtbot, make_window, key) -> None:
    win = make_window()
    ws = text_workspace()
    for i in range(6):  # a few labels: Enter would accept a suggestion if it reached the shortcut
        ws.session.label(i, ("pos", "neg", "meh")[i % 3])
    _open(win, qtbot, ws)
    first = win.ctl.current
    qtbot.keyClick(win, key)
    assert win.hints is None
    assert win.ctl.session.n_labeled == 6 and win.ctl.current == first
    qtbot.keyClick(win, Qt.Key.Key_Return)  # now Enter accepts, as usual
    assert win.ctl.session.n_labeled == 7 and win.ctl.session.label_of(first) is not None
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.ctl.session.n_labeled == 6


def test_click_dismisses_and_project_remembers(qtbot, make_window, tmp_path) -> None:
    win = make_window()
    project = FakeProject(tmp_path / "p.aldesk")
    ws = text_workspace()
    ws.project = project
    _open(win, qtbot, ws)
    overlay = win.hints
    assert overlay.geometry() == win.label_view.rect()  # covers the labeling view
    qtbot.mouseClick(
        overlay, Qt.MouseButton.LeftButton, pos=overlay.rect().topLeft() + overlay.rect().center() / 8
    )
    assert win.hints is None and win.ctl.session.n_labeled == 0
    assert project.settings["ui/hints_seen"] is True
    # The same project again: no overlay; a new project still gets it.
    ws2 = text_workspace()
    ws2.project = project
    win.set_workspace(ws2, density=False)
    qtbot.wait(50)
    assert win.hints is None
    _open(win, qtbot, text_workspace())
    qtbot.keyClick(win, Qt.Key.Key_Escape)
    assert win.hints is None


def test_dont_show_again(qtbot, make_window) -> None:
    win = make_window()
    _open(win, qtbot, text_workspace())
    qtbot.mouseClick(win.hints.never_button, Qt.MouseButton.LeftButton)
    assert win.hints is None
    assert str(QSettings().value("hints/never")).lower() == "true"
    win.set_workspace(text_workspace(), density=False)
    qtbot.wait(50)
    assert win.hints is None
    # Help menu brings it back on demand; a skip key dismisses it and skips.
    win.show_hints()
    assert win.hints is not None and win.hints.isVisible()
    first = win.ctl.current
    qtbot.keyClick(win, Qt.Key.Key_Space)
    assert win.hints is None and win.ctl.session.skipped[first]
