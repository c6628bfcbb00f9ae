"""The pair sum of :func:`aldesk.core.model.knn.expected_error_reduction` as one compiled loop (numba).

numpy needs ~15 passes over the (item, neighbour) pairs with gathers and temporaries; this loop makes one, 3-5x
faster at 100k items (benchmarks/README.md). numba comes with pynndescent already. Compiled on first use (~0.7 s,
then cached on disk: ~0.3 s per process); the app warms it up in the density worker so the window never waits.
If numba is missing or cannot compile (e.g. a frozen build without sources), the numpy version runs instead:
set ALDESK_NUMBA=0 to force that.

A desktop process asks for the kernel only for pools of at least :func:`set_min_items` items (the app sets
APP_MIN_ITEMS): below it numpy ranks a whole pool in a few ms (10k items: 10 ms vs 2 ms compiled, 2 shared cores),
while loading numba and the cached kernel costs ~1-2 s of CPU and, in a worker, stalls the GUI thread for up to
~0.2 s (the GIL: benchmarks/gui_stall.py). Command-line simulations rank thousands of times and keep 0 (always).
"""

from __future__ import annotations

import os
import threading

import numpy as np

APP_MIN_ITEMS = 20_000  # the desktop app's threshold (see the module's docstring)

_kernel = None
_tried = False
_min_items = 0
_lock = threading.Lock()  # the density worker, a simulation worker and the GUI thread may all ask first


def set_min_items(n: int) -> None:
    """Pools smaller than ``n`` items are ranked by numpy and never load numba (0: always the kernel)."""
    global _min_items
    _min_items = max(0, int(n))


def wanted(n_items: int) -> bool:
    """Whether a pool of ``n_items`` uses the compiled kernel (when numba works)."""
    return n_items >= _min_items


def kernel(n_items: int | None = None):
    """(row_state, pair_gain) compiled, or None when numba is unavailable or disabled, or when the pool of
    ``n_items`` items is below the threshold of :func:`set_min_items` (then numba is not even imported)."""
    global _kernel, _tried
    if n_items is not None and not wanted(n_items):
        return None
    if _tried:
        return _kernel
    with _lock:
        if not _tried:
            _kernel = _compile()
            _tried = True  # only now: a caller that sees it also sees the kernel
    return _kernel


def _compile():
    if os.environ.get("ALDESK_NUMBA", "1") == "0":
        return None
    try:
        import numba
    except Exception:  # noqa: BLE001 - any import failure means: use numpy
        return None
    compiled = None
    for options in (
        {"cache": True, "nogil": True},
        {"nogil": True},
    ):  # frozen builds may have no cache locator
        try:
            compiled = (numba.njit(**options)(_row_state), numba.njit(**options)(_pair_gain))
            _warm_up(
                *compiled
            )  # compile now, so a failure falls back here and not in the middle of a ranking
            break
        except Exception:  # noqa: BLE001
            compiled = None
    return compiled


def _warm_up(row_state, pair_gain) -> None:
    votes, total = np.zeros((2, 2)), np.zeros(2)
    st = row_state(
        votes,
        total,
        np.zeros((2, 1), np.int32),
        np.zeros(2, np.int32),
        np.full(2, -np.inf, np.float32),
        np.full(2, -1, np.int32),
        2,
        False,
        np.float32(10.0),
        0.1,
    )
    for idx_type in (np.int64, np.int32):  # the graph comes as either
        for sim_type in (np.float32, np.float64):
            pair_gain(
                np.zeros(1, np.int64),
                np.zeros((2, 1), idx_type),
                np.zeros((2, 1), sim_type),
                votes,
                total,
                st,
                np.float32(10.0),
                0.1,
                np.zeros(1),
            )


def _row_state(
    votes, total, nbr, worst_slot, worst_sim, label, n_cls, full, inv_tau, prior
):  # pragma: no cover
    """Per item u, in one row (one cache line for the pair loop's random access): [0] the similarity a label must
    beat to reach u (+inf for labeled items: they are not in the pool), [1] u's total vote and [4:] its class
    votes after its weakest labeled neighbour leaves (when all k slots are taken), [2] their top vote, [3] u's
    current confidence."""
    n = votes.shape[0]
    a = prior / n_cls
    st = np.empty((n, n_cls + 4), np.float32)
    for u in range(n):
        t = total[u]
        best = votes[u, 0]
        for c in range(1, n_cls):
            best = max(best, votes[u, c])
        st[u, 3] = (best + a * t) / ((1.0 + prior) * t) if t > 0 else 1.0 / n_cls
        st[u, 0] = worst_sim[u] if label[u] < 0 else np.inf
        wl = -1
        w_out = 0.0
        if full:
            j = nbr[u, worst_slot[u]]
            if j >= 0:
                wl = label[j]
                w_out = np.exp((worst_sim[u] - 1.0) * inv_tau)
        t2 = t - w_out
        st[u, 1] = t2 if t2 > 0 else 0.0
        m = -np.inf
        for c in range(n_cls):
            v = votes[u, c] - w_out if c == wl else votes[u, c]
            if v < 0:
                v = 0.0
            st[u, 4 + c] = v
            m = max(m, v)
        st[u, 2] = m
    return st


def _pair_gain(rows, g, s, votes, total, st, inv_tau, prior, out):  # pragma: no cover
    """out[i] = (1 - max p(x)) + sum over the neighbours u = g[x, j] of x = rows[i] that x's label reaches
    (s[x, j] > st[u, 0]) of E_c~p(x) [max p'(u)] - max p(u), where x's vote exp((s - 1) / tau) joins u's votes (see
    _row_state) and p(x) comes from x's own votes as IncrementalKNN.probabilities gives it."""
    n_cls = st.shape[1] - 4
    kk = g.shape[1]
    a = prior / n_cls
    p = np.empty(n_cls)
    for i in range(rows.shape[0]):
        x = rows[i]
        t = total[x]
        pmax = 0.0
        for c in range(n_cls):
            p[c] = (votes[x, c] + a * t) / ((1.0 + prior) * t) if t > 0 else 1.0 / n_cls
            pmax = max(pmax, p[c])
        acc = 1.0 - pmax
        for j in range(kk):
            u = g[x, j]
            sxj = s[x, j]
            if not sxj > st[u, 0]:
                continue
            w = np.exp((sxj - 1.0) * inv_tau)
            t_new = st[u, 1] + w
            tp = st[u, 2]
            e = 1.0 * tp
            for c in range(n_cls):
                d = st[u, 4 + c] + w - tp
                if d > 0.0:
                    e += p[c] * d
            acc += (e + a * t_new) / ((1.0 + prior) * t_new) - st[u, 3]
        out[i] = acc
    return out
