"""The project file: one SQLite file (``*.aldesk``) holding the items, classes, labels and the action log.

This module is its life cycle: create, open (read-write under the writer lock, or a read-only snapshot), close.
Reading is :mod:`.reading`, journaling :mod:`.writing`, backups while open :mod:`.open_backups`, the connections
:mod:`.connect`, writing a new file :mod:`.create`, the records handed out :mod:`.records`.

Durability is the point of this module. Every user action is ONE committed transaction before
:meth:`Project.journal` returns, so a label the user saw acknowledged survives a crash or a power cut. Opening a
project checks its integrity and its schema, keeps a rolling backup of the last good states (at open and every so
many labels while it is open) and migrates old schema versions; a damaged file is reported with the backup that
can replace it (:func:`recover`). No pickle: vectors never live here, actions are JSON.

A project folder can come from anyone (a zip, a git clone, a shared drive), so nothing here follows a link out of
it or deletes a file it did not make: the backup folder must be a real folder, only files named as aldesk names
its backups are ever rotated out, temporary files are created exclusively and removed only once their maker is
gone, and a schema with objects aldesk did not create (a trigger, a view) is refused before anything runs.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Self

import numpy as np

from aldesk.core.dataset import Dataset
from aldesk.core.labeling.session import Session
from aldesk.core.project.backups import _clean_temps, _make_backup
from aldesk.core.project.checks import (
    _check_classes,
    _check_con,
    _check_file,
    _check_head,
    _damaged,
    _open_error,
    _read_only_error,
    _schema_version,
    _wal_has_data,
)
from aldesk.core.project.connect import _connect, _snapshot
from aldesk.core.project.create import write_new
from aldesk.core.project.errors import (
    _DATA_ERRORS,
    BACKUP_EVERY_ACTIONS,
    BACKUP_EVERY_SECONDS,
    ProjectError,
    _writer_lock,
)
from aldesk.core.project.lock import WriterLock
from aldesk.core.project.migrations import SCHEMA_VERSION, migrate
from aldesk.core.project.writing import ProjectWrites


class Project(ProjectWrites):
    """An open project file. Create with :meth:`create`, open with :meth:`open`.

    Opened for writing (the default), the project holds a writer lock (:mod:`aldesk.core.project.lock`) until
    :meth:`close`: a second aldesk that tries to open it for writing gets a :class:`ProjectLocked` error naming the
    holder, and nothing of the file is touched. ``readonly`` projects take no lock, write nothing and refuse every
    write.

    ``backup`` is the newest backup this open made (None if none could be made: ``backup_problem`` says why; it
    never stops the open). While open for writing, a backup is also made every ``backup_every_actions`` journaled
    actions or ``backup_every_seconds``, in a background thread with its own read-only connection: the caller (the
    GUI thread, on every key press) only counts. SQLite's backup of a WAL database reads one snapshot and never
    blocks the writer, so key presses commit as usual while it runs.
    """

    def __init__(
        self,
        path: Path,
        con: sqlite3.Connection,
        backup: Path | None = None,
        *,
        writer: WriterLock | None = None,
        readonly: bool = False,
    ) -> None:
        self.path = path
        self._con = con
        self._writer = writer
        self.readonly = readonly
        self._lock = threading.Lock()  # the UI may save hashes from its worker thread
        self.backup = backup
        self.backup_problem: str | None = None
        self.migrated_from: list[int] = []
        self.open_elsewhere = False  # read-only: whether another aldesk had it open for writing
        self.last_commit_seconds = 0.0
        self.backup_every_actions = BACKUP_EVERY_ACTIONS
        self.backup_every_seconds = BACKUP_EVERY_SECONDS
        self._since_backup = 0
        self._last_backup = time.monotonic()
        self._backup_thread: threading.Thread | None = None
        with self._reading():
            # Changes only when ANOTHER connection commits: how a write here notices another program's.
            self._data_version = con.execute("PRAGMA data_version").fetchone()[0]
            self._meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            self.kind = self._meta["kind"]
            if self.kind not in ("image", "text"):
                raise ValueError(f"unknown kind {self.kind!r}")
            self._class_ids: dict[str, int] = {}
            for cid, name in con.execute("SELECT id, name FROM classes ORDER BY id"):
                self._class_ids[str(name)] = int(cid)
            ids = con.execute("SELECT count(*), min(id), max(id) FROM items").fetchone()
            self.n_items = int(ids[0])
            if self.n_items and (ids[1] != 0 or ids[2] != self.n_items - 1):
                raise ValueError("item ids are not 0..N-1")

    # ------------------------------------------------------------------ create / open
    @classmethod
    def create(
        cls,
        path: Path | str,
        dataset: Dataset,
        classes: list[str] | tuple[str, ...] = (),
        *,
        model_id: str,
        card_path: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Project:
        """Write a new project for ``dataset``. Refuses to overwrite an existing file (or link)."""
        path = Path(path)
        if os.path.lexists(path):
            raise ProjectError(f"{path} exists already; choose another name or open it.")
        _check_classes(classes)
        return cls._create(path, dataset, classes, model_id=model_id, card_path=card_path, settings=settings)

    @classmethod
    def _create(
        cls,
        path: Path,
        dataset: Dataset,
        classes: list[str] | tuple[str, ...],
        *,
        model_id: str,
        card_path: str | None,
        settings: dict[str, Any] | None,
    ) -> Project:
        writer = write_new(path, dataset, classes, model_id=model_id, card_path=card_path, settings=settings)
        try:
            return cls._open(path, backup=False, writer=writer)
        except BaseException:
            writer.release()
            raise

    @classmethod
    def open(cls, path: Path | str, *, readonly: bool = False) -> Project:
        """Open a project: writer lock, integrity and schema check, rolling backup, migration of older versions.

        Raises :class:`ProjectLocked` when another aldesk has it open for writing. With ``readonly`` the project is
        read into memory as last committed, with no lock, backup or migration: nothing at all is written, so it
        works on a read-only medium and beside a running writer; any write raises :class:`ProjectError`. (A file in
        an older format is migrated in memory only.)
        """
        path = Path(path)
        if readonly:
            return cls._open(path, backup=False, readonly=True)
        return cls._open(path, backup=True)

    @classmethod
    def _open(
        cls, path: Path, *, backup: bool, readonly: bool = False, writer: WriterLock | None = None
    ) -> Project:
        if not path.exists():
            raise ProjectError(f"{path} does not exist.")
        if not path.is_file():
            raise ProjectError(f"{path} is a folder, not an aldesk project file.")
        _check_head(path)
        if readonly:
            return cls._open_readonly(path)
        if writer is None:
            # First: a project open elsewhere is refused before anything here reads, backs up or migrates it.
            writer = _writer_lock(path)
        try:
            return cls._open_locked(path, backup=backup, writer=writer)
        except BaseException:
            writer.release()
            raise

    @classmethod
    def _open_readonly(cls, path: Path) -> Project:
        try:
            con, elsewhere = _snapshot(path)
        except sqlite3.Error as exc:
            if _wal_has_data(path) and not os.access(path.parent, os.W_OK):
                raise ProjectError(
                    f"{path} has commits in {path.name}-wal that SQLite reads only in a writable folder; copy "
                    "the project with its -wal and -shm to a writable folder to read it."
                ) from None
            raise _damaged(path, str(exc)) from None
        try:
            why = _check_con(path, con)
            if why is not None:
                raise _damaged(path, why)
            version = _schema_version(path, con)
            if version < SCHEMA_VERSION:
                con.execute("BEGIN")  # in memory: the file keeps its format until it is opened for writing
                migrate(con, version)
                con.execute("COMMIT")
            project = cls(path, con, readonly=True)
            project.open_elsewhere = elsewhere
            return project
        except ProjectError:
            con.close()
            raise
        except _DATA_ERRORS as exc:
            con.close()
            raise _damaged(path, str(exc) or type(exc).__name__) from None

    @classmethod
    def _open_locked(cls, path: Path, *, backup: bool, writer: WriterLock) -> Project:
        # Checked read-only BEFORE the read-write connection, which switches the file to WAL (a write). Under our
        # lock nobody else writes it, so with no commits waiting in a -wal it is read immutable: nothing created.
        why = _check_file(path, immutable=writer.held and not _wal_has_data(path))
        if why is not None:
            if "unable to open" in why and not os.access(path.parent, os.W_OK):
                raise _read_only_error(path)
            raise _damaged(path, why)
        if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
            raise _read_only_error(path)
        _clean_temps(path)
        try:
            con = _connect(path)
        except sqlite3.Error as exc:
            raise _open_error(path, exc) from None
        try:
            version = _schema_version(path, con)
            made, problem = _make_backup(con, path) if backup else (None, None)
            migrated = []
            if version < SCHEMA_VERSION:
                con.execute("BEGIN IMMEDIATE")
                try:
                    migrated = migrate(con, version)
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            project = cls(path, con, made, writer=writer)
            project.backup_problem = problem
            project.migrated_from = migrated
            project._claim_name()
            return project
        except ProjectError:
            con.close()
            raise
        except _DATA_ERRORS as exc:
            con.close()
            raise _open_error(path, exc) from None

    def _claim_name(self) -> None:
        """Record the name this project is open under, in the database file itself.

        SQLite finds a -wal by name. A file with two names (a hard link) killed while open under one keeps its last
        commits in that name's -wal, which an open under the other name would not see, and whose later replay would
        undo what was written meanwhile. The name is written (and checkpointed into the file, where another name
        sees it) only when it changes, so ordinary opens add no write."""
        name = str(self.path.absolute())
        prev = self._meta.get("open_as")
        if prev == name:
            return
        if prev and _wal_has_data(Path(prev)):
            with contextlib.suppress(OSError):
                if os.path.samefile(prev, self.path):
                    raise ProjectError(
                        f"{self.path} is the same file as {prev} (a second name for it), which was not closed "
                        f"cleanly: its last changes are in {Path(prev).name}-wal. Open it as {prev} once (and close "
                        "it); then this name works too."
                    )
        self._set_meta({"open_as": name})
        with contextlib.suppress(sqlite3.Error):
            self._con.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        """Close the file, then release the writer lock (after the close: SQLite checkpoints the WAL on it).

        A backup still running is waited for first: it reads the file this lock guards."""
        thread, self._backup_thread = self._backup_thread, None
        if thread is not None:
            thread.join()
        with self._lock:
            try:
                self._con.close()
            finally:
                if self._writer is not None:
                    self._writer.release()
                    self._writer = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ session
    def open_session(
        self,
        vectors: np.ndarray,
        eligible: np.ndarray | None = None,
        *,
        slots: Any = None,
        **session_kwargs: Any,
    ) -> Session:
        """A labeling session over ``vectors`` (one row per item), restored to the saved state and journaling here.

        ``slots``: see :meth:`Session.restore` (stored k-NN neighbour slots, to skip the rebuild)."""
        if vectors.shape[0] != self.n_items:
            raise ProjectError(
                f"The embeddings have {vectors.shape[0]} rows but the project has {self.n_items} items; "
                "embed the project's own items."
            )
        session = Session(vectors, self.classes, eligible=eligible, journal=self.journal, **session_kwargs)
        session.restore(self.labels(), self.skipped(), self.actions(), slots=slots)
        return session
