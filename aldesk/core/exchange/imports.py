"""Labels from a file into a project, as logged, undoable actions: CSV/TSV, Parquet, JSON Lines, Label Studio JSON.

``item`` is what every aldesk export writes: the image path relative to the data folder, or the text itself.
So export -> import round-trips, including cells an export neutralised against formula injection. A file from
elsewhere can name its items by an id column instead (``id_column``): matched against the same column of the
project's source CSV, or for images against the path (relative, absolute inside the data folder, or a Label
Studio local-files URL).

Label Studio annotations become labels; its predictions become SUGGESTIONS, never labels: they are kept in the
project's settings under :data:`SUGGESTIONS_KEY` (item -> [class, score]) for the app to offer.

An import is one transaction (:meth:`Project.journal_many`): all of it or nothing, and one undo reverts it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from aldesk.core.dataset import Dataset
from aldesk.core.exchange.cells import FORMULA_START
from aldesk.core.exchange.readers import Record, read_csv_records, read_records, read_table
from aldesk.core.labeling.actions import grouped_labels
from aldesk.core.progress import CancelFn, ProgressFn, UserError, check
from aldesk.core.project import Project

SUGGESTIONS_KEY = "exchange/suggestions"


@dataclass
class ImportReport:
    rows: int = 0
    labeled: int = 0  # items whose label was set or changed
    unchanged: int = 0  # already had that label
    empty: int = 0  # rows without a label (e.g. predicted-only rows of an export)
    new_classes: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # items not in the project
    conflicts: list[str] = field(default_factory=list)  # labeled otherwise already, kept (no overwrite)
    actions: int = 0  # logged label actions (one per class); one undo in the app reverts them all
    suggestions: int = 0  # predictions stored as suggestions (Label Studio)

    def as_json(self) -> dict:
        return dict(self.__dict__)


def read_label_csv(path: Path | str) -> list[tuple[str, str]]:
    """(item, label) pairs of a CSV with the columns ``item`` and ``label`` (:mod:`.readers`)."""
    return [(r.cells[0], r.label) for r in read_csv_records(Path(path))]


def _candidates(cell: str, ds: Dataset) -> list[str]:
    out = [cell]
    if cell.startswith("'") and cell[1:].startswith(FORMULA_START):
        out.insert(0, cell[1:])  # what an aldesk export of this item writes
    if ds.kind == "image":
        out += [c.replace("\\", "/").removeprefix("./") for c in out]  # paths typed on Windows
        if os.path.isabs(cell):  # an absolute path inside the data folder (a Label Studio local file)
            for root in dict.fromkeys((str(ds.root), os.path.realpath(ds.root))):
                rel = os.path.relpath(cell, root)
                if not rel.startswith(".."):
                    out.append(Path(rel).as_posix())
    return out


def _id_index(project: Project, ds: Dataset, id_column: str, keys: dict[str, int]) -> dict[str, int]:
    """id -> item from the project's source CSV: the id column, and the column whose cells are the items."""
    if ds.kind != "text":
        return {}
    try:
        header, rows = read_table(Path(ds.root))
    except UserError:
        raise UserError(
            f"--id-column {id_column}: the project's source {ds.root} cannot be read to find the ids; "
            "run `aldesk relink` if it moved."
        ) from None
    low = [h.strip().lower() for h in header]
    if id_column.strip().lower() not in low:
        raise UserError(
            f"--id-column {id_column}: the project's source {Path(ds.root).name} has no such column."
        )
    ic = low.index(id_column.strip().lower())
    hits = [sum(1 for r in rows[:500] if c < len(r) and r[c] in keys) for c in range(len(header))]
    tc = max(range(len(header)), key=hits.__getitem__)
    return {r[ic]: keys[r[tc]] for r in rows if max(ic, tc) < len(r) and r[tc] in keys}


def _match(rec: Record, ds: Dataset, keys: dict[str, int], ids: dict[str, int]) -> int | None:
    for cell in rec.cells:
        if cell in ids:
            return ids[cell]
        for c in _candidates(cell, ds):
            if c in keys:
                return keys[c]
    return None


def import_labels(
    project: Project,
    path: Path | str,
    *,
    overwrite: bool = False,
    id_column: str | None = None,
    label_column: str | None = None,
    origin: str = "imported",
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> ImportReport:
    """Label the project's items from a label file, with ``origin``, in one transaction.

    New class names are added. Items already labeled otherwise are kept unless ``overwrite``; the report lists
    them, and the items that are not in the project. ``cancel`` is honoured until the one write.
    """
    if progress is not None:
        progress(0.0, f"Reading {Path(path).name}…")
    records = read_records(path, id_column=id_column, label_column=label_column)
    check(cancel)
    ds = project.dataset()
    keys = {k: i for i, k in enumerate(ds.keys)}
    ids = _id_index(project, ds, id_column, keys) if id_column else {}
    wanted: dict[int, str] = {}
    suggested: dict[int, tuple[str, float | None]] = {}
    report = ImportReport(rows=len(records))
    for rec in records:
        i = _match(rec, ds, keys, ids)
        if i is None:
            if rec.label or rec.suggestion:
                report.unmatched.append(rec.cells[0] if rec.cells else "?")
            else:
                report.empty += 1
            continue
        if rec.suggestion is not None:
            suggested[i] = rec.suggestion
        if not rec.label:
            report.empty += 1
            continue
        wanted[i] = rec.label  # a later row wins over an earlier one
    check(cancel)
    if progress is not None:
        progress(0.9, f"Saving {len(wanted)} labels…")
    apply_labels(project, wanted, report, overwrite=overwrite, origin=origin, suggestions=suggested)
    return report


def apply_labels(
    project: Project,
    wanted: dict[int, str],
    report: ImportReport,
    *,
    overwrite: bool = False,
    origin: str = "imported",
    suggestions: dict[int, tuple[str, float | None]] | None = None,
) -> None:
    """Journal ``wanted`` (item -> class) as label actions, one per class and one undo group, in ONE
    transaction; store ``suggestions`` first and put the old ones back if the labels cannot be written."""
    ds_keys = None
    current = project.labels()
    by_class: dict[str, list[int]] = {}
    for i, label in wanted.items():
        if current.get(i) == label:
            report.unchanged += 1
        elif i in current and not overwrite:
            if ds_keys is None:
                ds_keys = project.dataset().keys
            report.conflicts.append(ds_keys[i])
        else:
            by_class.setdefault(label, []).append(i)
    classes = project.classes
    seq = project.next_seq()
    n_classes = len(classes)
    actions = grouped_labels(by_class, classes, current, origin, seq)
    report.new_classes += classes[n_classes:]
    report.labeled += sum(len(items) for items in by_class.values())
    report.actions += len(by_class)
    before = project.get_setting(SUGGESTIONS_KEY, None) if suggestions else None
    if suggestions:
        merged = dict(before or {})
        merged.update({str(i): [c, s] for i, (c, s) in suggestions.items()})
        project.set_setting(SUGGESTIONS_KEY, merged)
        report.suggestions = len(suggestions)
    try:
        project.journal_many(actions)
    except BaseException as exc:
        if suggestions:  # nothing half imported: the suggestions go as the labels did not come
            project.set_setting(SUGGESTIONS_KEY, before or {})
        if isinstance(exc, KeyError | ValueError):  # e.g. a label that cannot be a class name
            raise UserError(f"Nothing was imported: {exc}") from None
        raise


def suggestions(project: Project) -> dict[int, tuple[str, float | None]]:
    """The imported suggestions (item -> (class, score)) of a project."""
    raw = project.get_setting(SUGGESTIONS_KEY, None) or {}
    out: dict[int, tuple[str, float | None]] = {}
    for k, v in raw.items() if isinstance(raw, dict) else ():
        if str(k).isdigit() and isinstance(v, list) and v and isinstance(v[0], str):
            out[int(k)] = (v[0], float(v[1]) if len(v) > 1 and isinstance(v[1], int | float) else None)
    return out


def prelabel(project: Project, labels: list[str | None], *, origin: str = "prelabel") -> ImportReport:
    """The labels of a source column (one per item, None = none) as pre-labels, logged with their own origin
    (so exports, the audit and a later review can tell them from labels a person gave), one undo."""
    if len(labels) != project.n_items:
        raise ValueError(f"{len(labels)} labels for {project.n_items} items")
    report = ImportReport(rows=len(labels))
    wanted = {i: lab for i, lab in enumerate(labels) if lab}
    report.empty = len(labels) - len(wanted)
    apply_labels(project, wanted, report, origin=origin)
    return report
