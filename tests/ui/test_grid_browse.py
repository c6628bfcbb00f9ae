"""Browse, grid-era: a click on a column header sorts the rows, a number key labels the selected rows in one batch,
image rows carry a thumbnail (real files, decoded by the window's loader)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
from PySide6.QtGui import QColor, QImage, QPixmap

from aldesk.core.dataset import Dataset
from aldesk.core.labeling.session import Session
from aldesk.ui.labeling.controller import Workspace
from tests.ui.helpers import class_key, clustered, text_workspace


def _click_header(qtbot, table, col: int) -> None:
    hh = table.horizontalHeader()
    x = hh.sectionViewportPosition(col) + hh.sectionSize(col) // 2
    qtbot.mouseClick(hh.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, hh.height() // 2))


def test_header_clicks_sort_and_a_number_key_labels_the_selection(qtbot, make_window) -> None:
    win = make_window()
    win.set_workspace(text_workspace(400), density=False)
    for n in (1, 2, 3, 1, 2):
        qtbot.keyClick(win, class_key(n))
    win.ctl.flush()
    win.tabs.setCurrentIndex(1)
    b = win.browse
    s = win.ctl.session
    _click_header(qtbot, b.table, 4)  # Confidence
    pred, conf = s.predictions()
    rows = b.model.rows
    key = np.where(pred[rows] >= 0, conf[rows], -1.0)
    assert b.model.sort_by[0] == 4 and rows.size == 400
    order = b.model.sort_by[1]
    assert np.all(np.diff(key) >= 0) if order == Qt.SortOrder.AscendingOrder else np.all(np.diff(key) <= 0)
    _click_header(qtbot, b.table, 4)  # again: the other way
    key2 = np.where(pred[b.model.rows] >= 0, conf[b.model.rows], -1.0)
    assert b.model.sort_by[1] != order and not np.array_equal(key2, key)
    assert sorted(key2.tolist()) == sorted(key.tolist())
    b.set_filter("unlabeled")  # a filter keeps the sort
    key3 = np.where(pred[b.model.rows] >= 0, conf[b.model.rows], -1.0)
    assert np.array_equal(key3, np.sort(key3)) or np.array_equal(key3, np.sort(key3)[::-1])
    sel = b.table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for r in range(6):
        sel.select(b.model.index(r, 0), flags)
    items = b.selected_items()
    assert len(items) == 6
    b.table.setFocus()
    qtbot.keyClick(b.table, class_key(3))
    assert all(s.label_of(i) == "meh" for i in items)
    assert sorted(s.history[-1].items) == sorted(items) and s.history[-1].origin == "batch"
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert all(s.label_of(i) is None for i in items)


def test_image_rows_show_thumbnails_and_sort_by_name(qtbot, make_window, tmp_path: Path) -> None:
    keys = [f"{c}/{i:02d}.png" for i, c in zip(range(12), ["b", "a", "c"] * 4, strict=True)]
    for i, k in enumerate(keys):
        (tmp_path / k).parent.mkdir(exist_ok=True)
        img = QImage(40, 30, QImage.Format.Format_RGB32)
        img.fill(QColor(20 * i, 100, 200))
        assert img.save(str(tmp_path / k))
    ds = Dataset("image", tmp_path, keys)
    win = make_window()
    win.set_workspace(Workspace(ds, Session(clustered(12), ["a", "b"]), None, [], "imgs"), density=False)
    win.tabs.setCurrentIndex(1)
    b = win.browse
    ix = b.model.index(0, 1)
    qtbot.waitUntil(lambda: isinstance(b.model.data(ix, Qt.ItemDataRole.DecorationRole), QPixmap))
    pm = b.model.data(ix, Qt.ItemDataRole.DecorationRole)
    assert not pm.isNull() and max(pm.width(), pm.height()) <= 32
    _click_header(qtbot, b.table, 1)
    names = [keys[i] for i in b.model.rows]
    assert names == sorted(keys) or names == sorted(keys, reverse=True)
    b.model.sort(0, Qt.SortOrder.AscendingOrder)  # back to item order
    assert b.model.rows.tolist() == list(range(12))
    b.model.sort(0, Qt.SortOrder.DescendingOrder)
    assert b.model.rows.tolist() == list(range(11, -1, -1))
