"""The operating system's file locks, as the writer lock uses them: ``fcntl.flock`` on Linux and macOS, on Windows
``msvcrt.locking`` of one byte far past SQLite's own lock bytes (see :mod:`aldesk.core.project.lock`)."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from pathlib import Path

if sys.platform == "win32":
    import msvcrt

    fcntl = None
else:
    import fcntl

    msvcrt = None


# Windows locks are mandatory: a locked byte range cannot be read by anyone else. The lock is therefore taken on one
# byte far past the database's end and past SQLite's own lock bytes (at 1 GiB), where nobody ever reads.
_WIN_LOCK_OFFSET = 1 << 40
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # opening a FIFO planted under our name must not hang
SHARED_LOCKS = fcntl is not None  # no shared locks on Windows


def _plain(st: os.stat_result) -> bool:
    return stat.S_ISREG(st.st_mode) and st.st_nlink == 1


def _try_lock(fd: int, *, exclusive: bool) -> bool:
    """Lock ``fd`` without waiting: True if we got it, False if someone holds it, OSError if the OS cannot lock."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EDEADLK):
            return False
        raise
    return True


def _unlock_close(fd: int) -> None:
    if msvcrt is not None:
        with contextlib.suppress(OSError):  # closing the handle below releases it too
            os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    os.close(fd)  # drops the flock


def _is_current(path: Path, fd: int) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    fst = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino)
