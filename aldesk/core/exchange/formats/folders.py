"""Image folder exports: ImageFolder (torchvision, Keras), Hugging Face imagefolder, the YOLO classification
layout (Ultralytics), FiftyOne's FiftyOneImageClassificationDataset.

With a split, the audit labels are the test split (``val/`` for YOLO, which names its held-out folder so): they
are the only uniform random sample among the labels, so a model scored on them is scored honestly. Every writer
gets a temporary folder (:func:`aldesk.core.exchange.safety.atomic_folder`) and fills it.
"""

from __future__ import annotations

import json
from pathlib import Path

from aldesk.core.exchange.cells import FORMULA_START, write_csv
from aldesk.core.exchange.files import (
    class_folders,
    place_checked,
    present_images,
    safe_name,
    unique,
    unique_stem,
)
from aldesk.core.exchange.formats.job import Job
from aldesk.core.exchange.formats.tables import conf_text
from aldesk.core.exchange.rows import ExportRow
from aldesk.core.progress import UserError


def _splits(job: Job, test: str, *, always: bool = False) -> dict[str, list[ExportRow]]:
    """Rows per split folder: ``{"": rows}`` without a split; refused when there is no audit label."""
    if not (job.options.split or always):
        return {"": job.rows}
    parts: dict[str, list[ExportRow]] = {"train": [], test: []}
    for r in job.rows:
        parts[job.split_of(r, test)].append(r)
    if not parts[test]:
        raise UserError(
            "--split puts the audit labels in the test split, and this project has none yet: label the "
            "items the app marks as audit (one every few labels), or export without --split."
        )
    job.report.splits = {k: len(v) for k, v in parts.items()}
    return parts


def _class_tree(job: Job, out: Path, rows: list[ExportRow], folders: dict[str, str]) -> None:
    used: dict[str, set[str]] = {}
    for r, src in present_images(rows, job.dataset, job.report, job.progress, job.cancel):
        folder = folders[r.target]
        if folder not in used:
            (out / folder).mkdir(parents=True)
            used[folder] = set()
        name = unique(safe_name(Path(r.item).name), r.item, used[folder])
        place_checked(r, src, out / folder / name, job.options.mode, job.report)


def write_imagefolder(job: Job) -> None:
    """``<class>/<file>``, or with a split ``train/<class>/`` and ``test/<class>/``."""
    folders = class_folders(dict.fromkeys(r.target for r in job.rows), job.report)
    for split, rows in _splits(job, "test").items():
        _class_tree(job, job.out / split if split else job.out, rows, folders)
        if not split:  # every class folder exists, even one whose only files were refused
            for f in folders.values():
                (job.out / f).mkdir(exist_ok=True)


def write_yolo_cls(job: Job) -> None:
    """Ultralytics classification: ``train/<class>/`` and ``val/<class>/`` (always split: YOLO needs val)."""
    folders = class_folders(dict.fromkeys(r.target for r in job.rows), job.report)
    for split, rows in _splits(job, "val", always=True).items():
        _class_tree(job, job.out / split, rows, folders)


def write_hf_imagefolder(job: Job) -> None:
    """Hugging Face ``load_dataset("imagefolder", data_dir=out)``: a split folder (``train``, and ``test``
    with a split) with the images and a metadata.csv whose ``file_name`` is relative to it. File names never
    start with a formula character, so the neutralising writer cannot break the link between metadata.csv and
    the file."""
    for split, rows in _splits(job, "test").items():
        folder = job.out / (split or "train")
        folder.mkdir()
        used: set[str] = set()
        meta = []
        for r, src in present_images(rows, job.dataset, job.report, job.progress, job.cancel):
            name = safe_name(Path(r.item).name)
            if name.startswith((*FORMULA_START, "'")):
                name = "_" + name
            name = unique(name, "_" + r.item if r.item.startswith(FORMULA_START) else r.item, used)
            if place_checked(r, src, folder / name, job.options.mode, job.report):
                meta.append((name, r.target, r.item, r.origin, conf_text(r.confidence)))
        write_csv(folder / "metadata.csv", ("file_name", "label", "item", "origin", "confidence"), meta)


def write_fiftyone(job: Job) -> None:
    """FiftyOne's ``FiftyOneImageClassificationDataset``: ``data/<uuid>.<ext>`` and ``labels.json``
    ``{"classes": [...], "labels": {uuid: class index}}`` where uuid is the file's stem; a predicted row's
    target is ``{"label": index, "confidence": c}`` (the documented form with a confidence). ``items.json``
    maps each uuid back to aldesk's item key, for an import."""
    data = job.out / "data"
    data.mkdir()
    classes = list(dict.fromkeys([*job.classes, *(r.target for r in job.rows)]))
    index = {c: n for n, c in enumerate(classes)}
    used: set[str] = set()
    labels: dict[str, object] = {}
    items: dict[str, str] = {}
    for r, src in present_images(job.rows, job.dataset, job.report, job.progress, job.cancel):
        name = unique_stem(safe_name(Path(r.item).name), used)
        if place_checked(r, src, data / name, job.options.mode, job.report):
            uuid = Path(name).stem
            target = index[r.target]
            labels[uuid] = target if r.label is not None else {"label": target, "confidence": r.confidence}
            items[uuid] = r.item
    (job.out / "labels.json").write_text(
        json.dumps({"classes": classes, "labels": labels}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (job.out / "items.json").write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
