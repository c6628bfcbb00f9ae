"""Guard against a PySide6 build that loses a reference to None on every void call.

PySide6-Essentials 6.12.0 on Python 3.11 decrements None's reference count on each call of a method returning
void (setText, setVisible, …): after a few thousand calls CPython aborts with "none_dealloc: deallocating None".
(None is immortal only from Python 3.12.) 6.11.3 is fine. This test fails fast instead of a crash mid-session.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel


def test_void_calls_keep_none_alive(qtbot) -> None:
    label = QLabel()
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")
        label.setVisible(False)
    lost = before - sys.getrefcount(None)
    assert lost < 100, (
        f"this PySide6 build drops a reference to None per void call ({lost} lost): use !=6.12.0"
    )
