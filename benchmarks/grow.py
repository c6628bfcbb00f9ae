"""New items into a project (issue 14.3): taking them in (neighbours/pool.take_in) vs a full rebuild, one run.

    NUMBA_CACHE_DIR=/tmp/numba python benchmarks/grow.py [--n 100000] [--new 10000] [--dim 384] [--labels 200]
        [--skip-exact]

Synthetic clustered vectors (aldesk/core/synthetic.py, 50 clusters). The old project's graph is built as the app
builds it (``knn_graph`` method "auto": pynndescent above 60k items, which also pays numba's JIT here, so the
rebuild below is timed with the JIT already paid: the rebuild's most favourable case). Then, on the same machine in
the same run:

- ``rebuild_s``: the whole state from scratch for N + M items: graph ("auto"), k-NN state with the labels
  (``add_many``), PCA layout; timed with the default threads and with one BLAS thread, the faster counts.
- ``take_in_s``: ``take_in`` of the M new items over the joined pool (as a reopened project holds it): graph grown
  ("auto": probe above 60k), k-NN's new rows, layout placed; timed twice on fresh states, the faster counts (both in
  ``take_in_runs_s``); ``ratio`` = take_in_s / rebuild_s (target <= 0.2), and ``ratio_cpu`` the same in process CPU time
  (all threads), which other jobs on a shared machine disturb less than wall time; ``ratio_vs_first_build`` is
  take_in_s over ``old_graph_s`` (the process's first graph build, of the N old items only, numba's JIT included).
- recall of the new rows against exact new rows (computed by the exact growth, timed as ``grow_exact_s``), for the
  grown graph and for the rebuilt one.
Both sides run as the app runs them: numpy's huge-page advice off (aldesk/core/memory.py; ``--numpy-huge-pages``
keeps numpy's default). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

from aldesk.core import synthetic
from aldesk.core.maps.projection import pca_2d
from aldesk.core.memory import no_huge_page_advice
from aldesk.core.model.knn import IncrementalKNN
from aldesk.core.neighbours import builder, store
from aldesk.core.neighbours.grow import grow_knn_graph, recall
from aldesk.core.neighbours.pool import PoolState, take_in


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--new", type=int, default=10_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--labels", type=int, default=200)
    ap.add_argument(
        "--skip-exact", action="store_true", help="no exact reference for the recall (saves minutes)"
    )
    ap.add_argument(
        "--numpy-huge-pages",
        action="store_true",
        help="keep numpy's huge-page advice (the app and the CLI turn it off: aldesk/core/memory.py)",
    )
    args = ap.parse_args()
    huge_pages = "numpy's default" if args.numpy_huge_pages else "off, as in the app"
    if not args.numpy_huge_pages and not no_huge_page_advice():
        huge_pages = f"as the environment says ({os.environ.get('NUMPY_MADVISE_HUGEPAGE')})"
    n, m = args.n, args.new
    X, y = synthetic.clustered(n + m, args.dim, 50, seed=0)
    out: dict = {
        "n": n,
        "new": m,
        "dim": args.dim,
        "labels": args.labels,
        "load_avg_start": os.getloadavg()[0],
        "numpy_huge_page_advice": huge_pages,
    }
    lab = np.random.default_rng(1).choice(n, args.labels, replace=False)

    t = time.perf_counter()
    g_old = builder.knn_graph(X[:n], builder.DENSITY_K)
    out["old_graph_s"] = round(time.perf_counter() - t, 2)  # includes pynndescent's JIT above 60k
    old_elig = np.ones(n, bool)
    old_graph = store.expand_compact(g_old, np.arange(n), n)

    def rebuild() -> tuple[tuple[np.ndarray, np.ndarray], IncrementalKNN, float, float]:
        t, c = time.perf_counter(), time.process_time()
        g = builder.knn_graph(X, builder.DENSITY_K)
        knn_r = IncrementalKNN(X, 10)
        knn_r.add_many(lab, y[lab])
        pca_2d(X)
        return g, knn_r, time.perf_counter() - t, time.process_time() - c

    # the rebuild as the app runs it (default threads), and with one BLAS thread as the probe runs (its mat-muls
    # too may gain on a loaded machine): the ratio is taken against the faster of the two
    g_re, knn_re, wall, cpu = rebuild()
    with threadpool_limits(limits=1, user_api="blas"):
        _, _, wall1, cpu1 = rebuild()
    out["rebuild_default_threads_s"] = round(wall, 2)
    out["rebuild_one_blas_thread_s"] = round(wall1, 2)
    out["rebuild_s"] = round(min(wall, wall1), 2)
    out["rebuild_cpu_s"] = round(min(cpu, cpu1), 2)

    # take_in twice too, each on a fresh state (it grows the k-NN in place): the faster counts, as for the rebuild
    runs = []
    for _ in range(2):
        knn = IncrementalKNN(X[:n], 10)
        knn.add_many(lab, y[lab])
        state = PoolState(old_elig, old_graph, knn, pca_2d(X[:n]))
        t, c = time.perf_counter(), time.process_time()
        new = take_in(state, X, n)
        runs.append((time.perf_counter() - t, time.process_time() - c))
    out["take_in_runs_s"] = [round(w, 2) for w, _ in runs]
    out["take_in_s"] = round(min(w for w, _ in runs), 2)
    out["take_in_cpu_s"] = round(min(c for _, c in runs), 2)
    out["ratio"] = round(out["take_in_s"] / out["rebuild_s"], 3)
    out["ratio_cpu"] = round(out["take_in_cpu_s"] / out["rebuild_cpu_s"], 3)
    # against the first pynndescent build in a process (numba's JIT, or loading its cache): what a rebuild costs in
    # an app that has not built a graph this session (a reopened project loads its graph from the store)
    out["ratio_vs_first_build"] = round(out["take_in_s"] / out["old_graph_s"], 4)
    p_new, p_re = knn.probabilities(50), knn_re.probabilities(50)
    out["knn_state_max_abs_diff"] = float(np.abs(p_new - p_re).max())

    if not args.skip_exact:
        t = time.perf_counter()
        g_exact = grow_knn_graph(X[:n], *g_old, X[n:], method="exact")
        out["grow_exact_s"] = round(time.perf_counter() - t, 2)
        assert new.graph is not None
        out["recall_new_rows_grown"] = round(
            recall(new.graph.indices[n:].astype(np.int64), g_exact[0][n:]), 4
        )
        out["recall_new_rows_rebuilt"] = round(recall(g_re[0][n:], g_exact[0][n:]), 4)
    out["load_avg_end"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
