"""What a rescan costs: listing a grown image folder, comparing it with the project's items, writing the change.

    python benchmarks/rescan_cost.py [--items 20000] [--new 2000] [--no-hashes]

Files are tiny (a few bytes: the cost measured is the walk, the hashing and SQLite, not the disk) on a temporary
folder (``/dev/shm`` where it exists). ``listing_s`` is the folder walk alone (what the open-time check adds at
least); ``nothing_new_s`` a rescan that finds nothing; ``plan_s`` a rescan finding ``--new`` files (each hashed,
to know a renamed or copied file); ``apply_s`` its one transaction. With ``--no-hashes`` the project was never
embedded (made by ``aldesk init``), so the old items are hashed too, to know a copy. No model runs: a rescan never
embeds. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from aldesk.core.embed.image import read_and_hash
from aldesk.core.project import Project
from aldesk.core.project.rescan import apply, plan_rescan
from aldesk.core.sources import load_source


def _write(data: Path, lo: int, hi: int) -> None:
    for i in range(lo, hi):
        (data / f"c{i % 10}" / f"{i}.png").write_bytes(b"png %d" % i)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=20000)
    ap.add_argument("--new", type=int, default=2000)
    ap.add_argument("--no-hashes", action="store_true")
    args = ap.parse_args()
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    tmp = Path(tempfile.mkdtemp(prefix="aldesk-rescan-", dir=base))
    try:
        data = tmp / "data"
        for c in range(10):
            (data / f"c{c}").mkdir(parents=True)
        _write(data, 0, args.items)
        t0 = time.perf_counter()
        ds = load_source(data)
        listing = time.perf_counter() - t0
        with Project.create(tmp / "p.aldesk", ds, ["a"], model_id="bench") as p:
            if not args.no_hashes:  # as after the first open in the app
                p.set_hashes([read_and_hash(data / k)[1] for k in ds.keys])
            t0 = time.perf_counter()
            plan_rescan(p)
            nothing = time.perf_counter() - t0
            _write(data, args.items, args.items + args.new)
            t0 = time.perf_counter()
            plan = plan_rescan(p)
            planned = time.perf_counter() - t0
            t0 = time.perf_counter()
            report = apply(p, plan)
            applied = time.perf_counter() - t0
        out = {
            "items": args.items,
            "new": len(report.added),
            "stored_hashes": not args.no_hashes,
            "listing_s": round(listing, 3),
            "nothing_new_s": round(nothing, 3),
            "plan_s": round(planned, 3),
            "apply_s": round(applied, 3),
        }
        print(json.dumps(out))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
