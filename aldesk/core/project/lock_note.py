"""Who holds a project's writer lock: the side file ``photos.aldesk.lock``, JSON ``{"host", "pid", "started"}``.

Only for the message a second aldesk shows. The name may hold something aldesk did not write (a symlink, a
folder, a FIFO, a user's file): it is never opened for writing; a note goes to a fresh temporary file renamed over
the name, and only when the name is free or holds an earlier note of aldesk's own (see
:mod:`aldesk.core.project.lock`)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aldesk.core.project.lock_os import _O_BINARY, _O_NOFOLLOW, _O_NONBLOCK, _plain

log = logging.getLogger(__name__)

_NOTE_MAX = 4096  # a holder note is one short JSON line; anything larger is not ours


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


def lock_path(project: Path) -> Path:
    """The side file with the holder's details; symlinks resolved, so two names of one file share one note."""
    real = Path(project).resolve()
    return real.with_name(real.name + ".lock")


def _clean_note_temps(side: Path) -> None:
    # A note's temporary file lives only while its writer holds the lock, which we hold now: any left is stale.
    pattern = re.compile(rf"\.{re.escape(side.name)}\.\d+\.tmp")
    with contextlib.suppress(OSError):
        for p in side.parent.glob(f".{side.name}.*.tmp"):
            if pattern.fullmatch(p.name):
                with contextlib.suppress(OSError):
                    if _plain(os.lstat(p)):
                        p.unlink()


def _own_note(side: Path) -> bool | None:
    """Whether ``side`` may be replaced by our note: None if free, True if an earlier note of aldesk's own."""
    try:
        st = os.lstat(side)
    except FileNotFoundError:
        return None
    if not _plain(st) or st.st_size > _NOTE_MAX:
        return False
    return _read_note(side) is not None or st.st_size == 0  # empty: an older aldesk killed mid-write


def _write_holder(side: Path) -> tuple[int, int] | None:
    if _own_note(side) is False:
        log.warning(
            "%s is not a lock note of aldesk (a link, a folder or someone's file); it is left alone and "
            "the project's lock works without it",
            side,
        )
        return None
    info = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": datetime.now().isoformat(timespec="seconds"),
    }
    tmp = side.with_name(f".{side.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_BINARY, 0o644)
    try:
        try:
            os.write(fd, json.dumps(info).encode("utf-8"))
            st = os.fstat(fd)
        finally:
            os.close(fd)
        os.replace(tmp, side)  # replaces the name, never writes into whatever was there
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return st.st_dev, st.st_ino


def _read_note(side: Path) -> Holder | None:
    try:
        fd = os.open(side, os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_BINARY)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        info = json.loads(os.read(fd, _NOTE_MAX).decode("utf-8"))
        return Holder(str(info["host"]), int(info["pid"]), str(info["started"]))
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return None  # not ours (or being replaced right now): the message goes without details
    finally:
        os.close(fd)


def read_holder(project: Path | str) -> Holder | None:
    """The holder named in the side file of ``project``, if it holds a note of ours."""
    return _read_note(lock_path(Path(project)))
