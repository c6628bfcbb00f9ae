"""The cyclic collector runs on the GUI thread only (aldesk/ui/shell/gc_guard.py): a cycle holding a Qt object
made garbage while a worker allocates is freed by the GUI thread's timer, never by the worker."""

from __future__ import annotations

import gc
import sys
import threading

from PySide6.QtCore import QObject


def test_a_cycle_with_a_qt_object_is_freed_on_the_gui_thread(qtbot, qapp) -> None:
    from aldesk.ui.shell import gc_guard

    guard = gc_guard.install(qapp)
    assert gc_guard.install(qapp) is guard and not gc.isenabled()
    guard._modules = guard._settled = len(
        sys.modules
    )  # no import burst pending: the cycle below is not frozen
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


def test_an_import_burst_is_not_collected_but_frozen_once_it_ends(qtbot, qapp, monkeypatch) -> None:
    """As sys.modules starts to grow (a worker importing) the timer makes one full collection, then none while it
    grows; once it is stable after a large burst the objects made meanwhile go to the permanent generation, and
    collection resumes."""
    import types

    from aldesk.ui.shell import gc_guard

    guard = gc_guard.install(qapp)
    guard._timer.stop()  # the test drives the ticks itself
    try:
        guard.check()
        guard.check()  # settled: no import burst pending
        collections: list[int] = []
        gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))
        monkeypatch.setattr(guard, "thresholds", (0, *guard.thresholds[1:]))
        frozen_before = gc.get_freeze_count()
        # a worker imports a module (a real new entry in sys.modules) and allocates long-lived objects
        keep = []
        worker = threading.Thread(
            target=lambda: (
                keep.append([[i] for i in range(20_000)]),  # lists: tracked by the collector
                [
                    sys.modules.setdefault(f"aldesk_test_burst{i}", types.ModuleType(f"aldesk_test_burst{i}"))
                    for i in range(gc_guard.BURST_MODULES)
                ],
            )
        )
        worker.start()
        worker.join()
        guard.check()  # sys.modules grew since the last tick: the burst began, one full collection
        assert collections == [2]
        sys.modules["aldesk_test_burst_more"] = types.ModuleType("aldesk_test_burst_more")
        guard.check()  # still growing: nothing
        assert collections == [2]
        guard.check()  # stable now: frozen, still no collection
        assert collections == [2] and gc.get_freeze_count() >= frozen_before + 20_000
        keep.append([[] for _ in range(100)])  # new objects since the freeze (which zeroed the counts)
        guard.check()  # back to normal: generation 0 is over its (zeroed) threshold
        assert len(collections) == 2
    finally:
        gc.callbacks.pop()
        for i in range(gc_guard.BURST_MODULES):
            sys.modules.pop(f"aldesk_test_burst{i}", None)
        sys.modules.pop("aldesk_test_burst_more", None)
        guard._modules = guard._settled = len(sys.modules)
        guard._timer.start()


def test_after_a_small_import_burst_collection_resumes_without_a_freeze(qtbot, qapp) -> None:
    import types

    from aldesk.ui.shell import gc_guard

    guard = gc_guard.install(qapp)
    guard._timer.stop()
    try:
        guard.check()
        guard.check()
        frozen_before = gc.get_freeze_count()
        sys.modules["aldesk_test_small_burst"] = types.ModuleType("aldesk_test_small_burst")
        guard.check()  # the import: skipped
        guard.check()  # one new module: no freeze
        assert gc.get_freeze_count() == frozen_before
    finally:
        sys.modules.pop("aldesk_test_small_burst", None)
        guard._modules = guard._settled = len(sys.modules)
        guard._timer.start()
