"""Recall of the new rows when a graph grows by the probe method, on real embeddings (issue 14.3).

    python benchmarks/grow_recall.py /tmp/aldesk-eval/rt_full.csv [--new-share 0.0909] [--n-probe 12]

The data is embedded with the project's default card (cached per user: a second run does not re-embed). The last
``--new-share`` of the items play the new ones: the old items' graph is exact, the new rows are grown with
``method="probe"`` (forced: below 60k items the app grows exactly) and compared with the exact growth; so is the
graph a rebuild would make instead (pynndescent over all the items, as the app builds above 60k items; its numba
JIT is paid before it is timed). Prints one JSON object: recall of the new rows and of all rows for both, and the
times.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from aldesk.core.embed import embed_dataset
from aldesk.core.embed.choose import choose_card
from aldesk.core.neighbours import builder
from aldesk.core.neighbours.grow import grow_knn_graph, recall
from aldesk.core.sources import load_source


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("data", type=Path)
    ap.add_argument("--new-share", type=float, default=1 / 11)
    ap.add_argument("--n-probe", type=int, default=None)
    args = ap.parse_args()
    ds = load_source(args.data)
    res = embed_dataset(ds, choose_card(ds))
    X = np.ascontiguousarray(res.vectors[res.ok], dtype=np.float32)
    n = X.shape[0]
    m = int(round(n * args.new_share))
    n_old = n - m
    old = builder.knn_graph(X[:n_old], builder.DENSITY_K, method="exact")
    t = time.perf_counter()
    exact = grow_knn_graph(X[:n_old], *old, X[n_old:], method="exact")
    t_exact = time.perf_counter() - t
    kw = {} if args.n_probe is None else {"n_probe": args.n_probe}
    t = time.perf_counter()
    probe = grow_knn_graph(X[:n_old], *old, X[n_old:], method="probe", **kw)
    t_probe = time.perf_counter() - t
    builder.knn_graph(X[:2000], builder.DENSITY_K, method="nndescent")  # numba's JIT, not timed
    t = time.perf_counter()
    rebuilt = builder.knn_graph(X, builder.DENSITY_K, method="nndescent")
    t_rebuild = time.perf_counter() - t
    out = {
        "data": str(args.data),
        "model": res.model_id,
        "n_old": n_old,
        "new": m,
        "recall_new_rows": round(recall(probe[0][n_old:], exact[0][n_old:]), 4),
        "recall_all_rows": round(recall(probe[0], exact[0]), 4),
        "rebuilt_recall_new_rows": round(recall(rebuilt[0][n_old:], exact[0][n_old:]), 4),
        "rebuilt_recall_all_rows": round(recall(rebuilt[0], exact[0]), 4),
        "probe_s": round(t_probe, 3),
        "exact_s": round(t_exact, 3),
        "rebuild_s": round(t_rebuild, 3),
        "load_avg": os.getloadavg()[0],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
