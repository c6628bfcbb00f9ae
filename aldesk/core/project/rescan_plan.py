"""How a source's items now compare with a project's: the :class:`Plan` of a rescan, built without writing.

:mod:`aldesk.core.project.rescan` asks for it and writes it. Here: listing a source again (a source that is gone
or a CSV whose columns changed is refused), and for texts and images which items are new, gone, back, renamed,
copies or unreadable. A new image's content hash is the embedder's (sha1 of the file's bytes), so a gone item
found under another name is recognised by the hash its last embedding stored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from aldesk.core.dataset import SOURCE_SEP, Dataset, Problem, UnsafeItem, resolve_under_root, split_key
from aldesk.core.progress import CancelFn, ProgressFn, UserError, check
from aldesk.core.project.records import SourceRow

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
    fingerprint: str = ""  # of the CSV files as read (see :func:`fingerprint`); recorded with the rescan

    @property
    def changed(self) -> bool:
        return bool(
            self.new_keys or self.missing or self.refound or self.renamed or self.new_source or self.columns
        )

    def summary(self) -> str:
        """One line, as the window asks it: "38 new items, 2 missing"."""
        n = len(self.new_keys)
        parts = (
            [f"{n:,} new item{'s' * (n != 1)}"]
            if n or not (self.missing or self.refound or self.renamed)
            else []
        )
        if self.missing:
            parts.append(f"{len(self.missing):,} missing")
        if self.refound:
            parts.append(f"{len(self.refound):,} back")
        if self.renamed:
            parts.append(f"{len(self.renamed):,} renamed")
        return ", ".join(parts)


# ----------------------------------------------------------------------------------------------- listing
def fingerprint(kind: str, sources: list[SourceRow]) -> str:
    """Size and modification time of every CSV source (JSON), "" for images (a folder's own time says nothing of
    its sub-folders, so a folder is always listed). An open whose CSVs match the fingerprint recorded at the last
    rescan skips re-reading them: a 1M-row CSV takes seconds to read, a stat microseconds."""
    if kind != "text":
        return ""
    out = {}
    for s in sources:
        try:
            st = os.stat(s.root)
        except OSError:
            return ""
        out[s.prefix] = [st.st_size, st.st_mtime_ns]
    return json.dumps(out, sort_keys=True)


def list_source(kind: str, src: SourceRow, progress: ProgressFn | None, cancel: CancelFn | None) -> Dataset:
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


def compare_texts(ds: Dataset, listed: list[tuple[SourceRow, Dataset]], plan: Plan, *, adding: bool) -> None:
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


def compare_images(
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
