"""The probe growth's loops run on several threads (neighbours/threads.in_threads): the same graph as on one
thread, a cancel from the caller stops every thread; the cells' balls skip only what cannot change a row; the
merge's one-key sort orders as (row, best first)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from aldesk.core import synthetic
from aldesk.core.neighbours import builder, cells, grow, threads
from aldesk.core.progress import Cancelled


@pytest.fixture(scope="module")
def pool() -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray], int]:
    X, _ = synthetic.clustered(6000, 96, 12, seed=4)
    n_old = 5200
    return X, builder.knn_graph(X[:n_old], 10, method="exact"), n_old


def test_threads_give_the_graph_of_one_thread(pool, monkeypatch):
    X, old, _ = pool
    monkeypatch.setattr(threads, "workers", lambda: 1)
    one = grow.grow_joined(X, *old, method="probe")
    monkeypatch.setattr(threads, "workers", lambda: 3)
    seen: set[int] = set()
    fractions: list[float] = []

    def progress(fraction: float, message: str) -> None:
        seen.add(threading.get_ident())
        fractions.append(fraction)

    many = grow.grow_joined(X, *old, method="probe", progress=progress, cancel=lambda: False)
    np.testing.assert_array_equal(one[0], many[0])
    np.testing.assert_array_equal(one[1], many[1])
    assert seen == {threading.get_ident()}  # progress (and the cancel check) stay with the caller
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)


def test_work_runs_on_other_threads_and_a_cancel_stops_them(pool, monkeypatch):
    X, old, _ = pool
    monkeypatch.setattr(threads, "workers", lambda: 2)
    workers: set[int] = set()
    real_hits = grow._old_hits

    def hits(*args, **kwargs):
        workers.add(threading.get_ident())
        return real_hits(*args, **kwargs)

    monkeypatch.setattr(grow, "_old_hits", hits)
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 3

    before = threading.active_count()
    with pytest.raises(Cancelled):
        grow.grow_joined(X, *old, method="probe", cancel=cancel)
    assert workers and threading.get_ident() not in workers
    assert threading.active_count() == before  # the pool's threads are joined, not left running


def test_a_failing_cell_raises_in_the_caller(pool, monkeypatch):
    X, old, _ = pool
    monkeypatch.setattr(threads, "workers", lambda: 2)

    def broken(*args, **kwargs):
        raise MemoryError("no room for the block")

    monkeypatch.setattr(grow, "_old_hits", broken)
    with pytest.raises(MemoryError, match="no room"):
        grow.grow_joined(X, *old, method="probe")


def test_one_key_sorts_by_row_then_highest_similarity():
    rng = np.random.default_rng(3)
    r = rng.integers(0, 40, 4000)
    s = (rng.standard_normal(4000) * rng.choice([1e-4, 1.0, 50.0], 4000)).astype(np.float32)
    s[:20], s[20:30], s[30:35] = 0.0, -0.0, -np.inf
    order = np.argsort(grow._row_then_best(r, s), kind="stable")
    ref = np.lexsort((-s, r))
    np.testing.assert_array_equal(r[order], r[ref])
    np.testing.assert_array_equal(s[order], s[ref])


def test_balls_skip_far_cells_and_change_nothing(monkeypatch):
    """Well separated clusters: most (new item, far cell) pairs are skipped, and the graph is the one computed
    without the balls (every probed pair compared)."""
    X, _ = synthetic.clustered(7000, 64, 30, spread=0.3, seed=8)
    n_old = 6300
    old = builder.knn_graph(X[:n_old], 10, method="exact")
    asked, kept = [], []
    real = cells.ball_allows

    def counting(Q, mean, radius, need):
        allowed = real(Q, mean, radius, need)
        asked.append(allowed.size)
        kept.append(int(allowed.sum()))
        return allowed

    monkeypatch.setattr(grow, "ball_allows", counting)
    with_balls = grow.grow_joined(X, *old, method="probe")
    assert sum(kept) < 0.5 * sum(asked), (sum(kept), sum(asked))
    monkeypatch.setattr(grow, "ball_allows", lambda Q, mean, radius, need: np.ones(Q.shape[0], bool))
    without = grow.grow_joined(X, *old, method="probe")
    # the same rows, up to float32 rounding: a block of fewer rows can round a product differently in the 7th
    # digit, which swaps two neighbours tied at the k-th place (seen once in 7,000 rows)
    np.testing.assert_allclose(np.sort(with_balls[1], axis=1), np.sort(without[1], axis=1), atol=1e-5)
    assert grow.recall(with_balls[0], without[0]) >= 0.999


def test_a_ball_bounds_every_member_and_keeps_vectors_that_are_not_unit():
    rng = np.random.default_rng(2)
    members = rng.standard_normal((50, 16)).astype(np.float32) + 3.0
    members /= np.linalg.norm(members, axis=1, keepdims=True)
    mean, radius = cells.ball(members)
    Q = rng.standard_normal((400, 16)).astype(np.float32)
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    best = (Q @ members.T).max(axis=1)
    assert cells.ball_allows(Q, mean, radius, best).all()  # the true best member is never ruled out
    far = -members[:5]  # across the sphere: every member is less similar than 0
    assert ((far @ members.T).max(axis=1) < 0).all()
    assert not cells.ball_allows(far, mean, radius, np.zeros(5)).any()
    assert cells.ball_allows(2 * Q, mean, radius, np.full(400, 9.0)).all()  # not unit vectors: all kept
    _, no_bound = cells.ball(members * 2)
    assert no_bound == pytest.approx(np.pi)
