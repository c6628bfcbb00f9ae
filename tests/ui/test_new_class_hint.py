"""The new-class suggestion box: its text is novelty.describe's, Enter accepts, Escape declines (real keys)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from aldesk.core.labeling.novelty import NewGroup, describe
from aldesk.ui.labeling.new_class_hint import new_class_hint


def test_enter_adds_escape_declines(qtbot):
    group = NewGroup(np.arange(38), 0.8)
    got: list[NewGroup] = []
    box = new_class_hint(None, group, got.append)
    qtbot.addWidget(box)
    qtbot.waitExposed(box)
    assert box.text() == describe(group) and "38 new items" in box.text()
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not box.isVisible())
    assert got == [group]

    box2 = new_class_hint(None, group, got.append)
    qtbot.addWidget(box2)
    qtbot.waitExposed(box2)
    qtbot.keyClick(box2, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not box2.isVisible())
    assert got == [group]  # declined: nothing added
