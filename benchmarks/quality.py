"""What the label-quality features cost, against the app's per-label cost (one N x d mat-vec), in one run.

    .venv/bin/python benchmarks/quality.py [--n 100000] [--dim 384] [--labels 200,1000,5000]

Per label count: the stopping signal (``session_signal``: run after each labeling pause, on the GUI thread, by
the Accuracy tab), the review queue (``session_queue``: in the task runner) and one mat-vec; medians of
``--repeat`` runs. Prints JSON; the ratios are what count on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from aldesk.core import synthetic
from aldesk.core.labeling.session import Session
from aldesk.core.quality.review import session_queue
from aldesk.core.quality.stopping import session_signal


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(float(np.median(times)), 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--labels", default="200,1000,5000")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    X, y = synthetic.clustered(args.n, args.dim, 20, seed=0)
    out = {"n": args.n, "dim": args.dim, "load_1min": round(os.getloadavg()[0], 2), "rows": []}
    matvec = median_ms(lambda: X @ X[0], args.repeat)
    for n_labels in (int(v) for v in args.labels.split(",")):
        s = Session(X, [f"c{c}" for c in range(20)], k=10)
        idx = np.random.default_rng(1).choice(args.n, n_labels, replace=False)
        s.knn.add_many(idx, y[idx])
        stop = median_ms(lambda s=s: session_signal(s), args.repeat)
        queue = median_ms(lambda s=s: session_queue(s), max(1, args.repeat // 2))
        out["rows"].append(
            {
                "labels": n_labels,
                "stopping_ms": stop,
                "review_queue_ms": queue,
                "matvec_ms": matvec,
                "stopping_per_matvec": round(stop / matvec, 2),
            }
        )
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
