"""One writer per project file: an OS lock on the database file itself, so on the file, not on one of its names.

While a project is open for writing, its process holds an exclusive lock on the project's own database file
(``fcntl.flock`` on Linux and macOS; on Windows ``msvcrt.locking`` of one byte far past SQLite's own lock bytes).
The lock belongs to the file (its inode), so every name of it shares one lock: a hard link or a symlink to the
project, or a deleted or replaced side file, cannot let a second writer in. The operating system drops the lock
when the process ends, however it ends (kill -9, a crash, a power cut), so a lock cannot go stale. No pid-liveness
guessing, no timeout.

``flock`` and SQLite's own POSIX record locks are separate kinds on Linux and macOS and never conflict. SQLite's
locks do not do this job themselves: they last one transaction, so two processes could both keep a project open
and interleave their journals (each with its own in-memory session), which is what this lock prevents.

Who holds it is written to a side file, ``photos.aldesk.lock`` beside ``photos.aldesk``, JSON
``{"host", "pid", "started"}``, only for the message a second aldesk shows. A project folder can come from
anyone (a zip, a git clone, a shared drive), so that name may hold something aldesk did not write: a symlink to
``~/.bashrc``, a folder, a FIFO, a user's file. The side file is therefore never opened for writing: the details
go to a fresh temporary file (``O_EXCL | O_NOFOLLOW``) that is renamed over the name, and only when the name is
free or holds an earlier holder note of aldesk's own (a plain file with one link, holding our JSON). Anything
else is left alone and the lock works without the details.

Readers (``aldesk info``, ``export``) take a shared lock for the moment they copy the project into memory (see
:func:`reader_lock`); a writer arriving in that moment retries briefly instead of being refused.

POSIX drops every record lock a process holds on a file when the process closes ANY descriptor of that file.
The lock's descriptor is opened before and closed after the project's own SQLite connection; nothing else here
opens the database file while a connection of this process may hold SQLite locks on it.

Limits: a network file system locks only as well as its server does (NFSv4 and SMB do; Linux emulates ``flock``
with a byte-range lock over NFS, which still excludes a second writer). Where the OS cannot lock at all, the
project opens unguarded and a warning goes to the log: a lock that cannot exist must not keep the user from
their labels.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from aldesk.core.project.lock_note import Holder, _clean_note_temps, _write_holder, lock_path, read_holder
from aldesk.core.project.lock_os import (
    _O_BINARY,
    _O_NOFOLLOW,
    _O_NONBLOCK,
    SHARED_LOCKS,
    _is_current,
    _plain,
    _try_lock,
    _unlock_close,
)

log = logging.getLogger(__name__)

_ATTEMPTS = 20  # retries when the file at the path was replaced between our open and our lock
# A refused writer retries this long when nobody is named as the holder: a reader's shared lock lasts only the
# copy of the project into memory, and a new holder writes its details right after locking.
_BUSY_RETRY_SECONDS = 2.0
# (st_dev, st_ino) of the files this process holds a writer lock on: a reader here must not open (and so, on
# closing, drop SQLite's POSIX locks of) a file our own writer connection has open.
_HELD: set[tuple[int, int]] = set()


class LockHeld(Exception):
    """The lock is held by another open file, in this process or another one (``holder``: None if unknown)."""

    def __init__(self, path: Path, holder: Holder | None) -> None:
        super().__init__(f"{path} is locked" + (f" by {holder.describe()}" if holder else ""))
        self.path = path
        self.holder = holder


class WriterLock:
    """An exclusive lock on a project's database file, held until :meth:`release` (or until the process ends).

    ``held`` is False for the unguarded fallback (the OS could not lock; see the module docstring).
    """

    def __init__(self, path: Path, fd: int | None, *, note: bool = True) -> None:
        self.path = path
        self._fd = fd
        self._notes = note  # whether a holder note is kept beside the file (not for temporary files)
        self._pid = os.getpid()
        self._note: tuple[int, int] | None = (
            None  # (st_dev, st_ino) of the side file we wrote, to remove only it
        )
        self._identity: tuple[int, int] | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    @classmethod
    def acquire(cls, path: Path | str) -> WriterLock:
        """Lock the existing database file ``path`` at once or raise :class:`LockHeld`.

        Waits only the moment a reader's copy or a new holder's note takes (see ``_BUSY_RETRY_SECONDS``)."""
        path = Path(path)
        deadline = time.monotonic() + _BUSY_RETRY_SECONDS
        attempts = 0
        while True:
            try:
                fd = os.open(path, os.O_RDONLY | _O_BINARY | _O_NONBLOCK)
            except OSError as exc:
                log.warning(
                    "cannot open %s to lock it (%s); the project opens without a writer lock",
                    path,
                    exc.strerror or exc,
                )
                return cls(path, None)
            try:
                got = _try_lock(fd, exclusive=True)
            except OSError as exc:
                os.close(fd)
                log.warning(
                    "cannot lock %s (%s); the project opens without a writer lock", path, exc.strerror or exc
                )
                return cls(path, None)
            if not got:
                os.close(fd)
                holder = read_holder(path)
                if holder is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                raise LockHeld(path, holder)
            if not _is_current(path, fd):
                # The file was replaced (e.g. by `aldesk recover`) after we opened it: we locked a file nobody
                # else will ever look at. Lock the one that is at the path now.
                _unlock_close(fd)
                attempts += 1
                if attempts >= _ATTEMPTS:
                    raise LockHeld(path, None)
                continue
            lock = cls(path, fd)
            lock._hold()
            lock._publish_note()
            return lock

    @classmethod
    def create(cls, path: Path | str, *, note: bool = True) -> WriterLock:
        """Create ``path`` as a new empty file, exclusively (never through a symlink), and lock it.

        For a file built under a temporary name and put in place with :meth:`move_to`: it is locked from its first
        byte, so whoever finds the temporary file while its maker lives knows it is in use."""
        path = Path(path)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_BINARY, 0o644)
        try:
            if not _try_lock(fd, exclusive=True):
                raise LockHeld(path, None)  # a file we just created exclusively: only a racing stranger
        except OSError:
            log.warning("cannot lock %s; it is made without a lock", path)
            os.close(fd)
            return cls(path, None, note=note)
        except LockHeld:
            os.close(fd)
            raise
        lock = cls(path, fd, note=note)
        lock._hold()
        return lock

    def move_to(self, final: Path | str) -> None:
        """Give the locked file its final name, never replacing a file there; the lock stays on it.

        Raises ``FileExistsError`` when ``final`` exists (a second aldesk was faster)."""
        final = Path(final)
        try:
            os.link(self.path, final)  # fails if final exists: an atomic "rename unless taken"
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno not in (
                errno.EPERM,
                errno.ENOTSUP,
                errno.EOPNOTSUPP,
                errno.EXDEV,
                errno.EMLINK,
                errno.ENOSYS,
            ):
                raise
            # A file system without hard links (FAT, some network shares): checked, then renamed.
            if os.path.lexists(final):
                raise FileExistsError(errno.EEXIST, "File exists", str(final)) from None
            os.replace(self.path, final)
        else:
            with contextlib.suppress(FileNotFoundError):  # a cleaner took the stray second name meanwhile
                os.unlink(self.path)
        self.path = final
        if self._fd is not None and self._notes:
            self._publish_note()

    def is_current(self) -> bool:
        """Whether the file at our path is still the one we locked (not replaced, moved or deleted)."""
        return self._fd is None or _is_current(self.path, self._fd)

    def release(self) -> None:
        """Remove our holder note, then unlock. Idempotent."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if os.getpid() != self._pid:
            os.close(fd)  # a forked child's copy: the lock and the note belong to the parent
            return
        _HELD.discard(self._identity)
        note, self._note = self._note, None
        if note is not None:
            side = lock_path(self.path)
            with contextlib.suppress(OSError):
                st = os.lstat(side)
                if (st.st_dev, st.st_ino) == note:
                    os.unlink(side)
        _unlock_close(fd)

    def _hold(self) -> None:
        assert self._fd is not None  # called right after the lock was taken on it
        st = os.fstat(self._fd)
        self._identity = (st.st_dev, st.st_ino)
        _HELD.add(self._identity)

    def _publish_note(self) -> None:
        side = lock_path(self.path)
        _clean_note_temps(side)
        try:
            self._note = _write_holder(side)
        except OSError as exc:
            # Only the message of a second aldesk would lack the details (e.g. a read-only folder).
            log.info("cannot write the lock note %s (%s)", side, exc.strerror or exc)

    def __del__(self) -> None:
        # A project dropped without close() (e.g. a task result discarded) must not keep the lock until exit.
        with contextlib.suppress(Exception):  # never raise from a finaliser, e.g. at interpreter shutdown
            self.release()


@contextlib.contextmanager
def reader_lock(path: Path | str) -> Iterator[bool]:
    """A shared lock on the database file for the moment a reader copies it: yields True when nobody writes it
    (and nobody can start to until the block ends), False when a writer holds it (or the OS cannot lock)."""
    fd = None
    if SHARED_LOCKS:  # no shared locks on Windows: read as if a writer were there (a live WAL read)
        try:
            st = os.stat(path)
            # This process writing it: no descriptor of ours may be closed under its connection.
            if (st.st_dev, st.st_ino) not in _HELD:
                fd = os.open(path, os.O_RDONLY | _O_NONBLOCK)
        except OSError:
            fd = None
    if fd is None:
        yield False
        return
    try:
        try:
            got = _try_lock(fd, exclusive=False)
        except OSError:
            got = False
        yield got
    finally:
        _unlock_close(fd)


def remove_if_abandoned(path: Path) -> bool:
    """Delete ``path``, a temporary file aldesk made, if no process holds its lock any more (its maker is gone).

    Only a plain file (not a symlink, not a folder) with one link is touched. True if it was removed."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not _plain(st):
        return False
    try:
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_BINARY)
    except OSError:
        return False
    try:
        fst = os.fstat(fd)
        if (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino) or not _try_lock(fd, exclusive=True):
            return False
        os.unlink(path)  # while we hold its lock: its maker cannot be coming back to it
        return True
    except OSError:
        return False
    finally:
        _unlock_close(fd)
