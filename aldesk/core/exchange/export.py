"""Exports of a project's labels in the formats trainers and labeling tools read (:mod:`.formats`).

This module checks and dispatches; each format family is written by its own module. Safety, because an export
is often written over the previous one and then shared (:mod:`.safety`, :mod:`.files`):

* an output is never the project, its companions or the source (resolved paths and (st_dev, st_ino));
* a file is written under a temporary name, fsynced and renamed over the target; a folder is built as a
  temporary sibling and swapped into place, and only an empty folder or an earlier aldesk export is replaced;
* an image is copied or linked only when it is a regular file inside the data folder;
* an unusable item (missing, refused, failed to load) is never in an export, labeled or predicted
  (:func:`aldesk.core.exchange.rows.drop_unusable`).

The public names of the former single module stay importable from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from aldesk.core.dataset import Dataset, split_key
from aldesk.core.exchange.cells import FORMULA_START, safe_cell, unsafe_cell, write_csv
from aldesk.core.exchange.files import LINK_MODES, safe_name
from aldesk.core.exchange.formats import (
    FOLDER_FORMATS,
    FORMATS,
    IMAGE_FORMATS,
    MODEL_FORMATS,
    SPLIT_FORMATS,
    WRITERS,
    ExportOptions,
    Job,
)
from aldesk.core.exchange.formats.labelstudio import config_path
from aldesk.core.exchange.model_outputs import ModelOutputs
from aldesk.core.exchange.rows import ExportReport, ExportRow, drop_unusable, export_rows, session_predictions
from aldesk.core.exchange.safety import MARKER, atomic_folder, clean_stale, companions
from aldesk.core.exchange.safety import check_output as _check_targets
from aldesk.core.progress import CancelFn, ProgressFn, UserError
from aldesk.core.project import Project

__all__ = [
    "FORMATS",
    "FORMULA_START",
    "LINK_MODES",
    "MARKER",
    "ExportOptions",
    "ExportReport",
    "ExportRow",
    "atomic_folder",
    "check_options",
    "check_output",
    "clean_stale",
    "companions",
    "export_project",
    "export_rows",
    "safe_cell",
    "safe_name",
    "session_predictions",
    "unsafe_cell",
    "write_csv",
    "write_export",
]


def export_project(
    project: Project,
    fmt: str,
    out: Path | str,
    *,
    mode: str = "copy",
    predicted: Sequence[str | None] | None = None,
    confidence: np.ndarray | Sequence[float] | None = None,
    include_predicted: bool = False,
    min_confidence: float = 0.0,
    image_url_prefix: str | None = None,
    split: bool = False,
    excel: bool = False,
    vectors: bool = False,
    outputs: ModelOutputs | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> ExportReport:
    """Write ``project``'s labels (and optionally predictions) to ``out`` in format ``fmt``.

    ``outputs`` (:func:`aldesk.core.exchange.model_outputs.from_session`) gives the predictions, which items
    loaded and the embeddings: the cleanlab and embeddings formats and ``vectors`` need it. Refuses (one-line
    :class:`UserError`, nothing written) an ``out`` that is the project or one of its companions, or the source.
    """
    ds = project.dataset()
    protected = companions(project.path)
    check_output(fmt, Path(out), ds, protected=protected)
    for prefix, root in ds.sources.items():  # every added folder or CSV is a source to protect too
        rels = [split_key(k)[1] for k in ds.keys if split_key(k)[0] == prefix] if ds.kind == "image" else []
        check_output(fmt, Path(out), Dataset(ds.kind, root, rels), protected=protected)
    if outputs is not None and predicted is None:
        predicted, confidence = outputs.predicted, outputs.confidence
    labels = {r.item: (r.cls, r.origin, r.time) for r in project.label_rows()}
    rows = export_rows(
        ds,
        labels,
        predicted,
        confidence,
        include_predicted=include_predicted,
        min_confidence=min_confidence,
        every_item=fmt == "embeddings",
    )
    gone = 0
    if ds.kind == "image" and ds.missing:  # a rescan found their files gone: labels kept, never exported
        kept = [r for r in rows if r.index not in ds.missing]
        gone, rows = len(rows) - len(kept), kept
    report = write_export(
        rows,
        ds,
        project.classes,
        fmt,
        Path(out),
        mode=mode,
        model_id=project.model_id,
        image_url_prefix=image_url_prefix,
        split=split,
        excel=excel,
        vectors=vectors,
        outputs=outputs,
        progress=progress,
        cancel=cancel,
        protected=protected,
    )
    if gone:
        report.notes.append(
            f"{gone:,} labeled items are missing (files gone at the last rescan); not exported."
        )
    return report


def check_output(fmt: str, out: Path, dataset: Dataset, *, protected: Sequence[Path] = ()) -> None:
    """Refuse an ``out`` (and, for labelstudio, the config beside it) that would overwrite the project, its
    companions or the source: :func:`aldesk.core.exchange.safety.check_output`."""
    out = Path(out)
    targets = [out, config_path(out)] if fmt == "labelstudio" else [out]
    _check_targets(targets, fmt in FOLDER_FORMATS, dataset, protected=protected)


def check_options(
    fmt: str,
    kind: str,
    *,
    mode: str = "copy",
    split: bool = False,
    excel: bool = False,
    vectors: bool = False,
) -> None:
    """Refuse a format or option that does not fit the data (``kind`` "image" or "text"): one line, before any
    embedding or writing."""
    if fmt not in FORMATS:
        raise UserError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    if mode not in LINK_MODES:
        raise UserError(f"Unknown mode {mode!r}; choose one of {', '.join(LINK_MODES)}.")
    if fmt in IMAGE_FORMATS and kind != "image":
        raise UserError(
            f"The {fmt} format is for images; export texts as csv, jsonl, parquet or labelstudio."
        )
    if split and fmt not in SPLIT_FORMATS:
        raise UserError(f"--split is for {', '.join(sorted(SPLIT_FORMATS))}, not {fmt}.")
    if excel and fmt != "csv":
        raise UserError(f"--excel is for the csv format, not {fmt}.")
    if vectors and fmt != "parquet":
        raise UserError(f"--vectors is for the parquet format ({fmt}: use the embeddings format).")


def needs_model(fmt: str, *, predicted: bool = False, vectors: bool = False) -> bool:
    """Whether an export of ``fmt`` with these options needs the embeddings (and so a session)."""
    return predicted or vectors or fmt in MODEL_FORMATS


def write_export(
    rows: list[ExportRow],
    dataset: Dataset,
    classes: list[str],
    fmt: str,
    out: Path,
    *,
    mode: str = "copy",
    model_id: str = "",
    image_url_prefix: str | None = None,
    split: bool = False,
    excel: bool = False,
    vectors: bool = False,
    outputs: ModelOutputs | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    protected: Sequence[Path] = (),
) -> ExportReport:
    """Write ``rows`` to ``out``; ``protected``: paths (a project and its companions) ``out`` must not touch."""
    check_options(fmt, dataset.kind, mode=mode, split=split, excel=excel, vectors=vectors)
    out = Path(out)
    check_output(fmt, out, dataset, protected=protected)
    report = ExportReport(out)
    rows = drop_unusable(
        rows,
        dataset,
        report,
        outputs.eligible if outputs is not None else None,
        outputs.reasons if outputs is not None else None,
    )
    report.n_labeled = sum(r.label is not None for r in rows)
    report.n_predicted = sum(r.origin == "predicted" for r in rows)
    options = ExportOptions(mode, split, excel, vectors, image_url_prefix, model_id)
    job = Job(rows, dataset, list(classes), out, options, report, outputs, progress, cancel)
    try:
        if fmt in FOLDER_FORMATS:
            with atomic_folder(out, fmt) as tmp:
                job.out = tmp
                WRITERS[fmt](job)
        else:
            WRITERS[fmt](job)
    except OSError as exc:
        raise UserError(f"Cannot write {exc.filename or out}: {exc.strerror or exc}.") from None
    report.files.insert(0, out)
    if progress is not None:
        progress(1.0, f"Exported {report.n_labeled + report.n_predicted} items")
    return report
