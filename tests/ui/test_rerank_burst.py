"""The ranking is never stale (issue 13.5): after a burst of keys the trailing re-rank runs by itself, the header
says when its count is the old ranking's, and the final candidates are those a from-scratch ranking of the same
labels gives."""

from __future__ import annotations

import numpy as np

from aldesk.core.labeling.session import Session
from tests.ui.helpers import class_key, text_workspace


def _from_scratch(s: Session) -> Session:
    """A new session over the same vectors, density and graph, given the same labels and skips in one block."""
    fresh = Session(s.X, list(s.classes), k=s.k, strategy=s.strategy, density=s.density, graph=s.graph)
    lab = s.labels
    fresh.knn.add_many(
        np.fromiter(lab, np.int64), np.array([fresh.classes.index(c) for c in lab.values()], np.int32)
    )
    fresh.skipped[:] = s.skipped
    return fresh


def test_a_burst_of_keys_50_ms_apart_ends_with_a_fresh_ranking(qtbot, make_window) -> None:
    win = make_window()
    win.set_workspace(text_workspace(n=600))
    ctl = win.ctl
    qtbot.waitUntil(lambda: ctl.session.density_kind == "knn", timeout=60_000)
    qtbot.waitUntil(lambda: not ctl.rerank_pending())
    before = ctl.rerank_count
    header = win.label_view.header
    saw_stale_marker = False
    for i in range(20):
        qtbot.keyClick(win, class_key(1 + i % 3))
        saw_stale_marker |= "re-ranking" in header.text()
        qtbot.wait(50)
    assert ctl.session.n_labeled == 20
    assert saw_stale_marker  # while a re-rank was pending, the header said its count was the old ranking's
    # No further key: the trailing re-rank runs by itself.
    qtbot.waitUntil(lambda: not ctl.rerank_pending() and ctl.rerank_count > before, timeout=30_000)
    assert "re-ranking" not in header.text()
    assert f"of {len(ctl.cands)}" in header.text()
    s = ctl.session
    cur = ctl.current
    got = [c.index for c in ctl.cands if not c.audit and c.index != cur]
    want = [c.index for c in _from_scratch(s).candidates(len(got) + 1) if c.index != cur][: len(got)]
    assert len(got) >= s.n_candidates - 2
    assert got == want
