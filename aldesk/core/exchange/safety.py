"""Where an export may write, and how a folder export replaces the previous one.

* an output is never the project, its companions (``-wal``, ``-shm``, ``-journal``, the lock, the backups) or
  the source (the CSV, the image folder): compared by resolved path and by (st_dev, st_ino), so neither a
  symlink nor a hard link gets around it (:func:`check_output`);
* a folder is built as a temporary sibling and swapped into place (:func:`atomic_folder`). A kill leaves the
  previous export whole, and the next export of the same target removes the temporary left behind (only names of
  aldesk's own pattern, of a dead process);
* an existing folder is replaced only when it is empty or is a previous aldesk export (it has :data:`MARKER`).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import stat
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from aldesk.core.atomic import clean_stale as _clean_stale
from aldesk.core.atomic import fsync_dir, tmp_name
from aldesk.core.dataset import Dataset
from aldesk.core.progress import UserError
from aldesk.core.project import companion_paths

# The file aldesk writes at the top of a folder export: only a folder holding it is ever replaced by a new
# export (a user's folder that merely has the same name is refused, never emptied).
MARKER = ".aldesk-export"


def clean_stale(target: Path) -> list[Path]:
    """Remove the temporaries a killed export of ``target`` left beside it (a folder only when it holds
    :data:`MARKER`): :func:`aldesk.core.atomic.clean_stale`."""
    return _clean_stale(target, marker=MARKER)


def companions(project: Path | str) -> list[Path]:
    """The project file and every file or folder that belongs to it (:func:`aldesk.core.project.companion_paths`,
    which also covers the file a symlinked name points to): no export may write there."""
    return [Path(p) for p in companion_paths(Path(project))]


def _identity(path: Path) -> set[tuple[int, int]]:
    """(st_dev, st_ino) of ``path`` and, if it is a link, of what it points to: hard links share them."""
    ids = set()
    for follow in (False, True):
        try:
            st = os.stat(path, follow_symlinks=follow)
        except (OSError, ValueError):
            continue
        if st.st_ino:
            ids.add((st.st_dev, st.st_ino))
    return ids


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def check_output(
    targets: Sequence[Path], folder: bool, dataset: Dataset, *, protected: Sequence[Path] = ()
) -> None:
    """Refuse ``targets`` (the output and any file written beside it) that would overwrite, replace or sit in
    what is not the export's: ``protected`` (the project and its companions, the backup folder and anything in
    it) or the source (the CSV; for images the data folder: a ``folder`` export neither inside it nor holding
    it, a file export not over an item's file).

    Compared by resolved path and by (st_dev, st_ino), so a symlink or a hard link to the project is refused too.
    """
    guarded = [Path(p) for p in protected]
    if dataset.kind == "text":
        guarded.append(Path(dataset.root))
    guarded_real = [Path(os.path.realpath(p)) for p in guarded]
    guarded_ids = set().union(*(_identity(p) for p in guarded)) if guarded else set()
    root_real = Path(os.path.realpath(dataset.root))
    for target in map(Path, targets):
        real = Path(os.path.realpath(target))
        what = f"--out {target}"
        for g, g_real in zip(guarded, guarded_real, strict=True):
            if real == g_real or _inside(real, g_real) or (folder and _inside(g_real, real)):
                raise UserError(
                    f"{what} would overwrite {g}, which belongs to the project or is its source; "
                    "choose another output."
                )
        if _identity(target) & guarded_ids:
            raise UserError(f"{what} is a link to the project or its source; choose another output.")
        if dataset.kind == "image":
            if folder and (_inside(real, root_real) or _inside(root_real, real)):
                raise UserError(
                    f"{what} is inside the image folder {dataset.root} or holds it; choose a folder "
                    "outside it."
                )
            if not folder and _inside(real, root_real) and real != root_real:
                key = real.relative_to(root_real).as_posix()
                if key in set(dataset.keys):
                    raise UserError(f"{what} is one of the project's images; choose another output.")
        if not folder and real == root_real:
            raise UserError(f"{what} is the project's data folder; choose a file name.")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: this file system cannot; fall back
        return False
    raise OSError(err, os.strerror(err), str(b))


def _replaceable(out: Path) -> bool:
    """True when ``out`` does not exist; False when it is an empty folder or a previous aldesk export, which
    may be replaced; refuses anything else: a user's folder is never emptied or deleted."""
    try:
        st = os.lstat(out)
    except FileNotFoundError:
        return True
    if stat.S_ISDIR(st.st_mode):
        mk = out / MARKER
        if not any(out.iterdir()) or (not mk.is_symlink() and mk.is_file()):
            return False
    raise UserError(f"{out} exists and is neither empty nor an earlier aldesk export; choose a new folder.")


@contextlib.contextmanager
def atomic_folder(out: Path, fmt: str) -> Iterator[Path]:
    """A temporary sibling folder to build an export in, put in place of ``out`` only once complete.

    The old export (if any) and the new one are swapped in one rename where the system has it, else the old one
    is renamed aside first (a kill then leaves no folder at ``out``, and the previous export under a temporary
    name that the next export removes). Never a half-written folder at ``out``.
    """
    out = Path(out)
    if not out.parent.is_dir():
        out.parent.mkdir(parents=True, exist_ok=True)
    new = _replaceable(out)
    clean_stale(out)
    tmp = tmp_name(out)
    tmp.mkdir()
    try:
        # The marker first: a killed build is recognisable as aldesk's, so it may be cleaned.
        (tmp / MARKER).write_text(json.dumps({"format": fmt, "time": time.time()}) + "\n", encoding="utf-8")
        yield tmp
        fsync_dir(tmp)
        if new:
            os.rename(tmp, out)  # fails (is refused) if something appeared at out meanwhile
        elif _exchange(tmp, out):
            shutil.rmtree(tmp)  # now the old export
        else:
            old = tmp_name(out)
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        raise
    fsync_dir(out.parent)
