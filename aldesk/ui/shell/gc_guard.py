"""Python's cyclic garbage collector runs on the GUI thread only, in small steps.

Left automatic, the collector runs in whichever thread happens to allocate when a generation's threshold is
crossed, often a task's worker. If a reference cycle it frees holds a Qt object (a closed window's widgets, a
QAction captured by a lambda), that object's C++ destructor runs in the worker: ``QObject::~QObject`` takes the
connection mutex, then shiboken asks for the GIL to look up a Python override, while the GUI thread, holding the
GIL, waits for that same mutex in its own destructor. Both wait for ever (seen as a hung UI test here, with gdb:
the GUI thread in ``QBasicMutex::lockInternal`` under ``~QObject``, a pooled thread in ``PyGILState_Ensure`` under
``~QObject``). So the automatic collector is switched off and a timer on the GUI thread does its work.

What a collection costs is the objects it scans, and while a worker imports the plot modules or PIL's plugins
(the open of a project) it makes ~90k objects a second that live as long as the process. So, measured with
benchmarks/gui_stall.py (collections of 70-400 ms on the GUI thread before, at load 13):

- the timer ticks every INTERVAL_MS (50 ms), so a young-generation collection scans at most that long's objects;
- a full collection runs only when the objects promoted to the oldest generation since the last one exceed a
  quarter of those it held then: the automatic collector's own rule (CPython's ``long_lived_pending >
  long_lived_total / 4``), which the first version of this guard left out, so it scanned the whole heap every
  hundred young collections;
- what start-up imported (Qt, numpy, aldesk) is frozen at install (``gc.freeze``: never scanned). Only there: a
  freeze later would also make immortal every window alive at that moment, whose timers then fire after it is
  closed (seen in the UI tests).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer, Slot

INTERVAL_MS = 50


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        gc.collect()
        gc.freeze()  # start-up's objects live as long as the process: never scanned again
        self._old_after_full = 0  # objects in the oldest generation after the last full collection
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    @Slot()
    def check(self) -> None:
        """Collect the oldest generation whose count is over its threshold, as the automatic collector does."""
        counts = gc.get_count()
        if counts[2] > self.thresholds[2]:
            old = len(gc.get_objects(generation=2))
            if old - self._old_after_full > self._old_after_full / 4:
                gc.collect(2)
                self._old_after_full = len(gc.get_objects(generation=2))
                return
        for gen in (1, 0):
            if counts[gen] > self.thresholds[gen]:
                gc.collect(gen)
                return


def install(app: QObject) -> GuiThreadCollector:
    """Switch the automatic collector off and collect on ``app``'s (the GUI) thread; idempotent per app."""
    existing = app.findChild(GuiThreadCollector)
    return existing if existing is not None else GuiThreadCollector(app)
