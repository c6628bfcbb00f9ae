"""The real window on the bundled demo: label by keys, undo, add a class, close, reopen, same state."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit

from aldesk.core.query.eer import expected_error_reduction
from tests.ui.helpers import class_key, state, wait_open


def _new_class_by_keys(qtbot, win, name: str) -> None:
    qtbot.keyClick(win, Qt.Key.Key_N)
    qtbot.waitUntil(
        lambda: any(isinstance(w, QInputDialog) and w.isVisible() for w in QApplication.topLevelWidgets())
    )
    dlg = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QInputDialog) and w.isVisible())
    edit = dlg.findChild(QLineEdit)
    qtbot.keyClicks(edit, name)
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: name in win.ctl.session.classes)


@pytest.mark.parametrize("which", ["images", "texts"])
def test_label_undo_add_class_close_reopen(qtbot, make_window, which: str) -> None:
    win = make_window()
    win.open_demo(which)
    wait_open(qtbot, win)
    n_classes = len(win.ctl.session.classes)
    seen: list[int] = []
    for i in range(20):
        before = win.ctl.current
        seen.append(before)
        qtbot.keyClick(win, class_key(1 + i % min(3, n_classes)))
        # The label is stored and the next candidate is on screen right after the key.
        assert win.ctl.session.label_of(before) is not None
        assert win.ctl.current != before
    assert win.ctl.session.n_labeled == 20
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.ctl.session.n_labeled == 18
    assert win.ctl.session.label_of(seen[-1]) is None and win.ctl.session.label_of(seen[-2]) is None
    qtbot.keyClick(win, Qt.Key.Key_Space)  # a skip, to be restored too
    _new_class_by_keys(qtbot, win, "other")
    qtbot.keyClick(
        win,
        class_key(len(win.ctl.session.classes)) if len(win.ctl.session.classes) <= 10 else Qt.Key.Key_Return,
    )
    before = state(win)
    current = win.ctl.current
    assert len(before["history"]) == 20 - 2 + 2  # 18 labels + skip + the last label
    win.close()

    win2 = make_window()
    win2.open_demo(which)
    wait_open(qtbot, win2)
    assert state(win2) == before
    assert win2.ctl.current == current  # view position restored
    # Undo history survives the reopen: the last label can still be undone.
    last = before["history"][-1]
    qtbot.keyClick(win2, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win2.ctl.session.label_of(last[1][0]) == last[3][0]


def test_embedding_runs_in_worker_and_gui_stays_live(qtbot, make_window, tmp_path) -> None:
    """Behaviour only (how long the GUI may stall is benchmarks/gui_stall.py's job, not a unit test's): the model
    runs in a worker thread, reports progress, and the GUI thread keeps running its event loop meanwhile."""
    import threading

    from aldesk.core.embed import runtime

    win = make_window()
    win.opener.cache_dir = tmp_path / "fresh-cache"  # nothing cached: the model really runs
    infer_threads: set[str] = set()
    real_session = runtime.session

    def spy(*a, **kw):  # the ONNX session is made (and used) where the embedding runs
        infer_threads.add(threading.current_thread().name)
        return real_session(*a, **kw)

    runtime.session = spy
    stage = [""]
    win.opener.stage.connect(lambda s: stage.__setitem__(0, s))
    ticks_while_embedding: list[int] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(
        lambda: ticks_while_embedding.append(1) if stage[0] == "embedding" and not win.ctl else None
    )
    progress: list[float] = []
    win.opener.progress.connect(lambda f, m, e: progress.append(f))
    timer.start()
    try:
        win.open_demo("texts")
        wait_open(qtbot, win)
    finally:
        timer.stop()
        runtime.session = real_session
    assert progress, "the embedding reported progress"
    assert infer_threads and threading.main_thread().name not in infer_threads, infer_threads
    # The GUI thread's own timer fired while the model ran: its event loop was not held by the embedding.
    assert ticks_while_embedding, "no GUI event was processed during the embedding"


def test_density_arrives_in_background(qtbot, make_window) -> None:
    win = make_window()
    win.open_demo("texts")
    wait_open(qtbot, win)
    qtbot.waitUntil(lambda: win.ctl.session.density_kind == "knn", timeout=60_000)
    assert "knn" in win.status_state.text()
    # The graph came with it, and the default strategy (eer) now ranks with it: the top candidate of the next
    # ranking is the item with the largest expected error reduction, computed from scratch here.
    s = win.ctl.session
    assert s.strategy.measure == "eer" and s.graph is not None and s.graph[0].shape == (s.n, 10)
    for n in (1, 2, 1):
        qtbot.keyClick(win, class_key(n))
    win.ctl.flush()
    pool = np.flatnonzero(s.pool_mask())
    eer = expected_error_reduction(s.knn, len(s.classes), pool, *s.graph)
    top = next(c for c in s.candidates() if not c.audit)
    assert eer[np.searchsorted(pool, top.index)] == eer.max()


def test_density_is_cached_for_the_next_open(qtbot, make_window) -> None:
    from aldesk.core.neighbours.store import load_graph

    win = make_window()
    win.open_demo("texts")
    wait_open(qtbot, win)
    qtbot.waitUntil(lambda: win.ctl.session.density_kind == "knn", timeout=60_000)
    root = win.opener.cache_dir / "graphs" if win.opener.cache_dir else None
    assert load_graph(win.ws.vectors_key, root) is not None  # the k-NN graph is on disk
    first = win.ctl.session.density.copy()
    win.close()
    win2 = make_window()
    win2.open_demo("texts")
    wait_open(qtbot, win2)
    qtbot.waitUntil(lambda: win2.ctl.session.density_kind == "knn", timeout=10_000)
    assert (win2.ctl.session.density == first).all()
