"""Open a 1M-item text project the way the app does, in a fresh process: time per step and peak RSS.

    python benchmarks/open_1m.py [--n 1000000] [--dir /tmp/aldesk-open-1m] [--rebuild] [--labels 0]

Build (once, cached in ``--dir``): synthetic short unique texts -> ``Project.create``; an embedding cache for the
bundled text model filled through ``EmbeddingCache.put`` with random unit vectors, in pipeline-sized batches,
then ``compact()`` (the shard layout a real embedding run leaves). No ONNX: every item is a cache hit.

Measure (always in a NEW Python process, so nothing is warm but the OS page cache): the steps of
``aldesk/ui/opening/opening.py`` in order — Project.open, dataset(), embed_dataset (all hits), set_hashes,
open_session, first candidates() — and ``ru_maxrss`` (peak RSS, which counts the memory-mapped cache pages
that were touched). Prints one JSON object; ``--drop-vectors-check`` skips the sanity check that the vectors
came back right. ``--labels L`` opens a copy of the project with L labels already given (journaled as single
labels), to see what reopening a project with labels costs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "xray",
    "yankee",
    "zulu",
    "red",
    "green",
    "blue",
    "cheap",
    "broken",
    "great",
    "awful",
    "fast",
    "slow",
]


def texts(n: int, seed: int = 0) -> list[str]:
    """Short unique texts (~50 characters), like product reviews or tweets."""
    rng = np.random.default_rng(seed)
    w = rng.integers(len(WORDS), size=(n, 6))
    return [f"#{i} " + " ".join(WORDS[j] for j in row) for i, row in enumerate(w.tolist())]


def unit_vectors(n: int, d: int, seed: int, start: int = 0) -> np.ndarray:
    rng = np.random.default_rng([seed, start])
    v = rng.standard_normal((n, d), dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


def build(root: Path, n: int) -> None:
    from aldesk.core.dataset import Dataset
    from aldesk.core.embed.cache import EmbeddingCache
    from aldesk.core.embed.cards import default_card
    from aldesk.core.project import Project

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    card = default_card("text")
    t = time.perf_counter()
    keys = texts(n)
    csv = root / "items.csv"
    csv.write_text("text\n")  # only the project's root; the texts live in the project file
    ds = Dataset("text", csv, keys)
    Project.create(root / "big.aldesk", ds, ["neg", "pos"], model_id=card.id).close()
    t_create = time.perf_counter() - t
    t = time.perf_counter()
    batch = 4096  # = flush_rows: one shard per put, as a long embedding run leaves them before compact()
    with EmbeddingCache(root / "cache", card.id, card.dim, card.fingerprint) as cache:
        for s in range(0, n, batch):
            chunk = keys[s : s + batch]
            digests = [hashlib.sha1(k.encode("utf-8", "surrogatepass")).hexdigest() for k in chunk]
            cache.put(digests, unit_vectors(len(chunk), card.dim, 7, s))
        cache.compact()
    print(
        json.dumps(
            {
                "built": str(root),
                "n": n,
                "create_s": round(t_create, 2),
                "cache_fill_s": round(time.perf_counter() - t, 2),
            }
        ),
        file=sys.stderr,
    )


def with_labels(root: Path, n_labels: int) -> Path:
    """A copy of the built project with ``n_labels`` single labels in its log (made once)."""
    from aldesk.core.labeling.actions import Action
    from aldesk.core.project import Project

    path = root / f"big-L{n_labels}.aldesk"
    if not path.exists():
        tmp = root / f".{path.name}.tmp"
        shutil.copy(root / "big.aldesk", tmp)
        items = np.random.default_rng(3).choice(Project.open(tmp).n_items, n_labels, replace=False)
        with Project.open(tmp) as p:
            p.journal_many(
                [
                    Action("label", (int(i),), ("neg", "pos")[j % 2], (None,), seq=j)
                    for j, i in enumerate(items)
                ]
            )
        for b in root.glob(".*.backups"):
            shutil.rmtree(b, ignore_errors=True)
        os.replace(tmp, path)
    return path


def measure(root: Path, check: bool, project: str = "big.aldesk") -> dict:
    """The app's open path, step by step (run in a fresh process)."""
    t_all = time.perf_counter()
    steps: dict[str, float] = {}

    def step(name: str, t0: float) -> float:
        now = time.perf_counter()
        steps[name] = round(now - t0, 3)
        return now

    t = time.perf_counter()
    from aldesk.core.embed import embed_dataset
    from aldesk.core.project import Project

    t = step("import_s", t)
    p = Project.open(root / project)
    t = step("project_open_s", t)
    ds = p.dataset()
    t = step("dataset_s", t)
    res = embed_dataset(ds, cache_dir=root / "cache")
    t = step("embed_dataset_s", t)
    p.set_hashes(res.hashes)
    t = step("set_hashes_s", t)
    session = p.open_session(res.vectors, eligible=res.ok)
    t = step("open_session_s", t)
    session.candidates()
    t = step("first_candidates_s", t)
    total = time.perf_counter() - t_all
    out = {
        "n": len(ds),
        "labels": session.n_labeled,
        "dim": int(res.vectors.shape[1]),
        "n_cached": res.n_cached,
        "n_computed": res.n_computed,
        "vectors_dtype": str(res.vectors.dtype),
        "vectors_type": type(res.vectors).__name__,
        "open_total_s": round(total, 3),
        **steps,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if check:
        for i in (0, len(ds) // 2, len(ds) - 1):
            s = i - i % 4096
            want = unit_vectors(min(4096, len(ds) - s), out["dim"], 7, s)[i - s]
            assert np.allclose(res.vectors[i], want), f"vector of item {i} is wrong"
        out["vectors_check"] = "ok"
    p.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/aldesk-open-1m"))
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--repeat", type=int, default=1, help="fresh processes to run (figures of each)")
    ap.add_argument("--labels", type=int, default=0, help="labels already in the project")
    ap.add_argument("--drop-vectors-check", action="store_true")
    ap.add_argument("--_measure", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    root = args.dir.absolute()
    if args._measure:
        print(json.dumps(measure(root, not args.drop_vectors_check, args._measure)))
        return
    stamp = root / f"built-{args.n}"
    if args.rebuild or not stamp.exists():
        build(root, args.n)
        stamp.touch()
    project = with_labels(root, args.labels).name if args.labels else "big.aldesk"
    cmd = [sys.executable, __file__, "--_measure", project, "--dir", str(root)]
    if args.drop_vectors_check:
        cmd.append("--drop-vectors-check")
    for _ in range(args.repeat):
        load = os.getloadavg()
        out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        out["loadavg_before"] = [round(x, 2) for x in load]
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
