"""The graph growth of two versions of ``aldesk/core/neighbours/grow.py`` on the same data, in turn, one process.

    git show 386035b:aldesk/core/neighbours/grow.py > /tmp/grow_before.py
    NUMBA_CACHE_DIR=/tmp/numba python benchmarks/grow_compare.py /tmp/grow_before.py [--repeats 2] [--old-graph F]

100k old + 10k new synthetic items (as benchmarks/grow.py); the old graph is pynndescent's (stored in
``--old-graph``, an .npz, so that a second run skips its build). Each repeat times ``grow_joined`` of the given file,
then of this tree's; prints one JSON object: wall and CPU seconds of each, and how much of the other's graph each
one's has (1.0: the same graph).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time
from pathlib import Path

import numpy as np

from aldesk.core import synthetic
from aldesk.core.neighbours import builder
from aldesk.core.neighbours import grow as current


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("before", type=Path)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--old-graph", type=Path, default=Path("/tmp/aldesk-grow-old-graph.npz"))
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location("grow_before", args.before)
    assert spec is not None and spec.loader is not None
    before = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(before)
    n, m = 100_000, 10_000
    X, _ = synthetic.clustered(n + m, 384, 50, seed=0)
    if args.old_graph.exists():
        z = np.load(args.old_graph, allow_pickle=False)
        g_old = (z["i"], z["s"])
    else:
        g_old = builder.knn_graph(X[:n], builder.DENSITY_K)
        np.savez(args.old_graph, i=g_old[0], s=g_old[1])
    out: dict = {"load_avg_start": os.getloadavg()[0]}
    graphs = {}
    for _ in range(args.repeats):
        for name, mod in (("before", before), ("current", current)):
            t, c = time.perf_counter(), time.process_time()
            graphs[name] = mod.grow_joined(X, *g_old)
            out.setdefault(f"{name}_wall_s", []).append(round(time.perf_counter() - t, 2))
            out.setdefault(f"{name}_cpu_s", []).append(round(time.process_time() - c, 2))
    out["same_graph"] = round(current.recall(graphs["current"][0], graphs["before"][0]), 5)
    out["load_avg_end"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
