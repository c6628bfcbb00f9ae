"""Worker for the rescan kill -9 test (test_rescan_kill): opens a text project, plans a rescan of its CSV, prints
"PLANNED", applies it (one transaction) and prints "DONE", flushing each line, until it is killed. Imports no
ONNX: a rescan never embeds."""

from __future__ import annotations

import sys
import time

from aldesk.core.project import Project
from aldesk.core.project.rescan import apply, plan_rescan


def main(path: str) -> None:
    p = Project.open(path)
    plan = plan_rescan(p)
    sys.stdout.write(f"PLANNED {len(plan.new_keys)} {len(plan.missing)}\n")
    sys.stdout.flush()
    t0 = time.perf_counter()
    apply(p, plan)
    sys.stdout.write(f"DONE {time.perf_counter() - t0:.4f}\n")
    sys.stdout.flush()
    p.close()


if __name__ == "__main__":
    main(sys.argv[1])
