"""Labels from a CSV (columns ``item`` and ``label``) into a project, as logged, undoable actions.

``item`` is what every aldesk export writes: the image path relative to the data folder, or the text itself.
So export -> import round-trips, including cells an export neutralised against formula injection.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

from aldesk.core.exchange.export import FORMULA_START, unsafe_cell
from aldesk.core.labeling.actions import Action
from aldesk.core.names import class_name_problem, clean_class_name, shown
from aldesk.core.progress import UserError
from aldesk.core.project import Project

DELIMITERS = ",;\t"


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


def read_label_csv(path: Path | str) -> list[tuple[str, str]]:
    """(item, label) pairs; the delimiter is read from the header, cells neutralised by an export restored.

    Labels are class names to be: stripped and NFC-normalised (:func:`~aldesk.core.names.clean_class_name`), so a
    label written on a Mac matches the class typed elsewhere. A label that cannot be a class name at all (a
    control character, 10,000 characters) refuses the whole file, naming its row: a partial import would be
    harder to repair than a fixed file.
    """
    path = Path(path)
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # long texts are legitimate cells
    try:
        # newline="": a CR or LF inside a quoted cell is part of the text and must survive as is.
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = f.readline()
            found = [d for d in DELIMITERS if d in header]
            f.seek(0)
            rows = list(csv.reader(f, delimiter=found[0] if len(found) == 1 else ","))
    except FileNotFoundError:
        raise UserError(f"{path} does not exist.") from None
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path.name} is not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8'."
        ) from None
    except csv.Error as exc:
        raise UserError(f"{path.name} is not a readable CSV ({exc}).") from None
    except OSError as exc:
        raise UserError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if not rows:
        raise UserError(f"{path.name} is empty.")
    names = [h.strip().lower() for h in rows[0]]
    if "item" not in names or "label" not in names:
        raise UserError(
            f"{path.name} needs the columns 'item' and 'label'; its columns are: {', '.join(rows[0])}."
        )
    ii, li = names.index("item"), names.index("label")
    pairs = []
    for n, r in enumerate(rows[1:], start=2):
        if len(r) <= max(ii, li):
            continue
        label = clean_class_name(unsafe_cell(r[li].strip()))
        problem = class_name_problem(label) if label else None
        if problem is not None:
            raise UserError(
                f"Nothing was imported: the label {shown(label)} in row {n} of {path.name} {problem}."
            )
        pairs.append((r[ii], label))
    return pairs


def _candidates(cell: str, image: bool) -> list[str]:
    out = [cell]
    if cell.startswith("'") and cell[1:].startswith(FORMULA_START):
        out.insert(0, cell[1:])  # what an aldesk export of this item writes
    if image:
        out += [c.replace("\\", "/").removeprefix("./") for c in out]  # paths typed on Windows
    return out


def import_labels(project: Project, path: Path | str, *, overwrite: bool = False) -> ImportReport:
    """Label the project's items from a CSV, origin "imported", in one transaction.

    New class names are added. Items already labeled otherwise are kept unless ``overwrite``; the report lists
    them, and the items that are not in the project.
    """
    pairs = read_label_csv(path)
    ds = project.dataset()
    index = {k: i for i, k in enumerate(ds.keys)}
    current = project.labels()
    wanted: dict[int, str] = {}
    report = ImportReport(rows=len(pairs))
    for cell, label in pairs:
        if not label:
            report.empty += 1
            continue
        i = next((index[c] for c in _candidates(cell, ds.kind == "image") if c in index), None)
        if i is None:
            report.unmatched.append(cell)
            continue
        wanted[i] = label  # a later row wins over an earlier one
    by_class: dict[str, list[int]] = {}
    for i, label in wanted.items():
        if current.get(i) == label:
            report.unchanged += 1
        elif i in current and not overwrite:
            report.conflicts.append(ds.keys[i])
        else:
            by_class.setdefault(label, []).append(i)
    classes = project.classes
    seq = project.next_seq()
    actions: list[Action] = []
    for name in by_class:
        if name not in classes:
            actions.append(Action("add_class", cls=name, seq=seq + len(actions), origin="imported"))
            classes.append(name)
            report.new_classes.append(name)
    group = seq + len(actions)  # one undo reverts the whole import, whatever the number of classes
    for name, items in by_class.items():
        prev = tuple(current.get(i) for i in items)
        prev_ids = tuple(-1 if p is None else classes.index(p) for p in prev)
        actions.append(
            Action(
                "label",
                tuple(items),
                name,
                prev,
                "imported",
                seq=seq + len(actions),
                prev_ids=prev_ids,
                group=group,
            )
        )
        report.labeled += len(items)
        report.actions += 1
    try:
        project.journal_many(actions)
    except (KeyError, ValueError) as exc:  # e.g. a label that cannot be a class name
        raise UserError(f"Nothing was imported: {exc}") from None
    return report
