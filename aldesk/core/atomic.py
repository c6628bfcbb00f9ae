"""Outputs written whole: a file becomes its target only once complete, so a kill, a full disk or a crash leaves
the previous file (or nothing), never a truncated one that looks valid.

One mechanism for every file aldesk writes for the user: exports, ``simulate --out``/``--plot``, recover's swap.
Temporaries are named ``.<target name>.aldesk-tmp-<pid>-<random>`` beside the target, created exclusively and
never through a link; the next write of the same target removes those of a process that is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from aldesk.core.progress import UserError

_TMP = re.compile(r"^\.(?P<name>.+)\.aldesk-tmp-(?P<pid>\d+)-[0-9a-f]{8}$")


def tmp_name(target: Path) -> Path:
    """A fresh temporary name beside ``target`` (aldesk's pattern, this process's pid)."""
    return target.with_name(f".{target.name}.aldesk-tmp-{os.getpid()}-{secrets.token_hex(4)}")


def fsync_dir(folder: Path) -> None:
    """The renames in ``folder`` on disk, not only the files' bytes (where the OS allows opening a folder)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # someone else's process, or unknowable: leave its file alone
    return True


def clean_stale(target: Path, *, marker: str | None = None) -> list[Path]:
    """Remove the temporaries a killed write of ``target`` left beside it.

    Only entries named by aldesk's own pattern for this very target, of a process that is gone; a temporary
    folder only when it holds ``marker`` (the file a folder writer puts there first thing; None: folders are
    left alone). Links are removed as links, never followed. Returns what was removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent if str(target.parent) else "."))
    except OSError:
        return removed
    for e in entries:
        m = _TMP.match(e.name)
        if m is None or m["name"] != target.name or _alive(int(m["pid"])):
            continue
        p = Path(e.path)
        try:
            if e.is_dir(follow_symlinks=False):
                mk = p / marker if marker else None
                if mk is not None and not mk.is_symlink() and mk.is_file():
                    shutil.rmtree(p)
                    removed.append(p)
            else:
                os.unlink(p)
                removed.append(p)
        except OSError:
            continue  # cleaned next time
    return removed


@contextlib.contextmanager
def atomic_file(target: Path, mode: str = "w", **open_args: Any) -> Iterator[IO[Any]]:
    """A file object (``mode`` "w" or "wb") that becomes ``target`` only once complete: written under a
    temporary name in the same folder, fsynced, renamed over ``target`` (os.replace: readers see the old file or
    the new one, never a part). A symlink at ``target`` is replaced as a link, never followed; an existing
    folder or special file at ``target`` is refused."""
    target = Path(target)
    with contextlib.suppress(FileNotFoundError):
        st = os.lstat(target)
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            raise UserError(f"{target} exists and is not a regular file; choose another file name.")
    clean_stale(target)
    tmp = tmp_name(target)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    try:
        with open(fd, mode, **open_args) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(target.parent)
