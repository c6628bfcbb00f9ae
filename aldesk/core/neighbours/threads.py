"""A short-lived thread pool for a kernel's own loop (the graph growth's cells and row blocks).

The core starts no background work (DESIGN.md, convention 2): a long function returns when its work is done. A
kernel may still spread its loop over the machine's cores, as BLAS and numba do inside one call: numpy's products,
partitions, comparisons and gathers release the GIL, so blocks on different threads compute at once. The threads
are joined before :func:`in_threads` returns, also on an error or a cancel; progress and the cancel check stay
with the calling thread (a UI's task runner may emit signals from it).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from aldesk.core.progress import CancelFn, ProgressFn, check

MAX_WORKERS = 4
T = TypeVar("T")
_SKIPPED = object()


def workers() -> int:
    """Threads for a kernel's loop: the cores this process may use, at most MAX_WORKERS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores))


def spans(n: int, size: int) -> list[range]:
    """0..n in consecutive ranges of ``size`` (the last one shorter)."""
    return [range(s, min(n, s + size)) for s in range(0, n, size)]


def in_threads(
    work: Callable[[range], T],
    tasks: list[range],
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    span: tuple[float, float] = (0.0, 1.0),
    what: str = "blocks",
) -> list[T]:
    """``work(task)`` for every task, spread over :func:`workers` threads; the results in task order, so they do
    not depend on the threads. After each task the calling thread checks ``cancel`` and reports
    ``progress(lo + (hi - lo) * done / total, "Neighbours: done / total <what>")`` (``span`` = (lo, hi), done and
    total counted by the tasks' stops). A task's error, or a cancel, is raised here once every running task has
    ended; the tasks not started yet are skipped."""
    lo, hi = span
    stop = threading.Event()
    total = tasks[-1].stop if tasks else 0
    results: list[T] = []

    def run(task: range) -> object:
        return _SKIPPED if stop.is_set() else work(task)

    def report(task: range) -> None:
        check(cancel)
        if progress is not None and total:
            progress(lo + (hi - lo) * task.stop / total, f"Neighbours: {task.stop:,} / {total:,} {what}")

    n_workers = workers()
    if n_workers == 1 or len(tasks) < 2:
        for task in tasks:
            results.append(work(task))
            report(task)
        return results
    with ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="aldesk-kernel") as pool:
        try:
            for task, result in zip(tasks, pool.map(run, tasks), strict=True):
                # a task is skipped only after a raise here, and no result is read after that
                results.append(result)  # type: ignore[arg-type]
                report(task)
        except BaseException:
            stop.set()  # the tasks not started end at once; leaving the pool waits for the running ones
            raise
    return results


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """One BLAS thread per product while the kernel's threads run: the blocks are small (~360 x 384 x 330), and a
    second BLAS thread inside a product spin-waits more than it computes. One thread took 1.5 s of CPU and 4.6 s of
    wall time where two took 4.4 s and 11-14 s, same run, 100k + 10k on the shared 2-core machine (load 12-15).
    The limit is process-wide while the kernel runs (a label's mat-vec on the GUI thread meanwhile runs on one
    thread too: it is one N x d product)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
