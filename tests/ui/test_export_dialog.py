"""File › Export… and File › Import labels… in the real window (issue 17.1, 17.2): the menu, the dialog driven by
keys and clicks, the export running as a task, the files read back; an output over the project refused in the
window; an import journaled, shown, and undone by one key press."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from aldesk.core.project import Project
from aldesk.ui.exchange.export_dialog import ExportDialog
from aldesk.ui.exchange.import_dialog import ImportDialog
from tests.ui.helpers import class_key
from tests.ui.test_settings import _project_workspace


def _menu_action(win, text: str):
    for menu_action in win.menuBar().actions():
        for act in menu_action.menu().actions():
            if act.text() == text:
                return act
    raise AssertionError(f"no menu entry {text!r}")


def _press_ok(qtbot, dlg) -> None:
    ok = dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled()
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)


def _labeled_window(qtbot, make_window, path: Path):
    win = make_window()
    win.set_workspace(_project_workspace(path), density=False)
    win.ctl.session.audit_every = 0
    for n in (1, 2, 3, 1, 2):
        qtbot.keyClick(win, class_key(n))
    return win


def _export_dialog(win) -> ExportDialog:
    _menu_action(win, "Export…").trigger()
    dlg = win.exchange.dialog
    assert isinstance(dlg, ExportDialog) and dlg.isVisible()
    return dlg


def _choose_format(qtbot, dlg: ExportDialog, fmt: str) -> None:
    combo = dlg.format
    combo.setFocus()
    while combo.currentData() != fmt:  # arrow keys, as a user walks the list (disabled entries are skipped)
        before = combo.currentIndex()
        qtbot.keyClick(combo, Qt.Key.Key_Down)
        assert combo.currentIndex() != before, f"{fmt} cannot be chosen"


def _tick(qtbot, box) -> None:
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Space)  # the space bar toggles a focused check box
    assert box.isChecked()


def _type_out(qtbot, dlg, out: Path) -> None:
    dlg.out.selectAll()
    qtbot.keyClick(dlg.out, Qt.Key.Key_Delete)
    qtbot.keyClicks(dlg.out, str(out))


def test_export_parquet_with_vectors_from_the_menu(qtbot, make_window, tmp_path):
    import pyarrow.parquet as pq

    win = _labeled_window(qtbot, make_window, tmp_path / "p.aldesk")
    dlg = _export_dialog(win)
    # a project of texts: the image layouts are not offered
    model = dlg.format.model()
    offered = {dlg.format.itemData(n): model.item(n).isEnabled() for n in range(dlg.format.count())}
    assert (
        not offered["imagefolder"] and not offered["fiftyone"] and offered["parquet"] and offered["cleanlab"]
    )
    _choose_format(qtbot, dlg, "parquet")
    assert dlg.vectors.isEnabled() and not dlg.excel.isEnabled() and not dlg.split.isEnabled()
    _tick(qtbot, dlg.vectors)
    out = tmp_path / "mine.parquet"
    _type_out(qtbot, dlg, out)
    with qtbot.waitSignal(win.exchange.exported, timeout=60_000) as done:
        _press_ok(qtbot, dlg)
    assert done.args[0].n_labeled == 5
    table = pq.read_table(out)
    labels = win.ctl.session.labels
    assert sorted(table.column("item").to_pylist()) == sorted(win.ws.dataset.keys[i] for i in labels)
    idx = [win.ws.dataset.keys.index(k) for k in table.column("item").to_pylist()]
    assert np.allclose(np.array(table.column("vector").to_pylist()), win.ctl.session.X[idx])
    assert "Exported 5 items" in win.statusBar().currentMessage()


def test_export_csv_for_excel_and_a_refused_output(qtbot, make_window, tmp_path):
    path = tmp_path / "p.aldesk"
    win = _labeled_window(qtbot, make_window, path)
    dlg = _export_dialog(win)
    _choose_format(qtbot, dlg, "csv")
    _tick(qtbot, dlg.excel)
    out = tmp_path / "for-excel.csv"
    _type_out(qtbot, dlg, out)
    with qtbot.waitSignal(win.exchange.exported, timeout=60_000):
        _press_ok(qtbot, dlg)
    assert out.read_bytes().startswith(b"\xef\xbb\xbfitem,")
    with open(out, newline="", encoding="utf-8-sig") as f:
        assert len(list(csv.DictReader(f))) == 5
    # the project itself as the output: refused by the core, shown in the window, the file untouched
    before = path.read_bytes()[:100]
    dlg = _export_dialog(win)
    _choose_format(qtbot, dlg, "csv")
    _type_out(qtbot, dlg, path)
    _press_ok(qtbot, dlg)
    qtbot.waitUntil(lambda: win.findChild(QMessageBox) is not None, timeout=30_000)
    box = win.findChild(QMessageBox)
    assert "choose another output" in box.text() and "\n" not in box.text()
    assert path.read_bytes()[:100] == before
    with Project.open(path, readonly=True) as p:
        assert len(p.labels()) == 5


def test_import_labels_from_the_menu_then_one_undo(qtbot, make_window, tmp_path):
    path = tmp_path / "p.aldesk"
    win = _labeled_window(qtbot, make_window, path)
    keys = win.ws.dataset.keys
    free = [i for i in range(len(keys)) if i not in win.ctl.session.labels][:3]
    src = tmp_path / "theirs.csv"
    src.write_text(
        "item,label\n" + "".join(f"{keys[i]},pos\n" for i in free) + "nowhere,neg\n", encoding="utf-8"
    )
    _menu_action(win, "Import labels…").trigger()
    dlg = win.exchange.dialog
    assert isinstance(dlg, ImportDialog) and dlg.isVisible()
    qtbot.keyClicks(dlg.path, str(src))
    with qtbot.waitSignal(win.exchange.imported, timeout=60_000) as done:
        _press_ok(qtbot, dlg)
    assert done.args[0].labeled == 3 and done.args[0].unmatched == ["nowhere"]
    session = win.ctl.session  # rebuilt from the file the import wrote
    assert all(session.labels[i] == "pos" for i in free) and len(session.labels) == 8
    assert "Imported 3 labels" in win.statusBar().currentMessage()
    with Project.open(path, readonly=True) as p:
        assert {r.item: r.origin for r in p.label_rows()}[free[0]] == "imported"
    win.activateWindow()  # the dialog has closed: the window has the keys again, as for a user
    qtbot.waitUntil(win.isActiveWindow)
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one undo: the whole import
    assert not any(i in win.ctl.session.labels for i in free) and len(win.ctl.session.labels) == 5
    with Project.open(path, readonly=True) as p:
        assert len(p.labels()) == 5
