"""Whole-pool k-NN graph for density: exact chunked numpy vs pynndescent, build time and recall.

    python benchmarks/density.py --n 100000 --dim 384 [--k 10] [--skip-exact]

Clustered synthetic data (not uniform random, where every method looks alike). Prints one JSON object. pynndescent's
time is split into the first call in this process (numba JIT + build) and a second build (build only), since the
app pays the JIT once per process. Recall = fraction of the exact k neighbours that the approximate graph found;
density error = mean |approx - exact| of the k-NN density.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from rerank import clustered

from aldesk.core.neighbours.builder import knn_graph


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--skip-exact", action="store_true")
    args = ap.parse_args()
    X, _ = clustered(args.n, args.dim, n_clusters=50)
    out: dict = {"n": args.n, "dim": args.dim, "k": args.k}

    t = time.perf_counter()
    idx_a, sim_a = knn_graph(X, args.k, method="nndescent")
    out["nndescent_first_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    idx_a, sim_a = knn_graph(X, args.k, method="nndescent", seed=1)
    out["nndescent_build_s"] = round(time.perf_counter() - t, 2)

    if not args.skip_exact:
        t = time.perf_counter()
        idx_e, sim_e = knn_graph(X, args.k, method="exact")
        out["exact_s"] = round(time.perf_counter() - t, 2)
        hits = sum(len(np.intersect1d(a, e, assume_unique=True)) for a, e in zip(idx_a, idx_e, strict=True))
        out["recall"] = round(hits / idx_e.size, 4)
        out["density_mean_abs_error"] = float(np.abs(sim_a.mean(axis=1) - sim_e.mean(axis=1)).mean())
        # what matters for ranking: do the density CDFs agree?
        ra = np.argsort(np.argsort(sim_a.mean(axis=1)))
        re = np.argsort(np.argsort(sim_e.mean(axis=1)))
        out["density_rank_corr"] = round(float(np.corrcoef(ra, re)[0, 1]), 4)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
