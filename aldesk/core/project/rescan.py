"""Data that grows: a project's item list brought up to date with its folders and CSVs, or a source added.

A project lists its items once, when it is made; files keep arriving (new products on the line). A rescan lists
every source again and compares: new files or rows join (ids appended, so every id, label and logged action stays
valid), items whose file is gone are marked *missing* (label and history kept; they come back when the file does),
and a file found under a new name with the content of a gone item is that item, renamed (its label follows it:
the content hash, the embedding cache's key, says so). Nothing is written while planning (:func:`plan_rescan`,
:func:`plan_add_source`); :func:`apply` writes the plan and its one logged ``rescan`` action in ONE transaction, so
a kill leaves the project as before or as after. Only new content is embedded afterwards: the cache is keyed by
content hash, so the reopened workspace finds every old vector there.

What a rescan refuses, with one line and nothing changed: a source that is gone, a CSV whose columns changed, a
source in which none of the project's items are left (an unmounted drive, another file under the same name).
Files of the project that cannot be read now are left as they were and listed; new files that are copies of items
already in the project are listed and not added.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aldesk.core.dataset import Dataset
from aldesk.core.labeling.actions import Action
from aldesk.core.progress import CancelFn, ProgressFn, UserError
from aldesk.core.project.errors import ProjectError
from aldesk.core.project.records import SourceRow, source_columns
from aldesk.core.project.rescan_plan import (
    NOTHING,
    Plan,
    compare_images,
    compare_texts,
    fingerprint,
    list_source,
)
from aldesk.core.project.store import Project

__all__ = [
    "NOTHING",
    "Plan",
    "RescanReport",
    "apply",
    "new_item_indices",
    "plan_add_source",
    "plan_rescan",
    "record_scan",
    "unchanged_since_scan",
]


@dataclass
class RescanReport:
    """What :func:`apply` did: ``added`` are the new items' ids (see :func:`new_item_indices`)."""

    added: list[int]
    missing: list[str]
    refound: list[str]
    renamed: list[tuple[str, str]]
    unreadable: list[str]
    copies: list[str]
    problems: list[str]
    source: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "added": len(self.added),
            "missing": self.missing,
            "refound": self.refound,
            "renamed": [list(r) for r in self.renamed],
            "unreadable": self.unreadable,
            "copies": self.copies,
            "skipped": self.problems,
            "source": self.source,
        }


# ----------------------------------------------------------------------------------------------- planning
def plan_rescan(
    project: Project,
    *,
    sources: list[SourceRow] | None = None,
    dataset: Dataset | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> Plan:
    """Compare the project's items with what its sources hold now. Writes nothing.

    ``sources``: only these (a source being added): nothing of the other sources is marked missing.
    ``dataset``: the project's item list when the caller has just read it (an open), else it is read here."""
    ds = project.dataset() if dataset is None else dataset
    srcs = project.sources() if sources is None else sources
    # Taken before the sources are read, so that a change while they are read shows at the next open. Only a
    # rescan of every source records it (an added source leaves the others unread).
    plan = Plan(project.n_items, fingerprint=fingerprint(project.kind, srcs) if sources is None else "")
    listed = [(src, list_source(project.kind, src, progress, cancel)) for src in srcs]
    if project.kind == "text":
        compare_texts(ds, listed, plan, adding=sources is not None)
    else:
        compare_images(ds, project.hashes(), listed, plan, cancel)
    for src, found in listed:
        cols = source_columns(found)
        if cols and cols != src.columns and src.columns == "":
            plan.columns[src.prefix] = cols
    return plan


def plan_add_source(
    project: Project, path: Path | str, *, progress: ProgressFn | None = None, cancel: CancelFn | None = None
) -> Plan:
    """A second folder (or CSV) of the same kind as the project's, its items to join; writes nothing."""
    path = Path(path).absolute()
    if not os.path.lexists(path):
        raise UserError(f"{path} does not exist; {NOTHING}.")
    if project.kind == "image" and not path.is_dir():
        raise UserError(f"{path} is not a folder; this project labels images, so a source is a folder.")
    if project.kind == "text" and not path.is_file():
        raise UserError(f"{path} is not a file; this project labels texts, so a source is a CSV, TSV or TXT.")
    real = os.path.realpath(path)
    srcs = project.sources()
    for s in srcs:
        other = os.path.realpath(s.root)
        if real == other:
            raise UserError(
                f"{path} is already a source of this project; `aldesk rescan` adds its new items."
            )
        if project.kind == "image" and (
            real.startswith(other.rstrip(os.sep) + os.sep) or other.startswith(real.rstrip(os.sep) + os.sep)
        ):
            raise UserError(
                f"{path} and {s.root}, a source of this project, hold one another; `aldesk rescan` adds the "
                f"new images of a source. {NOTHING[0].upper()}{NOTHING[1:]}."
            )
    taken = {s.prefix for s in srcs}
    base = "".join(c if c.isalnum() or c in "-_." else "_" for c in (path.stem or "source")).strip("._")
    prefix, n = base or "source", 2
    while prefix in taken:
        prefix, n = f"{base}-{n}", n + 1
    new = SourceRow(prefix, path, "")
    plan = plan_rescan(project, sources=[new], progress=progress, cancel=cancel)
    if not plan.new_keys:
        raise UserError(f"none of the items of {path} are new (all are in the project already); {NOTHING}.")
    plan.new_source = SourceRow(prefix, path, plan.columns.pop(prefix, ""))
    return plan


# ------------------------------------------------------------------------------------------------ writing
def apply(project: Project, plan: Plan) -> RescanReport:
    """Write ``plan`` and its ``rescan`` action in one transaction; nothing if the plan changes nothing."""
    if project.n_items != plan.n_items:
        raise ProjectError(f"{project.path} changed since it was scanned; rescan it again. {NOTHING}.")
    ds = project.dataset()
    first = project.n_items
    added = list(range(first, first + len(plan.new_keys)))
    report = RescanReport(
        added,
        [ds.keys[i] for i in plan.missing],
        [ds.keys[i] for i in plan.refound],
        [(ds.keys[i], k) for i, k in plan.renamed],
        plan.unreadable,
        plan.copies,
        [f"{p.key}: {p.reason}" for p in plan.problems],
        plan.new_source.prefix if plan.new_source else None,
    )
    if not plan.changed:
        return report
    summary = report.to_json() | {"added": [first, len(added)]}

    def write(con: Any) -> dict:
        if plan.new_source is not None:
            s = plan.new_source
            con.execute(
                "INSERT INTO sources (prefix, root, columns) VALUES (?, ?, ?)",
                (s.prefix, str(s.root), s.columns),
            )
        con.executemany(
            "INSERT INTO items (id, key, known_label, hash) VALUES (?, ?, ?, ?)",
            zip(added, plan.new_keys, plan.new_known, plan.new_hashes, strict=True),
        )
        con.executemany("UPDATE items SET missing = 1 WHERE id = ?", [(i,) for i in plan.missing])
        con.executemany("UPDATE items SET missing = 0 WHERE id = ?", [(i,) for i in plan.refound])
        con.executemany(
            "UPDATE items SET key = ?, missing = 0 WHERE id = ?", [(k, i) for i, k in plan.renamed]
        )
        if plan.fingerprint:
            con.execute("INSERT OR REPLACE INTO meta VALUES ('scanned', ?)", (plan.fingerprint,))
        for prefix, cols in plan.columns.items():
            if prefix:
                con.execute("UPDATE sources SET columns = ? WHERE prefix = ?", (cols, prefix))
            else:
                con.execute("INSERT OR REPLACE INTO meta VALUES ('columns', ?)", (cols,))
        return {"rescan": summary}

    project.commit_items(Action("rescan", tuple(added), origin="rescan", seq=project.next_seq()), write)
    return report


def unchanged_since_scan(project: Project) -> bool:
    """Whether the project's CSVs are, by size and modification time, as its last rescan read them (never for
    an image project: a folder is always listed)."""
    now = fingerprint(project.kind, project.sources())
    return bool(now) and project.meta.get("scanned") == now


def record_scan(project: Project, plan: Plan) -> None:
    """Remember the CSVs' fingerprint of a rescan that found nothing to change (one small write)."""
    if plan.fingerprint and project.meta.get("scanned") != plan.fingerprint:
        project.set_scanned(plan.fingerprint)


def new_item_indices(project: Project) -> list[int]:
    """The ids of the items the most recent rescan or added source brought in ([] when there was none).

    New items always get the ids after the old ones (``range(n_before, n_after)``), so state derived from the old
    items (the neighbour graph, densities, the k-NN's slots, the map) can take these rows in incrementally."""
    a = last_rescan(project)
    return sorted(a.items) if a is not None else []


def last_rescan(project: Project) -> Action | None:
    """The most recent rescan or added source (its ``seq`` names it; ``items`` are the new ids), or None."""
    for a in reversed(project.actions()):
        if a.op == "rescan":
            return a
    return None
