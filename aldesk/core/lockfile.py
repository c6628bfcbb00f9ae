"""One writer per project file: an OS lock on a side file, ``photos.aldesk.lock`` beside ``photos.aldesk``.

While a project is open for writing, its process holds an exclusive lock on the side file (``fcntl.flock`` on
Linux and macOS, ``msvcrt.locking`` on Windows). The operating system drops such a lock when the process ends,
however it ends (kill -9, a crash, a power cut), so a lock cannot go stale: a leftover file that nobody holds is
simply taken over. No pid-liveness guessing, no timeout. The file's text, JSON ``{"host", "pid", "started"}``,
only serves the message shown to a second aldesk.

SQLite's own locks do not do this job: they last one transaction, so two processes can both keep a project open
and interleave their journals (each with its own in-memory session), which is what this lock prevents.

Limits: a network file system locks only as well as its server does (NFSv4 and SMB do). Where the OS cannot lock at
all (no lock support, a folder we cannot create the side file in), the project opens unguarded and a warning goes to
the log: a lock that cannot exist must not keep the user from their labels.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

if sys.platform == "win32":
    import msvcrt

    fcntl = None
else:
    import fcntl

    msvcrt = None

log = logging.getLogger(__name__)

# Windows locks are mandatory: a locked byte range cannot be read by anyone else. The lock is therefore taken on one
# byte far past the JSON text (locking beyond the end of a file is allowed), so the text stays readable.
_WIN_LOCK_OFFSET = 1 << 20
_ATTEMPTS = 20  # retries when the holder removed the file between our open and our lock (each one is a release)
_O_BINARY = getattr(os, "O_BINARY", 0)


@dataclass(frozen=True)
class Holder:
    """Who holds a lock, as written in its side file."""

    host: str
    pid: int
    started: str  # local time, ISO seconds

    def is_this_process(self) -> bool:
        return self.host == socket.gethostname() and self.pid == os.getpid()

    def describe(self) -> str:
        when = self.started.replace("T", " ")
        return f"process {self.pid} on {self.host}, since {when}"


class LockHeld(Exception):
    """The lock is held by another open file, in this process or another one (``holder``: None if unknown)."""

    def __init__(self, path: Path, holder: Holder | None) -> None:
        super().__init__(f"{path} is locked" + (f" by {holder.describe()}" if holder else ""))
        self.path = path
        self.holder = holder


def lock_path(project: Path) -> Path:
    """The side file of a project; symlinks resolved, so two names of one file share one lock."""
    real = Path(project).resolve()
    return real.with_name(real.name + ".lock")


class WriterLock:
    """An exclusive lock on a side file, held until :meth:`release` (or until the process ends).

    ``held`` is False for the unguarded fallback (the OS could not lock; see the module docstring).
    """

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self._fd = fd
        self._pid = os.getpid()

    @property
    def held(self) -> bool:
        return self._fd is not None

    @classmethod
    def acquire(cls, path: Path | str) -> WriterLock:
        """Take the lock at once or raise :class:`LockHeld`; never waits."""
        path = Path(path)
        for _ in range(_ATTEMPTS):
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | _O_BINARY, 0o644)
            except OSError as exc:
                log.warning("cannot create the lock file %s (%s); the project opens without a writer lock",
                            path, exc.strerror or exc)
                return cls(path, None)
            try:
                got = _try_lock(fd)
            except OSError as exc:
                os.close(fd)
                log.warning("cannot lock %s (%s); the project opens without a writer lock", path, exc.strerror or exc)
                return cls(path, None)
            if not got:
                holder = _read_holder(fd)
                os.close(fd)
                raise LockHeld(path, holder)
            if fcntl is not None and not _is_current(path, fd):
                # The previous holder removed the file after we opened it and before it unlocked: we locked a
                # file nobody else will ever look at. Lock the one that is at the path now.
                os.close(fd)
                continue
            try:
                _write_holder(fd)
            except OSError:
                pass  # only the message of a second aldesk would lack the details
            return cls(path, fd)
        raise LockHeld(path, None)

    def release(self) -> None:
        """Unlock and remove the side file. Idempotent."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if os.getpid() != self._pid:
            os.close(fd)  # a forked child's copy: the lock and the file belong to the parent
            return
        if fcntl is not None:
            # Removed while still locked: whoever opened the old file meanwhile finds it is not the current one
            # once they get the lock (see acquire), so two processes never both believe they hold it.
            if _is_current(self.path, fd):
                try:
                    self.path.unlink()
                except OSError:
                    pass
            os.close(fd)
            return
        try:
            os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass  # closing the handle below releases it too
        os.close(fd)
        try:
            self.path.unlink()  # fails, harmlessly, while another process has the file open (no FILE_SHARE_DELETE)
        except OSError:
            pass

    def __del__(self) -> None:
        # A project dropped without close() (e.g. a task result discarded) must not keep the lock until exit.
        with contextlib.suppress(Exception):  # never raise from a finaliser, e.g. at interpreter shutdown
            self.release()


def _try_lock(fd: int) -> bool:
    """Lock ``fd`` without waiting: True if we got it, False if someone holds it, OSError if the OS cannot lock."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
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


def _is_current(path: Path, fd: int) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    fst = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino)


def _write_holder(fd: int) -> None:
    info = {"host": socket.gethostname(), "pid": os.getpid(), "started": datetime.now().isoformat(timespec="seconds")}
    data = json.dumps(info).encode("utf-8")
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)


def _read_holder(fd: int) -> Holder | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info = json.loads(os.read(fd, 4096).decode("utf-8"))
        return Holder(str(info["host"]), int(info["pid"]), str(info["started"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None  # empty (the holder is writing it right now) or not ours: the message goes without details
