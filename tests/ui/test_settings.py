"""Settings dialog: query strategy (typed products validated), k (rebuilds the session), audit m, per project."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from aldesk.core.dataset import Dataset
from aldesk.core.project import Project
from aldesk.ui.labeling.controller import Workspace
from aldesk.ui.opening.opening import session_settings
from aldesk.ui.settings.settings_dialog import SettingsDialog
from tests.ui.helpers import class_key, clustered, wait_plots

N = 400


def _project_workspace(path: Path) -> Workspace:
    X = clustered(N)
    ds = Dataset("text", path.with_suffix(".csv"), [f"synthetic text number {i}" for i in range(N)])
    if path.exists():
        p = Project.open(path)
    else:
        p = Project.create(path, ds, ["pos", "neg", "meh"], model_id="synthetic")
    session = p.open_session(X, **session_settings(p))
    return Workspace(ds, session, p, [], path.name)


def _dialog(win) -> SettingsDialog:
    win.ask_settings()
    dlg = win.findChild(SettingsDialog, "settings_dialog")
    assert dlg is not None and dlg.isVisible()
    return dlg


def _ok(qtbot, dlg: SettingsDialog) -> None:
    qtbot.mouseClick(
        dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton
    )


def test_strategy_k_and_audit_apply_and_persist(qtbot, make_window, tmp_path) -> None:
    path = tmp_path / "p.aldesk"
    win = make_window()
    win.set_workspace(_project_workspace(path), density=False)
    for n in (1, 2, 3, 1):
        qtbot.keyClick(win, class_key(n))
    assert win.ctl.session.n_labeled == 4

    dlg = _dialog(win)
    assert dlg.strategy.currentText() == "eer" and dlg.k.value() == 10
    dlg.strategy.setEditText("entropy*bogus")
    _ok(qtbot, dlg)
    assert dlg.isVisible() and "bogus" in dlg.error.text()  # parse_strategy's message, the dialog stays open
    dlg.strategy.setEditText("entropy*knn_density*diversity")
    dlg.k.setValue(5)
    dlg.audit.setValue(7)
    _ok(qtbot, dlg)
    qtbot.waitUntil(lambda: not dlg.isVisible())
    s = win.ctl.session
    assert s.strategy.name == "entropy*knn_density*diversity" and s.knn.k == 5 and s.audit_every == 7
    assert s.n_labeled == 4  # the rebuilt session has every label back
    assert "entropy*knn_density*diversity" in win.status_state.text()
    # Keys go on as before, and undo reaches labels made before the rebuild.
    qtbot.keyClick(win, class_key(2))
    assert win.ctl.session.n_labeled == 5
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.ctl.session.n_labeled == 3
    assert wait_plots(qtbot, win).accuracy.audit_spin.value() == 7  # the dock shows the project's m
    win.close()

    # Reopened: the project's settings are back.
    win2 = make_window()
    win2.set_workspace(_project_workspace(path), density=False)
    s = win2.ctl.session
    assert s.strategy.name == "entropy*knn_density*diversity" and s.knn.k == 5 and s.audit_every == 7
    assert s.n_labeled == 3


def test_random_strategy_and_no_k_without_project(qtbot, make_window) -> None:
    from tests.ui.helpers import text_workspace

    win = make_window()
    win.set_workspace(text_workspace(), density=False)
    dlg = _dialog(win)
    assert not dlg.k.isEnabled()  # k needs a project to rebuild the session from
    dlg.strategy.setCurrentIndex(dlg.strategy.findData("random"))
    dlg.strategy.activated.emit(dlg.strategy.currentIndex())
    _ok(qtbot, dlg)
    assert win.ctl.session.strategy.name == "random"
    qtbot.keyClick(win, class_key(1))
    assert win.ctl.session.n_labeled == 1
