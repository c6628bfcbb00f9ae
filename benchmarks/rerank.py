"""Re-rank after one label vs one pool x d mat-vec, in the same run.

    python benchmarks/rerank.py --n 100000 --dim 384 [--labels 50] [--k 10] [--strategy eer]

Runs a labeling session on synthetic clustered embeddings (the top candidate gets its cluster's label each step)
and prints one JSON object: rerank_ms_median/p95 (label + new candidates: k-NN update, probabilities, measures,
CDFs, top-n), matvec_ms_median (one N x d float32 mat-vec) and their ratio.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from aldesk.core.labeling.session import Session


def clustered(n: int, d: int, n_clusters: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    from aldesk.core.synthetic import clustered as generate  # the generator the tests share

    return generate(n, d, n_clusters, spread=1.2, seed=seed)


def neighbour_graph(
    X: np.ndarray, y: np.ndarray, g: int = 10, seed: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """A stand-in for the whole-pool k-NN graph at the cost of a few mat-vecs: g random items of the same cluster
    per item, with their true similarities. What "eer" costs depends on the graph's shape, not on its quality, and
    the exact graph of 1M items takes far longer to build than this benchmark should run."""
    rng = np.random.default_rng(seed)
    idx = np.empty((X.shape[0], g), dtype=np.int32)
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        idx[members] = members[rng.integers(members.size, size=(members.size, g))]
    sims = np.empty(idx.shape, dtype=np.float32)
    for start in range(0, X.shape[0], 65536):
        sl = slice(start, min(X.shape[0], start + 65536))
        sims[sl] = np.einsum("nd,ngd->ng", X[sl], X[idx[sl]])
    return idx, sims


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--labels", type=int, default=40)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--classes", type=int, default=5)
    ap.add_argument("--strategy", default="uid")
    ap.add_argument(
        "--start-labels",
        type=int,
        default=0,
        help="label this many random items first (untimed): the cost later in a session",
    )
    args = ap.parse_args()

    X, y = clustered(args.n, args.dim)
    classes = [f"c{i}" for i in range(args.classes)]
    graph = neighbour_graph(X, y) if "eer" in args.strategy else None
    t0 = time.perf_counter()
    s = Session(
        X,
        classes,
        k=args.k,
        strategy=args.strategy,
        density=np.random.default_rng(1).random(args.n),
        graph=graph,
    )
    setup_ms = (time.perf_counter() - t0) * 1e3

    v = X[0].copy()
    matvec = []
    for _ in range(max(10, args.labels // 2)):
        t = time.perf_counter()
        _ = X @ v
        matvec.append((time.perf_counter() - t) * 1e3)

    for i in np.random.default_rng(3).choice(args.n, args.start_labels, replace=False):
        s.label(int(i), classes[y[i] % args.classes])
    s.candidates()  # first ranking (cold start)
    rerank = []
    for _ in range(args.labels):
        c = s.candidates(1)[0]
        t = time.perf_counter()
        s.label(c.index, classes[y[c.index] % args.classes])
        s.candidates()
        rerank.append((time.perf_counter() - t) * 1e3)
        # interleave mat-vecs so both see the same machine load
        t = time.perf_counter()
        _ = X @ v
        matvec.append((time.perf_counter() - t) * 1e3)

    t = time.perf_counter()
    s.undo()
    s.candidates()
    undo_ms = (time.perf_counter() - t) * 1e3

    med = float(np.median(rerank))
    mv = float(np.median(matvec))
    print(
        json.dumps(
            {
                "n": args.n,
                "dim": args.dim,
                "k": args.k,
                "labels": args.labels,
                "strategy": args.strategy,
                "start_labels": args.start_labels,
                "rerank_ms_median": round(med, 3),
                "rerank_ms_p95": round(float(np.percentile(rerank, 95)), 3),
                "matvec_ms_median": round(mv, 3),
                "ratio_rerank_to_matvec": round(med / mv, 2),
                "undo_ms": round(undo_ms, 3),
                "session_setup_ms": round(setup_ms, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
