"""Exports of a project's labels: CSV, JSONL, ImageFolder, Label Studio JSON, Hugging Face imagefolder.

Every format carries the item's key (image path relative to the data folder, or the text itself) as ``item``,
so an export can be imported back (:mod:`aldesk.core.imports`). Predicted labels for unlabeled items are
included only when asked, from plain ``(predicted, confidence)`` arrays, so this module needs no embeddings.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

import numpy as np

from aldesk.core.dataset import Dataset
from aldesk.core.progress import CancelFn, ProgressFn, UserError, check
from aldesk.core.project import Project

FORMATS = ("csv", "jsonl", "imagefolder", "labelstudio", "hf-imagefolder")
LINK_MODES = ("copy", "hardlink", "symlink")
# A spreadsheet runs a cell starting with these as a formula (CSV injection, OWASP); tab and CR too.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportRow:
    index: int
    item: str
    label: str | None  # the user's label; None for a predicted-only row
    predicted: str | None
    confidence: float | None
    origin: str  # user / batch / imported / audit, or "predicted"


@dataclass
class ExportReport:
    path: Path
    n_labeled: int = 0
    n_predicted: int = 0
    missing: list[str] = field(default_factory=list)  # image files that were not found
    notes: list[str] = field(default_factory=list)


def safe_cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text: formula starters get a leading apostrophe."""
    s = "" if value is None else str(value)
    return "'" + s if s.startswith(FORMULA_START) else s


def unsafe_cell(s: str) -> str:
    """The inverse of :func:`safe_cell` for cells that were neutralised by it."""
    return s[1:] if s.startswith("'") and s[1:].startswith(FORMULA_START) else s


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], *, bom: bool = False) -> None:
    """The only CSV writer of aldesk: every cell goes through :func:`safe_cell`."""
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        w = csv.writer(f)
        w.writerow([safe_cell(h) for h in header])
        for r in rows:
            w.writerow([safe_cell(c) for c in r])


def export_rows(
    dataset: Dataset,
    labels: dict[int, tuple[str, str]],
    predicted: Sequence[str | None] | None = None,
    confidence: np.ndarray | Sequence[float] | None = None,
    *,
    include_predicted: bool = False,
    min_confidence: float = 0.0,
) -> list[ExportRow]:
    """Rows in item order: every labeled item, and with ``include_predicted`` unlabeled items whose prediction
    reaches ``min_confidence``.

    labels : item -> (class, origin)
    predicted, confidence : one per item (class name or None), e.g. from :func:`session_predictions`.
    """
    if include_predicted and (predicted is None or confidence is None):
        raise ValueError("predicted labels need predicted and confidence arrays")
    if predicted is not None and len(predicted) != len(dataset):
        raise ValueError(f"{len(predicted)} predictions for {len(dataset)} items")
    rows = []
    for i, key in enumerate(dataset.keys):
        pred = predicted[i] if predicted is not None else None
        conf = float(confidence[i]) if confidence is not None and pred is not None else None
        if i in labels:
            cls, origin = labels[i]
            rows.append(ExportRow(i, key, cls, pred, conf, origin))
        elif include_predicted and pred is not None and conf is not None and conf >= min_confidence:
            rows.append(ExportRow(i, key, None, pred, conf, "predicted"))
    return rows


def session_predictions(session: object) -> tuple[list[str | None], np.ndarray]:
    """Class names and confidences per item from a Session's ``predictions()`` (leave-one-out for labeled)."""
    idx, conf = session.predictions()  # type: ignore[attr-defined]
    classes = session.classes  # type: ignore[attr-defined]
    return [classes[int(c)] if c >= 0 else None for c in idx], np.asarray(conf, dtype=np.float64)


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
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> ExportReport:
    """Write ``project``'s labels (and optionally predictions) to ``out`` in format ``fmt``."""
    ds = project.dataset()
    labels = {r.item: (r.cls, r.origin) for r in project.label_rows()}
    rows = export_rows(ds, labels, predicted, confidence, include_predicted=include_predicted,
                       min_confidence=min_confidence)
    return write_export(rows, ds, project.classes, fmt, Path(out), mode=mode, model_id=project.model_id,
                        image_url_prefix=image_url_prefix, progress=progress, cancel=cancel)


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
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> ExportReport:
    if fmt not in FORMATS:
        raise UserError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    if mode not in LINK_MODES:
        raise UserError(f"Unknown mode {mode!r}; choose one of {', '.join(LINK_MODES)}.")
    report = ExportReport(out, n_labeled=sum(r.label is not None for r in rows),
                          n_predicted=sum(r.label is None for r in rows))
    try:
        if fmt == "csv":
            write_csv(out, ("item", "label", "predicted", "confidence"),
                      ((r.item, r.label, r.predicted, _conf(r.confidence)) for r in rows), bom=True)
        elif fmt == "jsonl":
            with open(out, "w", encoding="utf-8", newline="\n") as f:
                f.writelines(
                    json.dumps({"item": r.item, "label": r.label, "predicted": r.predicted,
                                "confidence": r.confidence, "origin": r.origin}, ensure_ascii=False) + "\n"
                    for r in rows
                )
        elif fmt == "labelstudio":
            _write_labelstudio(rows, dataset, classes, out, model_id, image_url_prefix)
        else:
            if dataset.kind != "image":
                raise UserError(f"The {fmt} format is for images; export texts as csv, jsonl or labelstudio.")
            if fmt == "imagefolder":
                _write_imagefolder(rows, dataset, out, mode, report, progress, cancel)
            else:
                _write_hf_imagefolder(rows, dataset, out, mode, report, progress, cancel)
    except OSError as exc:
        raise UserError(f"Cannot write {exc.filename or out}: {exc.strerror or exc}.") from None
    return report


def _conf(c: float | None) -> str:
    return "" if c is None else f"{c:.4f}"


def _row_label(r: ExportRow) -> str:
    return r.label if r.label is not None else r.predicted or ""


# ----------------------------------------------------------------------------------- file layouts
_BAD_NAME = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_name(name: str) -> str:
    """A file or folder name valid on Windows, macOS and Linux, close to ``name``."""
    s = _BAD_NAME.sub("_", name).rstrip(". ")
    if not s or s in (".", "..") or s.split(".")[0].upper() in _RESERVED:
        s = "_" + s
    return s


def _empty_folder(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out} exists and is not an empty folder; choose a new folder for the export.")
    out.mkdir(parents=True, exist_ok=True)


def _place(src: Path, dst: Path, mode: str, report: ExportReport) -> None:
    if mode == "symlink":
        try:
            os.symlink(src.absolute(), dst)
        except OSError as exc:
            raise UserError(f"Cannot make symbolic links here ({exc.strerror}); use --mode copy.") from None
    elif mode == "hardlink":
        try:
            os.link(src, dst)
        except OSError:
            # Other drive, or a file system without hard links: a copy is what the user needs anyway.
            shutil.copy2(src, dst)
            if "hard links" not in " ".join(report.notes):
                report.notes.append("Some files could not be hard-linked (other drive?) and were copied.")
    else:
        shutil.copy2(src, dst)


def _unique(name: str, key: str, used: set[str]) -> str:
    # The file's own name when free; else its relative path flattened; else numbered.
    for cand in (name, safe_name(key.replace("/", "__"))):
        if cand.casefold() not in used:
            used.add(cand.casefold())
            return cand
    stem, ext = os.path.splitext(name)
    n = 2
    while f"{stem}-{n}{ext}".casefold() in used:
        n += 1
    used.add(f"{stem}-{n}{ext}".casefold())
    return f"{stem}-{n}{ext}"


def _class_folders(classes: Iterable[str], report: ExportReport) -> dict[str, str]:
    folders: dict[str, str] = {}
    used: set[str] = set()
    for c in classes:
        f = safe_name(c)
        while f.casefold() in used:
            f += "_"
        used.add(f.casefold())
        folders[c] = f
        if f != c:
            report.notes.append(f"Class {c!r} is in the folder {f!r}.")
    return folders


def _present_images(rows, dataset, report, progress, cancel):
    """(row, source file) for the rows whose image exists; missing ones go to ``report.missing``."""
    for n, r in enumerate(rows):
        if n % 256 == 0:
            check(cancel)
            if progress:
                progress(n / max(1, len(rows)), "exporting images")
        src = dataset.root / r.item
        if not src.is_file():
            report.missing.append(r.item)
            continue
        yield r, src


def _write_imagefolder(rows, dataset, out, mode, report, progress, cancel) -> None:
    _empty_folder(out)
    folders = _class_folders(dict.fromkeys(_row_label(r) for r in rows), report)
    used: dict[str, set[str]] = {f: set() for f in folders.values()}
    for f in folders.values():
        (out / f).mkdir()
    for r, src in _present_images(rows, dataset, report, progress, cancel):
        folder = folders[_row_label(r)]
        _place(src, out / folder / _unique(safe_name(Path(r.item).name), r.item, used[folder]), mode, report)


def _write_hf_imagefolder(rows, dataset, out, mode, report, progress, cancel) -> None:
    # Hugging Face `load_dataset("imagefolder", data_dir=out)`: a split folder with the images and a
    # metadata.csv whose `file_name` is relative to it. File names never start with a formula character, so the
    # neutralising writer cannot break the link between metadata.csv and the file.
    _empty_folder(out)
    split = out / "train"
    split.mkdir()
    used: set[str] = set()
    meta = []
    for r, src in _present_images(rows, dataset, report, progress, cancel):
        name = safe_name(Path(r.item).name)
        if name.startswith(FORMULA_START) or name.startswith("'"):
            name = "_" + name
        name = _unique(name, "_" + r.item if r.item.startswith(FORMULA_START) else r.item, used)
        _place(src, split / name, mode, report)
        meta.append((name, _row_label(r), r.item, r.origin, _conf(r.confidence)))
    write_csv(split / "metadata.csv", ("file_name", "label", "item", "origin", "confidence"), meta)


def _write_labelstudio(rows, dataset, classes, out, model_id, image_url_prefix) -> None:
    """Label Studio tasks (Basic Label Studio JSON): ``annotations`` for labels, ``predictions`` for predicted."""
    to_name, data_key = ("image", "image") if dataset.kind == "image" else ("text", "text")

    def result(cls: str) -> list[dict]:
        return [{"from_name": "label", "to_name": to_name, "type": "choices", "value": {"choices": [cls]}}]

    tasks = []
    for r in rows:
        if dataset.kind == "image":
            if image_url_prefix is None:
                # Label Studio's local file serving (LOCAL_FILES_SERVING_ENABLED=true,
                # LOCAL_FILES_DOCUMENT_ROOT=/): the path below the document root.
                value = "/data/local-files/?d=" + quote((dataset.root / r.item).absolute().as_posix().lstrip("/"))
            else:
                value = image_url_prefix + quote(r.item)
        else:
            value = r.item
        task: dict = {"data": {data_key: value, "item": r.item}}
        if r.label is not None:
            task["annotations"] = [{"result": result(r.label), "ground_truth": False}]
        elif r.predicted is not None:
            task["predictions"] = [{"model_version": model_id or "aldesk", "score": r.confidence,
                                    "result": result(r.predicted)}]
        tasks.append(task)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(tasks, f, ensure_ascii=False, indent=1)
    # The labeling config that matches these tasks, to paste into the Label Studio project's settings.
    tag = '<Image name="image" value="$image"/>' if dataset.kind == "image" else '<Text name="text" value="$text"/>'
    choices = "\n".join(f"    <Choice value={quoteattr(c)}/>" for c in classes)
    config = (f'<View>\n  {tag}\n  <Choices name="label" toName="{to_name}" choice="single">\n{choices}\n'
              "  </Choices>\n</View>\n")
    out.with_name(out.stem + ".label_config.xml").write_text(config, encoding="utf-8")
