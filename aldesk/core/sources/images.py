"""Listing the images of a folder, with labels from an ImageFolder layout when there is one."""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from PIL import Image, ImageFile

from aldesk.core.dataset import Dataset, Problem
from aldesk.core.names import known_class_labels
from aldesk.core.progress import CancelFn, ProgressFn, UserError, check
from aldesk.core.sources.paths import printable, require_utf8_path

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
            return bool(getattr(entry.stat(follow_symlinks=False), "st_file_attributes", 0) & _HIDDEN_ATTR)
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


MAX_DEPTH = 100
"""Folders nested deeper than this below the data folder are not read (listed as a problem). Real datasets are a
few levels deep; a 1,000-level chain is a generated or damaged tree, and every path in it is thousands of bytes."""


def _printable(rel: PurePosixPath, name: str) -> str:
    """A key for the problem list when ``name`` is not valid UTF-8: the bad bytes shown as ``\\xe9``."""
    return (rel / printable(name)).as_posix()


def _utf8(name: str) -> bool:
    # os.scandir hands a name that is not valid UTF-8 over with surrogate escapes; such a str cannot be stored
    # in SQLite, written to a UTF-8 export or shown, so the item is skipped and listed instead.
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _inside(real: str, real_root: str) -> bool:
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def load_images(
    folder: Path, *, progress: ProgressFn | None = None, cancel: CancelFn | None = None
) -> Dataset:
    """List every image under ``folder`` (recursively, hidden entries skipped, symlink loops broken).

    Images are not decoded. Zero-byte, unreadable or non-regular files (a FIFO, a device) become problems, and so
    do names that are not valid UTF-8, folders deeper than :data:`MAX_DEPTH` and symbolic links that lead out of
    ``folder`` (never followed: a data folder from elsewhere must not make aldesk read the user's other files).
    Links that stay inside are followed, each real folder read once. The walk is iterative (an explicit stack), so
    no depth can exhaust Python's recursion limit. When every image sits inside a first-level sub-folder and
    there are at least two of them (the ImageFolder layout), the sub-folder name is each image's known label.
    """
    folder = Path(folder)
    if not folder.exists():
        raise UserError(f"{folder} does not exist.")
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder.")
    require_utf8_path(folder)

    found: list[str] = []
    problems: list[Problem] = []
    seen_dirs: set[tuple[int, int]] = set()
    real_root = os.path.realpath(folder)
    loops = 0
    scanned = 0
    stack: list[tuple[str, PurePosixPath]] = [(str(folder), PurePosixPath())]
    # Linked folders wait until every real one was read, so an image reachable both ways keeps its real path.
    linked: list[tuple[str, PurePosixPath]] = []

    def tick() -> None:
        nonlocal scanned
        scanned += 1
        if scanned % 2000 == 0:
            check(cancel)
            if progress is not None:
                # The total is unknown while walking; report a count so the UI can show liveness.
                progress(0.0, f"listing images… {len(found):,} found")

    check(cancel)
    while stack or linked:
        directory, rel = stack.pop() if stack else linked.pop(0)
        try:
            st = os.stat(directory)
        except OSError:
            continue
        ident = (st.st_dev, st.st_ino)
        # A folder already read (a link back up, two links to one place) is not listed twice. st_ino is 0 on
        # some filesystems; then we can't tell, and the depth cap still ends a loop.
        if st.st_ino and ident in seen_dirs:
            loops += 1
            continue
        seen_dirs.add(ident)
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: (e.name.casefold(), e.name))
        except OSError as exc:
            if not rel.parts:
                raise UserError(f"cannot read {folder}: {exc.strerror or exc}") from exc
            problems.append(Problem(str(rel), f"folder not readable: {exc.strerror or exc}"))
            continue
        for entry in entries:
            tick()
            if _hidden(entry):
                continue
            try:
                is_dir = entry.is_dir()  # follows symlinks
            except OSError:
                is_dir = False
            if not is_dir and os.path.splitext(entry.name)[1].lower() not in IMAGE_EXTENSIONS:
                continue  # other files (notes, CSVs, .DS_Store-like junk) are not items
            if is_dir and entry.name in _SKIP_DIRS:
                continue
            if not _utf8(entry.name):
                what = "folder" if is_dir else "file"
                problems.append(
                    Problem(
                        _printable(rel, entry.name),
                        f"{what} name is not valid UTF-8 text; rename it to use it",
                    )
                )
                continue
            child = rel / entry.name
            key = child.as_posix()
            if entry.is_symlink():
                try:
                    real = os.path.realpath(entry.path)
                except (OSError, RuntimeError):
                    real = None
                if real is not None and os.path.exists(real) and not _inside(real, real_root):
                    what = "folder" if is_dir else "file"
                    problems.append(
                        Problem(key, f"link to a {what} outside {folder.name or folder}; not followed")
                    )
                    continue
            if is_dir:
                if len(child.parts) > MAX_DEPTH:
                    problems.append(Problem(key, f"folder nested deeper than {MAX_DEPTH} levels; not read"))
                else:
                    (linked if entry.is_symlink() else stack).append((entry.path, child))
                continue
            try:
                est = entry.stat()
            except OSError as exc:
                reason = "broken link" if entry.is_symlink() else f"not readable: {exc.strerror or exc}"
                problems.append(Problem(key, reason))
                continue
            if not stat.S_ISREG(est.st_mode):
                problems.append(Problem(key, "not a regular file (a pipe or a device); not read"))
                continue
            if est.st_size == 0:
                problems.append(Problem(key, "empty file"))
                continue
            found.append(key)
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
    if loops:
        notes.append(f"{loops:,} linked folder(s) already read elsewhere in the folder were not read twice")
    known_labels: list[str | None] | None = None
    top = {k.split("/", 1)[0] for k in found}
    if all("/" in k for k in found) and len(top) >= 2:
        known_labels, note = known_class_labels([k.split("/", 1)[0] for k in found])
        notes.append(f"known labels from sub-folder names: {len(top)} classes")
        if note:
            notes.append(note)
    if progress is not None:
        progress(1.0, f"{len(found):,} images found")
    return Dataset(
        kind="image", root=folder, keys=found, known_labels=known_labels, problems=problems, notes=notes
    )
