"""Scale-out throughput and the laptop side of a large table, in one run.

    python benchmarks/scaleout.py [--images 400] [--rows 1000000] [--skip-import]

1. ``aldesk embed`` throughput on real Fashion-MNIST images (Debian dataset-fashion-mnist), the same items each
   time: the local engine, then a local Ray cluster with 1 and with 2 actors (one ONNX Runtime session each).
   Scaling efficiency = throughput(2 actors) / (2 x throughput(1 actor)); ray(1) / local is the engine's overhead.
2. ``aldesk import-vectors`` of a ROWS x 384 table (synthetic unit vectors, parts of 65,536 rows) into a project of
   ROWS text items, in a fresh process: seconds and peak RSS (``ru_maxrss``).

Prints one JSON object with the load average before and after.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FASHION = Path("/usr/share/datasets/fashion-mnist")


def _images(root: Path, n: int) -> Path:
    from PIL import Image

    with gzip.open(FASHION / "t10k-images-idx3-ubyte.gz") as fh:
        imgs = np.frombuffer(fh.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)[:n]
    root.mkdir(parents=True)
    for k, img in enumerate(imgs):
        Image.fromarray(255 - img).save(root / f"fm_{k:05d}.png")
    return root


def _throughput(src: Path, work: Path, n: int) -> dict:
    import ray

    from aldesk.core.scaleout.embed import run_embed

    out: dict[str, float] = {}
    t = time.perf_counter()
    run_embed(src, work / "local.vec", engine="local", batch=64)
    out["local_items_per_s"] = round(n / (time.perf_counter() - t), 1)
    for workers in (1, 2):
        ray.init(
            num_cpus=workers, include_dashboard=False, log_to_driver=False, object_store_memory=200 * 2**20
        )
        try:
            # the actors' start (ONNX session, imports) is part of a job's cost on a cluster too; a warm-up job on
            # a few items would hide it, so it is counted
            t = time.perf_counter()
            run_embed(src, work / f"ray{workers}.vec", engine="ray", batch=64, workers=workers)
            out[f"ray_{workers}_items_per_s"] = round(n / (time.perf_counter() - t), 1)
        finally:
            ray.shutdown()
    out["scaling_efficiency_2_vs_1"] = round(out["ray_2_items_per_s"] / (2 * out["ray_1_items_per_s"]), 3)
    out["ray_1_vs_local"] = round(out["ray_1_items_per_s"] / out["local_items_per_s"], 3)
    return out


def _make_table(work: Path, rows: int) -> tuple[Path, Path]:
    from aldesk.core.dataset import Dataset
    from aldesk.core.embed import default_card
    from aldesk.core.embed.pipeline import _text_hash
    from aldesk.core.project import Project
    from aldesk.core.scaleout import table

    card = default_card("text")
    keys = [f"item {i:07d} of the large pool" for i in range(rows)]
    csv = work / "big.csv"
    csv.write_text("text\n" + "\n".join(keys) + "\n")
    project = work / "big.aldesk"
    Project.create(project, Dataset("text", csv, keys), ["a", "b"], model_id=card.id).close()
    folder = work / "big.vec"
    table.prepare_folder(folder, table.Manifest(card.id, card.fingerprint, card.dim, "text"))
    rng = np.random.default_rng(0)
    step = 65536
    for lo in range(0, rows, step):
        part = keys[lo : lo + step]
        v = rng.standard_normal((len(part), card.dim), dtype=np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        table.write_part(folder, part, [_text_hash(k) for k in part], v)
    return project, folder


def _child_import(project: str, folder: str, cache: str) -> None:
    from aldesk.app.import_vectors import import_vectors

    t = time.perf_counter()
    rep = import_vectors(Path(project), Path(folder), cache_dir=Path(cache))
    print(
        json.dumps(
            {
                "seconds": round(time.perf_counter() - t, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "in_table": rep.in_table,
                "cached_new": rep.cached_new,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=400)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--skip-import", action="store_true")
    ap.add_argument("--_child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._child:
        _child_import(*args._child)
        return
    load0 = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="aldesk-scaleout-"))
    os.environ["XDG_CACHE_HOME"] = str(work / "xdg-cache")
    result: dict = {"cpus": os.cpu_count(), "images": args.images}
    try:
        result["embed"] = _throughput(_images(work / "photos", args.images), work, args.images)
        if not args.skip_import:
            t = time.perf_counter()
            project, folder = _make_table(work, args.rows)
            result["table_build_s"] = round(time.perf_counter() - t, 1)
            proc = subprocess.run(
                [sys.executable, __file__, "--_child", str(project), str(folder), str(work / "cache")],
                capture_output=True,
                text=True,
                check=True,
            )
            result["import_vectors"] = {
                "rows": args.rows,
                "dim": 384,
                **json.loads(proc.stdout.splitlines()[-1]),
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["load_1min_before"] = round(load0, 2)
    result["load_1min_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
