"""The cyclic collector runs on the GUI thread only (aldesk/ui/shell/gc_guard.py): a cycle holding a Qt object
made garbage while a worker allocates is freed by the GUI thread's timer, never by the worker."""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject


def test_a_cycle_with_a_qt_object_is_freed_on_the_gui_thread(qtbot, qapp) -> None:
    from aldesk.ui.shell import gc_guard

    guard = gc_guard.install(qapp)
    assert gc_guard.install(qapp) is guard and not gc.isenabled()
    freed_in: list[int] = []

    class Holder(QObject):
        pass

    def make_garbage() -> None:
        h = Holder()
        h.me = h  # a cycle: only the collector can free it
        h.destroyed.connect(lambda *_: freed_in.append(threading.get_ident()))

    make_garbage()
    # a worker that allocates far past generation 0's threshold: the automatic collector would have run here
    worker = threading.Thread(target=lambda: [[] for _ in range(50_000)])
    worker.start()
    worker.join()
    assert freed_in == []  # the worker collected nothing
    gc.set_threshold(*guard.thresholds)
    guard.thresholds = (0, *guard.thresholds[1:])  # the next timer tick collects generation 0 at least
    qtbot.waitUntil(lambda: bool(freed_in), timeout=10_000)
    assert freed_in == [threading.main_thread().ident]
