"""Merge and delete of a class, their undo, and redo (issue 13.3) vs one pool x d mat-vec, in the same run.

    python benchmarks/class_ops.py --n 100000 --dim 384 [--labels 2000] [--classes 10]

A session on synthetic clustered embeddings with ``--labels`` labels spread over ``--classes`` classes (restored
in one block, as a reopen does); then, each timed: merge of class 1 into class 0, its undo, delete of class 2, its
undo, redo of that delete. Prints one JSON object: the ms of each and its ratio to one mat-vec (label 1 item).
In memory only (no project file): the file's part is a few SQL statements per class.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from aldesk.core.labeling.session import Session
from aldesk.core.synthetic import clustered


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--labels", type=int, default=2000)
    ap.add_argument("--classes", type=int, default=10)
    args = ap.parse_args()
    X, y = clustered(args.n, args.dim, args.classes, seed=0)
    names = [f"c{i}" for i in range(args.classes)]
    s = Session(X, names)
    rng = np.random.default_rng(0)
    items = rng.choice(args.n, size=args.labels, replace=False)
    s.knn.add_many(items, (y[items] % args.classes).astype(np.int32))
    free = np.flatnonzero(s.pool_mask())

    def timed(fn) -> float:
        t0 = time.perf_counter()
        fn()
        return 1000 * (time.perf_counter() - t0)

    matvec = float(np.median([timed(lambda i=i: X @ X[i]) for i in free[:5]]))
    label = timed(lambda: s.label(int(free[0]), "c0"))
    out = {
        "n": args.n,
        "dim": args.dim,
        "labels": args.labels,
        "class_sizes": {"merged": len(s.class_items("c1")), "deleted": len(s.class_items("c2"))},
        "load_1min": os.getloadavg()[0],
        "matvec_ms": round(matvec, 1),
        "label_ms": round(label, 1),
    }
    for name, fn in (
        ("merge", lambda: s.merge_class("c1", "c0")),
        ("undo_merge", s.undo),
        ("delete", lambda: s.delete_class("c2")),
        ("undo_delete", s.undo),
        ("redo_delete", s.redo),
    ):
        ms = timed(fn)
        out[f"{name}_ms"] = round(ms, 1)
        out[f"{name}_x_matvec"] = round(ms / matvec, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
