"""Python's cyclic garbage collector runs on the GUI thread only.

Left automatic, the collector runs in whichever thread happens to allocate when a generation's threshold is
crossed, often a task's worker. If a reference cycle it frees holds a Qt object (a closed window's widgets, a
QAction captured by a lambda), that object's C++ destructor runs in the worker: ``QObject::~QObject`` takes the
connection mutex, then shiboken asks for the GIL to look up a Python override, while the GUI thread, holding the
GIL, waits for that same mutex in its own destructor. Both wait for ever (seen as a hung UI test here, with gdb:
the GUI thread in ``QBasicMutex::lockInternal`` under ``~QObject``, a pooled thread in ``PyGILState_Ensure`` under
``~QObject``). So the automatic collector is switched off and a timer on the GUI thread does its work: it collects
each generation once its count passes the threshold the automatic collector would have used, as often as that
collector would have run, never in a worker.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer, Slot

INTERVAL_MS = 200


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    @Slot()
    def check(self) -> None:
        """Collect the oldest generation whose count is over its threshold (as the automatic collector does)."""
        counts = gc.get_count()
        for gen in (2, 1, 0):
            if counts[gen] > self.thresholds[gen]:
                gc.collect(gen)
                return


def install(app: QObject) -> GuiThreadCollector:
    """Switch the automatic collector off and collect on ``app``'s (the GUI) thread; idempotent per app."""
    existing = app.findChild(GuiThreadCollector)
    return existing if existing is not None else GuiThreadCollector(app)
