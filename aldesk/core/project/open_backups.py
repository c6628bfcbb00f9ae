"""Backups while a project is open: every so many journaled actions or seconds, in a background thread."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from aldesk.core.project.backups import _make_backup
from aldesk.core.project.connect import _connect_readonly
from aldesk.core.project.errors import _reason
from aldesk.core.project.lock import WriterLock


class ProjectBackups:
    """The part of :class:`~aldesk.core.project.store.Project` that makes backups while it is open.

    The caller (the GUI thread, on every key press) only counts; the backup runs in a background thread with its
    own read-only connection."""

    path: Path
    backup: Path | None
    backup_problem: str | None
    backup_every_actions: int
    backup_every_seconds: float
    _writer: WriterLock | None
    _since_backup: int
    _last_backup: float
    _backup_thread: threading.Thread | None

    def _count_for_backup(self, n: int) -> None:
        """After a commit of ``n`` actions: start a backup in the background when one is due (cheap otherwise)."""
        self._since_backup += n
        due = self._since_backup >= self.backup_every_actions or (
            self._since_backup > 0 and time.monotonic() - self._last_backup >= self.backup_every_seconds
        )
        if (
            not due
            or self._writer is None
            or (self._backup_thread is not None and self._backup_thread.is_alive())
        ):
            return
        self._since_backup = 0
        self._last_backup = time.monotonic()
        self._backup_thread = threading.Thread(target=self._backup_now, name="aldesk-backup", daemon=True)
        self._backup_thread.start()

    def _backup_now(self) -> None:
        try:
            src = _connect_readonly(self.path)
        except sqlite3.Error as exc:
            self.backup_problem = f"no backup of {self.path.name} could be made ({_reason(exc)})"
            return
        try:
            made, self.backup_problem = _make_backup(src, self.path)
        finally:
            src.close()
        if made is not None:
            self.backup = made

    def wait_for_backup(self) -> Path | None:
        """Wait for a backup running in the background, if any; returns the newest backup this project made."""
        thread = self._backup_thread
        if thread is not None:
            thread.join()
        return self.backup
