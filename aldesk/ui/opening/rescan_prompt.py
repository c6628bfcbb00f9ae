"""The question the window asks when a project's folder or CSV changed since it was last opened.

Non-modal (``open()``, answered through ``finished``): the window's event loop keeps running while it waits,
and a test answers it with a key press like a user does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

TITLE = "The data changed"


def ask_to_add(parent: QWidget | None, plan: Any, answer: Callable[[bool], None]) -> QMessageBox:
    """Ask "38 new items, 2 missing — add them?"; ``answer(True)`` once the user accepts, ``answer(False)`` when
    they decline (the project opens as it was, and File › Rescan asks nothing later)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(TITLE)
    box.setText(f"{plan.summary()} — " + ("add them?" if plan.new_keys else "update the project?"))
    box.setInformativeText(
        "New files join the project and only they are embedded. Missing items keep their labels and come back "
        "when their files do; renamed files keep theirs."
    )
    yes = box.addButton("Add them", QMessageBox.ButtonRole.AcceptRole)
    no = box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(yes)
    box.setEscapeButton(no)
    box.finished.connect(lambda _result: answer(box.clickedButton() is yes))
    box.open()
    return box
