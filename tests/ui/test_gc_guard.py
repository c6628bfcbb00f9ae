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


def test_a_full_collection_waits_until_the_old_generation_grew_by_a_quarter(qtbot, qapp, monkeypatch) -> None:
    """The automatic collector's rule for the oldest generation: a full scan only when the objects promoted since
    the last one exceed a quarter of what it held; else it is left for later."""
    from aldesk.ui.shell import gc_guard

    guard = gc_guard.install(qapp)
    guard._timer.stop()  # the test drives the ticks itself
    collections: list[int] = []

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(record)
    try:
        monkeypatch.setattr(
            guard, "thresholds", (0, 0, 0)
        )  # every tick wants to collect the oldest generation
        keep = [[i] for i in range(1000)]
        gc.collect(1)
        gc.collect(2)
        guard._old_after_full = len(gc.get_objects(generation=2))
        keep.append([[i] for i in range(100)])  # a few long-lived objects: far below a quarter
        gc.collect(1)  # ... promoted to the oldest generation
        collections.clear()
        guard.check()
        assert 2 not in collections
        # then more than a quarter of the old generation, promoted: the next tick scans it all
        keep.append([[i] for i in range(guard._old_after_full // 4 + 10_000)])
        gc.collect(1)
        collections.clear()
        guard.check()
        assert collections == [2]
        assert guard._old_after_full >= len(keep[-1])
    finally:
        gc.callbacks.remove(record)
        guard._timer.start()
