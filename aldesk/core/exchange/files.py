"""Placing image files in a folder export: portable names, copies that never follow a swapped-in link.

An image is copied or linked only when it is a regular file inside the data folder
(:func:`aldesk.core.dataset.resolve_under_root`, checked again as it is opened); refused items are listed in the
report with the reason, never copied.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from aldesk.core.dataset import Dataset, UnsafeItem
from aldesk.core.exchange.rows import ExportReport, ExportRow
from aldesk.core.progress import CancelFn, ProgressFn, UserError, check

LINK_MODES = ("copy", "hardlink", "symlink")

_BAD_NAME = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


def safe_name(name: str) -> str:
    """A file or folder name valid on Windows, macOS and Linux, close to ``name``."""
    s = _BAD_NAME.sub("_", name).rstrip(". ")
    if not s or s in (".", "..") or s.split(".")[0].upper() in _RESERVED:
        s = "_" + s
    return s


def place(src: Path, dst: Path, mode: str, report: ExportReport) -> None:
    """Put the checked source file ``src`` at ``dst``. ``src`` was resolved and checked a moment ago; a file that
    became something else since (a symlink swapped in, a FIFO) is refused here, never followed."""
    if mode == "symlink":
        try:
            os.symlink(src, dst)  # src is the resolved real path: the link never passes through another link
        except OSError as exc:
            raise UserError(f"Cannot make symbolic links here ({exc.strerror}); use --mode copy.") from None
        return
    if mode == "hardlink":
        try:
            os.link(src, dst, follow_symlinks=False)
        except OSError:
            # Other drive, or a file system without hard links: a copy is what the user needs anyway.
            if "hard links" not in " ".join(report.notes):
                report.notes.append("Some files could not be hard-linked (other drive?) and were copied.")
        else:
            if not stat.S_ISREG(os.lstat(dst).st_mode):
                os.unlink(dst)
                raise UnsafeItem(str(src), "changed into a link or special file while exporting; not linked")
            return
    _copy_regular(src, dst)


def _copy_regular(src: Path, dst: Path) -> None:
    """Copy bytes and times of ``src`` when, opened without following a final symlink, it is a regular file."""
    flags = (
        os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    )
    try:
        fd = os.open(src, flags)
    except OSError as exc:
        if exc.errno in (getattr(os, "ELOOP", -1), getattr(os, "ENXIO", -1)):
            raise UnsafeItem(
                str(src), "changed into a link or special file while exporting; not copied"
            ) from None
        raise
    with open(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeItem(str(src), "is not a regular file; not copied")
        with open(dst, "xb") as g:
            shutil.copyfileobj(f, g, 1 << 20)
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))


def unique(name: str, key: str, used: set[str]) -> str:
    """``name`` when free in ``used`` (compared case-folded); else the key's relative path flattened; else
    numbered. The result is added to ``used``."""
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


def unique_stem(name: str, used: set[str]) -> str:
    """A file name whose STEM is free in ``used`` (FiftyOne keys its labels by the file's stem, so ``a.png``
    and ``a.jpg`` cannot both be ``a``)."""
    stem, ext = os.path.splitext(name)
    cand, n = stem, 2
    while cand.casefold() in used:
        cand = f"{stem}-{n}"
        n += 1
    used.add(cand.casefold())
    return cand + ext


def class_folders(classes: Iterable[str], report: ExportReport) -> dict[str, str]:
    """A distinct portable folder name per class; renamed ones are noted in the report."""
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


def present_images(
    rows: list[ExportRow],
    dataset: Dataset,
    report: ExportReport,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> Iterator[tuple[ExportRow, Path]]:
    """(row, source file) for the rows whose image exists; missing ones go to ``report.missing``."""
    for n, r in enumerate(rows):
        if n % 256 == 0:
            check(cancel)
            if progress:
                progress(n / max(1, len(rows)), "exporting images")
        try:
            src = dataset.resolve(r.item)
        except UnsafeItem as exc:
            report.refused.append(str(exc))
            continue
        if not src.is_file():
            report.missing.append(r.item)
            continue
        yield r, src


def place_checked(r: ExportRow, src: Path, dst: Path, mode: str, report: ExportReport) -> bool:
    """:func:`place`, with a file refused at the last moment listed in the report instead of raising."""
    try:
        place(src, dst, mode, report)
    except UnsafeItem as exc:
        report.refused.append(f"{r.item}: {exc.reason}")
        return False
    return True
