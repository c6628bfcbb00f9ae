"""The project file's errors and constants: what can go wrong, said in one line a user can act on."""

from __future__ import annotations

import errno
import logging
import sqlite3
from pathlib import Path

from aldesk.core.progress import UserError
from aldesk.core.project.lock import LockHeld, WriterLock

log = logging.getLogger(__name__)

SUFFIX = ".aldesk"

KEEP_BACKUPS = 3

# While a project is open, a backup is also made every so many journaled actions or minutes (whichever comes first,
# and only once something changed): a long session is never further than that from a good copy.
BACKUP_EVERY_ACTIONS = 200

BACKUP_EVERY_SECONDS = 15 * 60

_HASHES_DIGEST = "hashes_sha1"  # meta key: sha1 of the items' hashes as last stored by set_hashes

_SQLITE_MAGIC = b"SQLite format 3\x00"

# Stored JSON is read back only up to a size an aldesk could have written: an action names at most every item of
# the project once in ``items`` and once in ``was`` (under 64 characters per item with its time and origin), a
# setting is a few values. A crafted 20-million-entry action is refused before it is parsed into memory.
_ACTION_CHARS_BASE = 1 << 20

_ACTION_CHARS_PER_ITEM = 64

_SETTING_CHARS = 16 << 20

# Anything that can come out of reading a damaged or hand-edited file (RecursionError: a deeply nested JSON
# value). Caught only around reads of stored data, where any of them means "the file is not what we wrote", never
# around our own logic.
_DATA_ERRORS = (
    sqlite3.DatabaseError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    RecursionError,
)


class ProjectError(UserError):
    """A project file that cannot be used as is; ``backup`` is the newest good backup, if there is one."""

    def __init__(self, message: str, backup: Path | None = None) -> None:
        super().__init__(message)
        self.backup = backup


class ProjectLocked(ProjectError):
    """The project is open for writing in another aldesk (a window or a command); ``holder`` says which, if known."""

    def __init__(self, message: str, held: LockHeld) -> None:
        super().__init__(message)
        self.holder = held.holder


def _locked_error(path: Path, held: LockHeld, then: str) -> ProjectLocked:
    holder = held.holder
    if holder is not None and holder.is_this_process():
        return ProjectLocked(
            f"{path} is already open in this aldesk (process {holder.pid}); close it first.", held
        )
    who = f" ({holder.describe()})" if holder is not None else ""
    return ProjectLocked(
        f"{path} is open in another aldesk window or command{who}. A project can be changed in one place at a "
        f"time: close it there, then {then}. `aldesk export` and `aldesk info` can read it meanwhile.",
        held,
    )


def _writer_lock(path: Path, then: str = "open it again") -> WriterLock:
    try:
        return WriterLock.acquire(path)
    except LockHeld as held:
        raise _locked_error(path, held, then) from None


def _reason(exc: BaseException) -> str:
    """An OS or SQLite failure in the user's words: a full disk and a read-only one are named as such."""
    text = str(exc)
    if getattr(exc, "errno", None) == errno.ENOSPC or "full" in text:
        return "the disk is full"
    if getattr(exc, "errno", None) in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly" in text:
        return "it is read-only"
    return getattr(exc, "strerror", None) or text or type(exc).__name__
