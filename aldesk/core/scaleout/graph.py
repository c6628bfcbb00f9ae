"""``aldesk graph``: the whole-pool k-NN graph of a vectors table, exact, blocked over row ranges.

Each block of rows is one matrix product against every vector and a top-k per row, with no dependence between
blocks: it parallelises perfectly, locally (one block after another, numpy's threads) or as Ray tasks sharing the
vectors through the object store. Written as a graph folder: ``rows.parquet`` (the table's ``sha1`` in row order,
the id of every row), parts of (``row``, ``indices``, ``similarities``) with the k most similar *other* rows in
descending order, and ``graph.json`` (k, the table's model, the row count). :mod:`.load` maps it onto a project's
items by content hash.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aldesk.core.atomic import atomic_file, fsync_dir
from aldesk.core.neighbours.builder import _top_k_rows
from aldesk.core.progress import CancelFn, ProgressFn, UserError, check
from aldesk.core.scaleout import table

FORMAT = "aldesk-graph/1"
META = "graph.json"
ROWS = "rows.parquet"
BLOCK = 2048


@dataclass
class GraphReport:
    graph: str
    engine: str
    rows: int
    k: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def block_top_k(V: np.ndarray, lo: int, hi: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``lo:hi``: the k most similar other rows of V, most similar first (indices int32, sims float32)."""
    S = V[lo:hi] @ V.T
    S[np.arange(hi - lo), np.arange(lo, hi)] = -np.inf  # not its own neighbour
    top = _top_k_rows(S, k)
    sims = np.take_along_axis(S, top, axis=1)
    order = np.argsort(-sims, axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1).astype(np.int32), np.take_along_axis(sims, order, axis=1)


def _write_block(folder: Path, lo: int, idx: np.ndarray, sims: np.ndarray) -> None:
    pa = table.pyarrow()
    n, k = idx.shape
    t = pa.table(
        {
            "row": pa.array(np.arange(lo, lo + n, dtype=np.int64)),
            "indices": pa.FixedSizeListArray.from_arrays(pa.array(idx.reshape(-1), type=pa.int32()), k),
            "similarities": pa.FixedSizeListArray.from_arrays(
                pa.array(sims.reshape(-1).astype(np.float32), type=pa.float32()), k
            ),
        }
    )
    target = folder / f"{table.PART_PREFIX}{lo:012d}-{secrets.token_hex(4)}{table.PART_SUFFIX}"
    with atomic_file(target, "wb") as f:
        pa.parquet.write_table(t, f)


def run_graph(
    vectors_table: Path,
    out: Path,
    *,
    k: int = 10,
    engine: str = "local",
    workers: int = 2,
    address: str | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> GraphReport:
    t0 = time.perf_counter()
    man = table.read_manifest(vectors_table)
    whole = table.read_all(vectors_table, man.dim)
    n = len(whole.items)
    if n < 2:
        raise UserError(f"{vectors_table} holds {n} vectors: a neighbour graph needs at least 2.")
    if k < 1:
        raise UserError("--k must be at least 1.")
    k = min(k, n - 1)
    out = Path(out)
    if out.is_symlink() or (out.exists() and (not out.is_dir() or any(out.iterdir()))):
        raise UserError(f"{out} exists: the graph goes into a new, empty folder.")
    real_out = Path(os.path.realpath(out))
    if real_out == Path(os.path.realpath(vectors_table)) or real_out.is_relative_to(
        os.path.realpath(vectors_table)
    ):
        raise UserError(f"{out} is inside the vectors table: choose another folder.")
    out.mkdir(parents=True, exist_ok=True)
    pa = table.pyarrow()
    pa.parquet.write_table(pa.table({"sha1": pa.array(whole.sha1, type=pa.string())}), out / ROWS)
    blocks = [(lo, min(n, lo + BLOCK)) for lo in range(0, n, BLOCK)]
    V = whole.vectors
    if engine == "local":
        for j, (lo, hi) in enumerate(blocks):
            check(cancel)
            idx, sims = block_top_k(V, lo, hi, k)
            _write_block(out, lo, idx, sims)
            if progress is not None:
                progress((j + 1) / len(blocks), f"Neighbours of {hi:,} / {n:,} rows")
    elif engine == "ray":
        from aldesk.core.scaleout.embed import ray_init

        ray = ray_init(address, workers)

        @ray.remote(num_cpus=1, max_retries=3)
        def one(V: np.ndarray, lo: int, hi: int) -> int:
            idx, sims = block_top_k(V, lo, hi, k)
            _write_block(out, lo, idx, sims)
            return hi - lo

        ref = ray.put(V)
        pending = [one.remote(ref, lo, hi) for lo, hi in blocks]
        done = 0
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            done += ray.get(ready[0])
            if progress is not None:
                progress(done / n, f"Neighbours of {done:,} / {n:,} rows on Ray")
    else:
        raise UserError(f"Unknown engine {engine!r}: use local or ray.")
    meta = {"format": FORMAT, "k": k, "rows": n, "model_id": man.model_id, "fingerprint": man.fingerprint}
    with atomic_file(
        out / META, "w", encoding="utf-8"
    ) as f:  # written last: a graph without it is incomplete
        json.dump(meta, f, indent=1)
    fsync_dir(out)
    return GraphReport(str(out), engine, n, k, round(time.perf_counter() - t0, 2))


def read_graph(folder: Path) -> tuple[dict[str, Any], list[str], np.ndarray, np.ndarray]:
    """(meta, sha1 of each row, indices (n, k) int32, similarities (n, k) float32) of a complete graph folder."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{folder} is not a complete aldesk graph (no {META}).") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{folder / META} cannot be read: {exc}") from None
    if meta.get("format") != FORMAT:
        raise UserError(f"{folder} is not an aldesk graph (format {meta.get('format')!r}).")
    pa = table.pyarrow()
    sha1 = pa.parquet.read_table(folder / ROWS).column("sha1").to_pylist()
    n, k = int(meta["rows"]), int(meta["k"])
    idx = np.full((n, k), -1, np.int32)
    sims = np.full((n, k), -np.inf, np.float32)
    for part in table.parts(folder):
        t = pa.parquet.read_table(part)
        rows = t.column("row").to_numpy()
        idx[rows] = t.column("indices").combine_chunks().flatten().to_numpy().reshape(len(rows), k)
        sims[rows] = t.column("similarities").combine_chunks().flatten().to_numpy().reshape(len(rows), k)
    if len(sha1) != n or (idx < 0).any():
        raise UserError(f"{folder} is incomplete: rerun aldesk graph into a new folder.")
    return meta, sha1, idx, sims
