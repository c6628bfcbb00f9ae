"""Listing the images of a folder, with labels from an ImageFolder layout when there is one."""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from PIL import Image, ImageFile

from aldesk.core.dataset import Dataset, Problem
from aldesk.core.progress import CancelFn, ProgressFn, UserError, check

# Formats Pillow registers but cannot actually decode here: stubs need an external handler, EPS/PS need
# Ghostscript (not bundled) and MPEG is identify-only. Listing them would only yield decode failures later.
_UNUSABLE_FORMATS = {"EPS", "MPEG"}


def _image_extensions() -> frozenset[str]:
    Image.init()
    exts = set()
    for ext, fmt in Image.registered_extensions().items():
        if fmt == "MPO":  # opened by the JPEG plugin, so it has no OPEN entry of its own
            exts.add(ext)
            continue
        if fmt not in Image.OPEN or fmt in _UNUSABLE_FORMATS:
            continue
        factory = Image.OPEN[fmt][0]
        if isinstance(factory, type) and issubclass(factory, ImageFile.StubImageFile):
            continue
        exts.add(ext.lower())
    return frozenset(exts)


IMAGE_EXTENSIONS: frozenset[str] = _image_extensions()
"""Lower-case file suffixes (with the dot) of every image format Pillow can open in this install."""

# Shown first in the "no images found" message; the rest are summarised as a count.
_COMMON = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")
# Folders that are never user data: zip/OS metadata that would otherwise break ImageFolder detection.
_SKIP_DIRS = {"__MACOSX", "$RECYCLE.BIN", "System Volume Information"}
_HIDDEN_ATTR = getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0)


def _hidden(entry: os.DirEntry[str]) -> bool:
    if entry.name.startswith("."):
        return True
    if _HIDDEN_ATTR:  # Windows hidden attribute; st_file_attributes only exists there
        try:
            return bool(entry.stat(follow_symlinks=False).st_file_attributes & _HIDDEN_ATTR)
        except (OSError, AttributeError):
            return False
    return False


def _sort_key(rel: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    # Case-insensitive by path component so "B/x" sorts with "b/y"; the exact parts break ties stably.
    parts = tuple(rel.split("/"))
    return tuple(p.casefold() for p in parts), parts


def _extensions_hint() -> str:
    shown = [e for e in _COMMON if e in IMAGE_EXTENSIONS]
    more = len(IMAGE_EXTENSIONS) - len(shown)
    return ", ".join(shown) + (f" and {more} more formats" if more > 0 else "")


def load_images(
    folder: Path, *, progress: ProgressFn | None = None, cancel: CancelFn | None = None
) -> Dataset:
    """List every image under ``folder`` (recursively, hidden entries skipped, symlink loops broken).

    Images are not decoded. Zero-byte or unreadable files become problems. When every image sits inside a
    first-level sub-folder and there are at least two of them (the ImageFolder layout), the sub-folder name is
    each image's known label.
    """
    folder = Path(folder)
    if not folder.exists():
        raise UserError(f"{folder} does not exist.")
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder.")

    found: list[str] = []
    problems: list[Problem] = []
    seen_dirs: set[tuple[int, int]] = set()
    scanned = 0

    def visit(directory: str, rel: PurePosixPath) -> None:
        nonlocal scanned
        try:
            st = os.stat(directory)
        except OSError:
            return
        ident = (st.st_dev, st.st_ino)
        # Symlinked folders are followed, but a folder already visited (a loop, or two links to one place)
        # is not listed twice. st_ino is 0 on some filesystems; then we can't tell and just follow.
        if st.st_ino and ident in seen_dirs:
            return
        seen_dirs.add(ident)
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: (e.name.casefold(), e.name))
        except OSError as exc:
            if not rel.parts:
                raise UserError(f"cannot read {folder}: {exc.strerror or exc}") from exc
            problems.append(Problem(str(rel), f"folder not readable: {exc.strerror or exc}"))
            return
        for entry in entries:
            scanned += 1
            if scanned % 2000 == 0:
                check(cancel)
                if progress is not None:
                    # The total is unknown while walking; report a count so the UI can show liveness.
                    progress(0.0, f"listing images… {len(found):,} found")
            if _hidden(entry):
                continue
            child = rel / entry.name
            try:
                is_dir = entry.is_dir()  # follows symlinks
            except OSError:
                is_dir = False
            if is_dir:
                if entry.name not in _SKIP_DIRS:
                    visit(entry.path, child)
                continue
            if os.path.splitext(entry.name)[1].lower() not in IMAGE_EXTENSIONS:
                continue  # other files (notes, CSVs, .DS_Store-like junk) are not items
            key = child.as_posix()
            try:
                size = entry.stat().st_size
            except OSError as exc:
                reason = "broken link" if entry.is_symlink() else f"not readable: {exc.strerror or exc}"
                problems.append(Problem(key, reason))
                continue
            if size == 0:
                problems.append(Problem(key, "empty file"))
                continue
            found.append(key)

    check(cancel)
    visit(str(folder), PurePosixPath())
    check(cancel)

    if not found:
        detail = (
            f" ({len(problems)} unusable files, e.g. {problems[0].key}: {problems[0].reason})"
            if problems
            else ""
        )
        raise UserError(f"no images found in {folder}{detail}; aldesk reads {_extensions_hint()}.")

    found.sort(key=_sort_key)
    problems.sort(key=lambda p: _sort_key(p.key))
    notes: list[str] = []
    known_labels: list[str | None] | None = None
    top = {k.split("/", 1)[0] for k in found}
    if all("/" in k for k in found) and len(top) >= 2:
        known_labels = [k.split("/", 1)[0] for k in found]
        notes.append(f"known labels from sub-folder names: {len(top)} classes")
    if progress is not None:
        progress(1.0, f"{len(found):,} images found")
    return Dataset(
        kind="image", root=folder, keys=found, known_labels=known_labels, problems=problems, notes=notes
    )
