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

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aldesk.core.dataset import SOURCE_SEP, Dataset, Problem, UnsafeItem, resolve_under_root, split_key
from aldesk.core.labeling.actions import Action
from aldesk.core.progress import CancelFn, ProgressFn, UserError, check
from aldesk.core.project.errors import ProjectError
from aldesk.core.project.store import Project, SourceRow, source_columns

NOTHING = "nothing was changed"


@dataclass
class Plan:
    """What a rescan (or an added source) would change. ``n_items``: the item count it was planned against."""

    n_items: int
    new_keys: list[str] = field(default_factory=list)
    new_known: list[str | None] = field(default_factory=list)
    new_hashes: list[str | None] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)  # items whose file is gone: marked missing
    refound: list[int] = field(default_factory=list)  # missing items whose file is back
    renamed: list[tuple[int, str]] = field(default_factory=list)  # (item, its new key): same content
    unreadable: list[str] = field(default_factory=list)  # "key: reason" of items left as they were
    copies: list[str] = field(default_factory=list)  # new files with the content of an item: not added
    problems: list[Problem] = field(default_factory=list)  # new files that cannot be used: not added
    new_source: SourceRow | None = None
    columns: dict[str, str] = field(default_factory=dict)  # prefix -> CSV header to record

    @property
    def changed(self) -> bool:
        return bool(
            self.new_keys or self.missing or self.refound or self.renamed or self.new_source or self.columns
        )

    def summary(self) -> str:
        """One line, as the window asks it: "38 new items, 2 missing"."""
        parts = [f"{len(self.new_keys):,} new item{'s' * (len(self.new_keys) != 1)}"]
        if self.missing:
            parts.append(f"{len(self.missing):,} missing")
        if self.refound:
            parts.append(f"{len(self.refound):,} back")
        if self.renamed:
            parts.append(f"{len(self.renamed):,} renamed")
        return ", ".join(parts)


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


# ----------------------------------------------------------------------------------------------- listing
def _list(kind: str, src: SourceRow, progress: ProgressFn | None, cancel: CancelFn | None) -> Dataset:
    """The items a source holds now; a source that is gone or a CSV whose columns changed is refused."""
    from aldesk.core.sources import load_csv, load_images

    root = src.root
    if not os.path.lexists(root):
        hint = " If it moved: `aldesk relink PROJECT NEW_PLACE`." if not src.prefix else ""
        raise UserError(f"{root} does not exist; {NOTHING}.{hint}")
    try:
        if kind == "image":
            if not root.is_dir():
                raise UserError(f"{root} is not a folder")
            return load_images(root, progress=progress, cancel=cancel)
        if not root.is_file():
            raise UserError(f"{root} is not a file")
        was = json.loads(src.columns) if src.columns else None
        ds = load_csv(
            root,
            text_column=was["text"] if was else None,
            label_column=was["label"] if was else None,
            progress=progress,
            cancel=cancel,
        )
    except UserError as exc:
        raise UserError(f"{str(exc).rstrip('.')}; {NOTHING}.") from None
    if was and list(ds.columns) != list(was["columns"]):
        raise UserError(
            f"the columns of {root.name} changed (they were {', '.join(was['columns'])}; now "
            f"{', '.join(ds.columns)}); {NOTHING}."
        )
    return ds


def _hash(root: Path, rel: str) -> tuple[str | None, str | None]:
    """(content sha1, None) of a new image file, or (None, why it cannot be read) — the embedder's own hash."""
    from aldesk.core.embed.image import BadImage, read_and_hash

    try:
        return read_and_hash(resolve_under_root(root, rel))[1], None
    except (UnsafeItem, BadImage) as exc:
        return None, getattr(exc, "reason", str(exc))


def _full(prefix: str, rel: str) -> str:
    return f"{prefix}{SOURCE_SEP}{rel}" if prefix else rel


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
    plan = Plan(project.n_items)
    listed = [(src, _list(project.kind, src, progress, cancel)) for src in srcs]
    if project.kind == "text":
        _plan_texts(ds, listed, plan, adding=sources is not None)
    else:
        _plan_images(ds, project.hashes(), listed, plan, cancel)
    for src, found in listed:
        cols = source_columns(found)
        if cols and cols != src.columns and src.columns == "":
            plan.columns[src.prefix] = cols
    return plan


def _plan_texts(ds: Dataset, listed: list[tuple[SourceRow, Dataset]], plan: Plan, *, adding: bool) -> None:
    index = {k: i for i, k in enumerate(ds.keys)}
    now: set[str] = set()
    for src, found in listed:
        if index and found.keys and not any(k in index for k in found.keys) and src.prefix == "":
            raise UserError(
                f"none of the {len(index):,} texts of this project are in column {found.text_column!r} of "
                f"{src.root.name}: its columns or its content changed; {NOTHING}."
            )
        known = found.known_labels or [None] * len(found)
        for key, lab in zip(found.keys, known, strict=True):
            if key in now:
                continue
            now.add(key)
            if key not in index:
                plan.new_keys.append(key)
                plan.new_known.append(lab)
                plan.new_hashes.append(None)
            elif adding:
                plan.copies.append(key)
    if adding:
        return
    present = [i for i in range(len(ds)) if i not in ds.missing]
    if present and not any(ds.keys[i] in now for i in present):
        raise UserError(f"none of the project's texts are in its CSV files any more; {NOTHING}.")
    plan.missing = [i for i in present if ds.keys[i] not in now]
    plan.refound = sorted(i for i in ds.missing if ds.keys[i] in now)


def _plan_images(
    ds: Dataset,
    hashes: list[str | None],
    listed: list[tuple[SourceRow, Dataset]],
    plan: Plan,
    cancel: CancelFn | None,
) -> None:
    index = {k: i for i, k in enumerate(ds.keys)}
    gone: list[int] = []
    new: list[tuple[SourceRow, str, str | None]] = []  # (source, rel, known label)
    for src, found in listed:
        keys = {_full(src.prefix, k) for k in found.keys}
        bad = {_full(src.prefix, p.key): p.reason for p in found.problems}
        mine = [i for i, k in enumerate(ds.keys) if split_key(k)[0] == src.prefix]
        for i in mine:
            key = ds.keys[i]
            if key in keys:
                if i in ds.missing:
                    plan.refound.append(i)
            elif key in bad:
                plan.unreadable.append(f"{key}: {bad[key]}")
            elif i not in ds.missing:
                gone.append(i)
        plan.problems.extend(Problem(k, why) for k, why in bad.items() if k not in index)
        known = found.known_labels or [None] * len(found)
        for rel, lab in zip(found.keys, known, strict=True):
            if _full(src.prefix, rel) not in index:
                new.append((src, rel, lab))
    # A gone (or missing) item whose content turns up under a new name is that item, renamed.
    away: dict[str, list[int]] = {}
    for i in sorted({*gone, *ds.missing} - set(plan.refound)):
        if hashes[i]:
            away.setdefault(str(hashes[i]), []).append(i)
    gone_set = set(gone)
    present = [i for i in range(len(ds)) if i not in ds.missing and i not in gone_set]
    if new and any(not hashes[i] for i in present):
        # Never embedded (made by `aldesk init`): hashed here, as the embedder would, to know a copy when one comes.
        roots = {"": ds.root, **ds.sources}
        hashes = list(hashes)
        for i in (i for i in present if not hashes[i]):
            prefix, rel = split_key(ds.keys[i])
            hashes[i] = _hash(roots[prefix], rel)[0] if prefix in roots else None
    have = {h for i in present if (h := hashes[i])}
    renamed: set[int] = set()
    for n, (src, rel, lab) in enumerate(new):
        if n % 256 == 0:
            check(cancel)
        key = _full(src.prefix, rel)
        digest, why = _hash(src.root, rel)
        if digest is None:
            plan.problems.append(Problem(key, why or "cannot be read"))
        elif away.get(digest):
            i = away[digest].pop(0)
            plan.renamed.append((i, key))
            renamed.add(i)
            have.add(digest)
        elif digest in have:
            plan.copies.append(key)
        else:
            have.add(digest)
            plan.new_keys.append(key)
            plan.new_known.append(lab)
            plan.new_hashes.append(digest)
    plan.missing = [i for i in gone if i not in renamed]
    for prefix in {split_key(ds.keys[i])[0] for i in plan.missing}:
        left = [
            i
            for i, k in enumerate(ds.keys)
            if split_key(k)[0] == prefix and i not in ds.missing and i not in plan.missing
        ]
        if not left and not any(split_key(ds.keys[i])[0] == prefix for i in renamed):
            root = next(s.root for s, _ in listed if s.prefix == prefix)
            raise UserError(
                f"none of the images of this project are in {root} any more (another folder under the same "
                f"name? an unmounted drive?); {NOTHING}."
            )


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
        for prefix, cols in plan.columns.items():
            if prefix:
                con.execute("UPDATE sources SET columns = ? WHERE prefix = ?", (cols, prefix))
            else:
                con.execute("INSERT OR REPLACE INTO meta VALUES ('columns', ?)", (cols,))
        return {"rescan": summary}

    project.commit_items(Action("rescan", tuple(added), origin="rescan", seq=project.next_seq()), write)
    return report


def new_item_indices(project: Project) -> list[int]:
    """The ids of the items the most recent rescan or added source brought in ([] when there was none).

    New items always get the ids after the old ones (``range(n_before, n_after)``), so state derived from the old
    items (the neighbour graph, densities, the k-NN's slots, the map) can take these rows in incrementally."""
    for a in reversed(project.actions()):
        if a.op == "rescan":
            return sorted(a.items)
    return []
