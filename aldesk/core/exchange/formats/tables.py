"""Table exports: CSV (Python's csv, pandas, spreadsheets), JSON Lines, Parquet (pyarrow, pandas, HF datasets).

pyarrow is imported inside :func:`write_parquet` only: it is heavy, and only this export needs it.
"""

from __future__ import annotations

import json

import numpy as np

from aldesk.core.atomic import atomic_file
from aldesk.core.exchange.cells import write_csv
from aldesk.core.exchange.formats.job import Job
from aldesk.core.progress import UserError

CSV_HEADER = ("item", "label", "predicted", "confidence")


def conf_text(c: float | None) -> str:
    return "" if c is None else f"{c:.4f}"


def write_csv_rows(job: Job) -> None:
    write_csv(
        job.out,
        CSV_HEADER,
        ((r.item, r.label, r.predicted, conf_text(r.confidence)) for r in job.rows),
        bom=job.options.excel,
    )


def write_jsonl(job: Job) -> None:
    with atomic_file(job.out, encoding="utf-8", newline="\n") as f:
        f.writelines(
            json.dumps(
                {
                    "item": r.item,
                    "label": r.label,
                    "predicted": r.predicted,
                    "confidence": r.confidence,
                    "origin": r.origin,
                },
                ensure_ascii=False,
            )
            + "\n"
            for r in job.rows
        )


def write_parquet(job: Job) -> None:
    """Columns item, label, origin, time (UTC), audit, predicted, confidence; with ``vectors`` the embedding
    as ``vector``, a fixed-size list<float32> (what pyarrow, pandas and HF datasets read as an array column)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UserError("The parquet export needs pyarrow: pip install pyarrow.") from None
    rows = job.rows
    cols = {
        "item": pa.array([r.item for r in rows], pa.string()),
        "label": pa.array([r.label for r in rows], pa.string()),
        "origin": pa.array([r.origin for r in rows], pa.string()),
        "time": pa.array(
            [None if r.time is None else int(round(r.time * 1000)) for r in rows],
            pa.timestamp("ms", tz="UTC"),
        ),
        "audit": pa.array([r.audit for r in rows], pa.bool_()),
        "predicted": pa.array([r.predicted for r in rows], pa.string()),
        "confidence": pa.array([r.confidence for r in rows], pa.float64()),
    }
    if job.options.vectors:
        outputs = job.need_outputs("parquet --vectors")
        idx = np.array([r.index for r in rows], dtype=np.int64)
        v = np.ascontiguousarray(outputs.vectors[idx], dtype=np.float32)
        d = int(outputs.vectors.shape[1])
        cols["vector"] = pa.FixedSizeListArray.from_arrays(pa.array(v.reshape(-1), pa.float32()), d)
    table = pa.table(cols)
    with atomic_file(job.out, mode="wb") as f:
        pq.write_table(table, f)
