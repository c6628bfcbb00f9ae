"""Reopening a labeled session: rebuild of the k-NN state vs the stored neighbour slots, in the same run.

    python benchmarks/reopen.py --n 1000000 --dim 384 --labels 1000

Prints one JSON object: restore_rebuild_s (N x L x d block recomputation), restore_stored_s (load the slots from
disk + one pass over them), and their ratio. The app stores the slots when a project closes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from rerank import clustered

from aldesk.core.labeling.actions import Action
from aldesk.core.labeling.session import Session
from aldesk.core.neighbours.store import knn_state_key, load_knn_state, save_knn_state


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--labels", type=int, default=1000)
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()
    X, y = clustered(args.n, args.dim)
    classes = [f"c{i}" for i in range(5)]
    items = np.random.default_rng(3).choice(args.n, args.labels, replace=False)
    labels = {int(i): classes[y[i] % 5] for i in items}
    log = [Action("label", (i,), c, (None,), seq=s) for s, (i, c) in enumerate(labels.items())]

    t = time.perf_counter()
    slow = Session(X, classes, k=args.k)
    slow.restore(labels, [], log)
    rebuild = time.perf_counter() - t

    root = Path(tempfile.mkdtemp())
    key = knn_state_key("bench", slow.knn.labeled, args.k)
    t = time.perf_counter()
    save_knn_state(slow.knn.nbr, slow.knn.sim, key, root)
    save = time.perf_counter() - t

    t = time.perf_counter()
    fast = Session(X, classes, k=args.k)
    fast.restore(
        labels,
        [],
        log,
        slots=lambda lab: load_knn_state(knn_state_key("bench", lab, args.k), args.n, args.k, root),
    )
    stored = time.perf_counter() - t
    same = [c.index for c in fast.candidates(20)] == [c.index for c in slow.candidates(20)]
    print(
        json.dumps(
            {
                "n": args.n,
                "dim": args.dim,
                "labels": args.labels,
                "k": args.k,
                "restore_rebuild_s": round(rebuild, 2),
                "restore_stored_s": round(stored, 2),
                "save_state_s": round(save, 2),
                "ratio": round(stored / rebuild, 3),
                "same_candidates": same,
                "load_average_1min": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
