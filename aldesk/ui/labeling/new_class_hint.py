"""The window's suggestion when new items look like a new class (issue 14.4): one small, non-modal box.

The finding is Qt-free (aldesk.core.labeling.novelty); this only shows its one-line text with two answers. Not
wired yet: the caller (the main window, after a rescan took new items in) decides what "Add a class" does, e.g.
open the add-class prompt with the group's most typical item shown.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from aldesk.core.labeling.novelty import NewGroup, describe


def new_class_hint(
    parent: QWidget | None, group: NewGroup, on_add: Callable[[NewGroup], None]
) -> QMessageBox:
    """Show the suggestion for ``group`` without blocking (open(), not exec()); ``on_add(group)`` runs when the
    user accepts (Enter, or the "Add a class" button). Returns the box (the caller may keep or close it)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("New items")
    box.setText(describe(group))
    add = box.addButton("Add a class…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(add)
    add.clicked.connect(lambda: on_add(group))
    box.open()
    return box
