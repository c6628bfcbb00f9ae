"""Work the window does in steps after an open (the Plots dock and its tabs), one step per frame.

``QTimer.singleShot(0, step)`` posts an event, and Qt delivers the events posted before a dispatch back to back:
the dock's steps, the why panel's refresh and the window's relayout then ran as one 115-168 ms stall of the GUI
thread (benchmarks/gui_stall.py, phase "open", quiet machine). A step scheduled on a timer one frame away comes
after the input, the paint and the timers that are due. The step is tied to ``owner``: a window or dock deleted
before it comes never runs it (a bound method alone keeps no such tie in PySide6).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

STEP_MS = 16  # one frame at 60 Hz


def next_step(owner: QObject, step: Callable[[], None]) -> None:
    """Run ``step`` on the GUI thread one frame from now, after what is due (input, paint, timers), unless
    ``owner`` has been deleted by then."""
    QTimer.singleShot(STEP_MS, owner, step)
