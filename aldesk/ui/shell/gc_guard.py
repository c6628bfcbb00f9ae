"""Python's cyclic garbage collector runs on the GUI thread only, and never scans freshly imported modules.

Left automatic, the collector runs in whichever thread happens to allocate when a generation's threshold is
crossed, often a task's worker. If a reference cycle it frees holds a Qt object (a closed window's widgets, a
QAction captured by a lambda), that object's C++ destructor runs in the worker: ``QObject::~QObject`` takes the
connection mutex, then shiboken asks for the GIL to look up a Python override, while the GUI thread, holding the
GIL, waits for that same mutex in its own destructor. Both wait for ever (seen as a hung UI test here, with gdb:
the GUI thread in ``QBasicMutex::lockInternal`` under ``~QObject``, a pooled thread in ``PyGILState_Ensure`` under
``~QObject``). So the automatic collector is switched off and a timer on the GUI thread does its work: it collects
each generation once its count passes the threshold the automatic collector would have used, never in a worker.

Imports: while a worker imports the plot modules, numba or onnxruntime (the open of a project), it allocates
hundreds of thousands of objects that live as long as the process. Collected on the GUI thread as they came, they
were scanned again and again: single collections of 70-400 ms, the longest stalls of the open
(benchmarks/gui_stall.py). So when ``sys.modules`` starts to grow the timer makes one full collection (cheap: what
earlier bursts left is frozen, see below), then collects nothing until it stops growing; after a large burst
(BURST_MODULES or more new modules: pyqtgraph, numba, onnxruntime, PIL's plugins) the objects are frozen
(``gc.freeze``: the permanent generation, never scanned again). Only what became garbage during the burst itself
is frozen with them (never freed): bounded, because a package is imported once per process. After a small burst
collection simply resumes.
"""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QObject, QTimer, Slot

INTERVAL_MS = 200
BURST_MODULES = 20  # new modules in one import burst from which its objects are frozen rather than scanned


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        gc.freeze()  # what the start-up imported (Qt, numpy, aldesk) lives as long as the process: never scanned
        self._modules = len(sys.modules)  # at the last tick
        self._settled = self._modules  # after the last import burst
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    @Slot()
    def check(self) -> None:
        """Collect the oldest generation whose count is over its threshold (as the automatic collector does),
        unless modules are being imported (then one full collection as the burst begins, and nothing more until it
        ends) or have just been (then a large burst's objects are frozen)."""
        n = len(sys.modules)
        if n != self._modules:  # an import in progress, here or in a worker: wait until it is done
            if self._modules == self._settled:  # it has just begun: clear the garbage it would freeze
                gc.collect()
            self._modules = n
            return
        if n != self._settled:  # an import burst just ended
            large = n - self._settled >= BURST_MODULES
            self._settled = n
            if large:  # its objects are never scanned again
                gc.freeze()
                return
        counts = gc.get_count()
        for gen in (2, 1, 0):
            if counts[gen] > self.thresholds[gen]:
                gc.collect(gen)
                return


def install(app: QObject) -> GuiThreadCollector:
    """Switch the automatic collector off and collect on ``app``'s (the GUI) thread; idempotent per app."""
    existing = app.findChild(GuiThreadCollector)
    return existing if existing is not None else GuiThreadCollector(app)
