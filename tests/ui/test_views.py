"""Keys, why panel, browse and fix, CLI wiring — on synthetic workspaces (no model needed)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings, Qt

from aldesk.cli import build_parser
from aldesk.ui.opening.new_project_dialog import parse_classes
from tests.ui.helpers import class_key, text_workspace, wait_plots


def test_keys_move_skip_accept(qtbot, make_window) -> None:
    win = make_window()
    win.set_workspace(text_workspace())
    ctl = win.ctl
    first = ctl.current
    qtbot.keyClick(win, Qt.Key.Key_J)
    assert ctl.current != first and ctl.position() == 1
    qtbot.keyClick(win, Qt.Key.Key_K)
    assert ctl.current == first
    qtbot.keyClick(win, Qt.Key.Key_Right)
    qtbot.keyClick(win, Qt.Key.Key_Left)
    assert ctl.current == first
    qtbot.keyClick(win, Qt.Key.Key_S)
    assert ctl.session.skipped[first] and ctl.current != first
    for n in (1, 2, 3, 1, 2, 3):
        qtbot.keyClick(win, class_key(n))
    item = ctl.current
    qtbot.keyClick(win, Qt.Key.Key_Return)
    assert ctl.session.label_of(item) is not None  # accepted the suggestion
    assert ctl.session.n_labeled == 7
    # A number with no class behind it labels nothing and says so.
    qtbot.keyClick(win, class_key(9))
    assert ctl.session.n_labeled == 7
    assert "no class 9" in win.statusBar().currentMessage()


def test_why_panel_neighbour_click_jumps(qtbot, make_window) -> None:
    win = make_window()
    win.set_workspace(text_workspace())
    for n in (1, 2, 3, 1):
        qtbot.keyClick(win, class_key(n))
    nb = win.why.neighbours
    qtbot.waitUntil(lambda: nb.count() >= 1)  # the panel refreshes right after the key's own work
    target = nb.item(0).data(Qt.ItemDataRole.UserRole)
    rect = nb.visualItemRect(nb.item(0))
    qtbot.mouseClick(nb.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert win.ctl.current == target
    assert win.why.predicted.text()
    assert all(bar.isVisible() for _, bar in win.why.bars[:3])


def test_browse_filters_and_relabel_at_100k(qtbot, make_window) -> None:
    win = make_window()
    # No background density here: at 100k it is pynndescent, whose build cannot be interrupted.
    win.set_workspace(text_workspace(100_000), density=False)
    for n in (1, 2, 3, 1, 2):
        qtbot.keyClick(win, class_key(n))
    win.ctl.flush()
    win.tabs.setCurrentIndex(1)
    b = win.browse
    assert b.model.rowCount() == 100_000
    b.set_filter("labeled")
    assert b.model.rowCount() == 5
    b.set_filter("unlabeled", "number 4242")
    assert b.model.rowCount() >= 1
    b.set_filter("label:pos")
    assert b.model.rowCount() == 2
    b.table.selectRow(0)
    item = b.selected_items()[0]
    b.target.setCurrentText("neg")
    b.apply.click()
    assert win.ctl.session.label_of(item) == "neg"
    b.set_filter("label:pos")
    assert b.model.rowCount() == 1
    b.set_filter("disagree")
    pred, _ = win.ctl.session.predictions()
    lab = win.ctl.session.knn.label
    assert b.model.rowCount() == int(((lab >= 0) & (pred >= 0) & (pred != lab)).sum())
    # Undo works from the browse tab too.
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.ctl.session.label_of(item) == "pos"
    # Labeling keys do not fire from the browse tab.
    n = win.ctl.session.n_labeled
    qtbot.keyClick(win, class_key(1))
    assert win.ctl.session.n_labeled == n


def test_configured_keys_are_used_and_shown(qtbot, make_window) -> None:
    QSettings().setValue("keys/skip", "X")
    win = make_window()
    win.set_workspace(text_workspace())
    first = win.ctl.current
    qtbot.keyClick(win, Qt.Key.Key_X)
    assert win.ctl.session.skipped[first]
    qtbot.keyClick(win, Qt.Key.Key_Space)  # no longer bound
    assert int(np.sum(win.ctl.session.skipped)) == 1
    assert "<b>X</b> skip" in win.label_view.hints.text()


def test_cli_parses_open_and_demo() -> None:
    p = build_parser()
    a = p.parse_args(["open", "photos", "--classes", "cat, dog,cat", "--project", "x.aldesk"])
    assert a.func.__name__ == "cmd_open" and a.project == "x.aldesk"
    assert parse_classes(a.classes) == ["cat", "dog"]
    assert p.parse_args(["demo"]).which == "images"
    assert p.parse_args(["demo", "texts"]).which == "texts"


def test_ui_modules_do_not_import_heavy_modules() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import aldesk.ui.shell.main_window, aldesk.ui.shell.app, aldesk.cli.app_cmds; "
        "bad = [m for m in ('onnxruntime', 'pynndescent', 'numba', 'tokenizers') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_help_key_shows_every_binding_and_rename_keeps_labels(qtbot, make_window, monkeypatch) -> None:
    from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox

    win = make_window()
    win.set_workspace(text_workspace())
    qtbot.keyClick(win, Qt.Key.Key_F1)
    qtbot.waitUntil(
        lambda: any(isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets())
    )
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    assert "Undo" in box.text() and "Ctrl+Z" in box.text() and "Skip" in box.text()
    box.close()
    qtbot.waitUntil(lambda: not box.isVisible())
    # "?" typed as Shift+/ (the key event carries Shift) opens it too.
    qtbot.keyClick(win, Qt.Key.Key_Question, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(
        lambda: any(isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets())
    )
    for w in QApplication.topLevelWidgets():
        if isinstance(w, QMessageBox):
            w.close()
    first = win.ctl.current
    qtbot.keyClick(win, class_key(1))
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a, **k: ("pos", True)))
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("positive", True)))
    win.rename_action.trigger()
    assert win.ctl.session.classes[0] == "positive"
    assert win.ctl.session.label_of(first) == "positive"
    assert "positive" in win.label_view.class_buttons[0].text()


def test_why_panel_values_beside_bars_and_audit_items_explained(qtbot, make_window) -> None:
    win = make_window()
    win.set_workspace(text_workspace(), density=False)
    wait_plots(qtbot, win).accuracy.audit_spin.setValue(3)  # every 3rd label is an audit item
    why = win.why
    seen_audit = seen_pick = False
    for n in (1, 2, 3, 1, 2, 3, 1, 2, 3):
        qtbot.keyClick(win, class_key(n))
        win.ctl.flush()
        why.refresh()
        cand = win.ctl.candidate()
        values = {k: bar.text() for k, bar in why.factor_values.items()}
        assert not any(bar.bar.isTextVisible() for bar in why.factor_values.values())  # text beside, not on
        if cand is not None and cand.audit:
            seen_audit = True
            assert set(values.values()) == {"—"} and "Audit item" in why.factor_note.text()
        elif cand is not None:
            seen_pick = True
            assert values["U"] == f"{cand.U:.2f}" and "strategy" in why.factor_note.text()
    assert seen_audit and seen_pick
    # The default (eer) has no density or diversity factor: those rows are hidden; uid shows all four.
    rows = {k: why.factor_form.isRowVisible(lab) for k, lab in why.factor_labels.items()}
    assert rows == {"S": True, "U": True, "I": False, "D": False}
    win.ctl.session.set_strategy("uid")
    why.refresh()
    assert all(why.factor_form.isRowVisible(lab) for lab in why.factor_labels.values())
