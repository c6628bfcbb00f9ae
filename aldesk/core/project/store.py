"""The project file: one SQLite file (``*.aldesk``) holding the items, classes, labels and the action log.

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
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import numpy as np

from aldesk import __version__
from aldesk.core.dataset import SOURCE_SEP, Dataset
from aldesk.core.labeling.actions import Action
from aldesk.core.labeling.ops import op
from aldesk.core.labeling.session import Session
from aldesk.core.project.backups import _clean_temps, _make_backup, _remove_plain
from aldesk.core.project.checks import (
    _check_classes,
    _check_con,
    _check_file,
    _check_head,
    _damaged,
    _open_error,
    _read_only_error,
    _ro_uri,
    _schema_version,
    _wal_has_data,
    _write_error,
)
from aldesk.core.project.errors import (
    _ACTION_CHARS_BASE,
    _ACTION_CHARS_PER_ITEM,
    _DATA_ERRORS,
    _HASHES_DIGEST,
    _SETTING_CHARS,
    BACKUP_EVERY_ACTIONS,
    BACKUP_EVERY_SECONDS,
    ProjectError,
    _reason,
    _writer_lock,
)
from aldesk.core.project.lock import WriterLock, reader_lock, remove_if_abandoned
from aldesk.core.project.migrations import CURRENT_SCHEMA, SCHEMA_VERSION, migrate


@dataclass(frozen=True)
class LabelRow:
    item: int
    cls: str
    time: float
    origin: str


@dataclass(frozen=True)
class SourceRow:
    """One source of a project's items: its key prefix ("" for the first), folder or CSV, CSV header (JSON)."""

    prefix: str
    root: Path
    columns: str = ""


def source_columns(ds: Dataset) -> str:
    """What is recorded of a CSV source: its header and the text and label columns read (JSON)."""
    if not ds.columns:
        return ""
    return json.dumps({"columns": list(ds.columns), "text": ds.text_column, "label": ds.label_column})


@dataclass(frozen=True)
class RelinkReport:
    found: int
    missing: list[str]


def _connect(path: Path) -> sqlite3.Connection:
    # mode=rw: never create a file by opening a mistyped path. Autocommit (isolation_level=None) so that every
    # transaction is an explicit BEGIN ... COMMIT below, with nothing implicit left open.
    con = sqlite3.connect(
        f"{path.absolute().as_uri()}?mode=rw", uri=True, isolation_level=None, check_same_thread=False
    )
    con.execute("PRAGMA busy_timeout = 5000")
    con.execute("PRAGMA trusted_schema = OFF")  # the schema is checked; this is the belt to those braces
    # WAL + synchronous=FULL: a commit returns only after the WAL is fsynced, so a label acknowledged on screen
    # survives a power cut, not just a crash (NORMAL in WAL mode only survives application crashes). That is
    # one fsync per key press: a few ms at human labeling speed, which nobody notices (measured in the report).
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = FULL")
    con.execute("PRAGMA foreign_keys = ON")
    return con


def _connect_readonly(path: Path) -> sqlite3.Connection:
    # mode=ro: SQLite refuses every write on this connection; in WAL mode it still sees each commit of the writer.
    con = sqlite3.connect(_ro_uri(path), uri=True, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA busy_timeout = 5000")
    return con


def _snapshot(path: Path) -> tuple[sqlite3.Connection, bool]:
    """The project as last committed, copied into memory; and whether a writer had it open meanwhile.

    A read-only command writes nothing: with nobody writing (its shared lock keeps writers out for the moment
    of the copy) the file is read immutable, which creates no -wal or -shm beside it and works on a read-only
    medium. With a writer there, its -wal and -shm exist and SQLite reads its commits from them."""
    mem = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    try:
        with reader_lock(path) as alone:
            if alone and _wal_has_data(path):
                _read_private_copy(path, mem)
                return mem, False
            src = sqlite3.connect(_ro_uri(path, immutable=alone), uri=True)
            try:
                src.execute("PRAGMA busy_timeout = 5000")
                src.backup(mem)
            finally:
                src.close()
    except BaseException:
        mem.close()
        raise
    return mem, not alone


def _read_private_copy(path: Path, mem: sqlite3.Connection) -> None:
    """Read a project whose writer crashed (its last commits still in the -wal) without writing beside it.

    SQLite reads a -wal only through the -shm index, which even a read-only connection writes; so the file and its
    -wal are copied into a private temporary folder (under our shared lock nobody writes them meanwhile) and read
    there: the project's folder is left exactly as it was, on a read-only medium too."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="aldesk-read-") as tmp:
        copy = Path(tmp) / "p.aldesk"
        shutil.copyfile(path, copy)
        shutil.copyfile(f"{path}-wal", f"{copy}-wal")
        src = sqlite3.connect(copy, isolation_level=None)
        try:
            src.backup(mem)
        finally:
            src.close()


class Project:
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
        # Built under a temporary name, locked from its first byte, and put in place at the end without replacing
        # anything: a crash never leaves a half-made project, and of two aldesks creating the same project the
        # second is told, not overwriting. A kill leaves the temporary file, which the next open or create of this
        # project removes (its lock is gone with its maker).
        _clean_temps(path)
        tmp = path.with_name(f".{path.name}.creating-{os.getpid()}")
        remove_if_abandoned(tmp)  # left by an earlier process of the same pid
        try:
            writer = WriterLock.create(tmp)
        except FileExistsError:
            raise ProjectError(
                f"{path} is being created by another part of this aldesk; wait for it."
            ) from None
        except OSError as exc:
            raise ProjectError(f"Cannot create {path}: {_reason(exc)}.") from None
        try:
            con = sqlite3.connect(tmp, isolation_level=None)
            try:
                con.executescript(CURRENT_SCHEMA)
                con.execute("BEGIN")
                meta = {
                    "schema_version": str(SCHEMA_VERSION),
                    "created": datetime.now().isoformat(timespec="seconds"),
                    "aldesk_version": __version__,
                    "kind": dataset.kind,
                    "root": str(Path(dataset.root).absolute()),
                    "model_id": model_id,
                    "card_path": card_path or "",
                }
                if (
                    dataset.columns
                ):  # a CSV: what a rescan checks the CSV against (aldesk.core.project.rescan)
                    meta["columns"] = source_columns(dataset)
                con.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
                known = dataset.known_labels or [None] * len(dataset)
                con.executemany(
                    "INSERT INTO items (id, key, known_label) VALUES (?, ?, ?)",
                    zip(range(len(dataset)), dataset.keys, known, strict=True),
                )
                con.executemany("INSERT INTO classes (name) VALUES (?)", [(c,) for c in classes])
                con.executemany(
                    "INSERT INTO settings VALUES (?, ?)",
                    [(k, json.dumps(v)) for k, v in (settings or {}).items()],
                )
                con.execute("COMMIT")
            finally:
                con.close()
            writer.move_to(path)
        except FileExistsError:
            writer.release()
            raise ProjectError(f"{path} exists already; choose another name or open it.") from None
        except sqlite3.IntegrityError as exc:
            writer.release()
            raise ProjectError(f"Cannot create {path}: the item list has duplicates ({exc}).") from None
        except (OSError, sqlite3.Error) as exc:
            writer.release()
            raise ProjectError(f"Cannot create {path}: {_reason(exc)}.") from None
        except BaseException:
            writer.release()
            raise
        finally:
            for p in (tmp, Path(f"{tmp}-journal")):
                _remove_plain(p)
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

    # ------------------------------------------------------------------ backups while open
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

    # ------------------------------------------------------------------ reading
    @contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except _DATA_ERRORS as exc:
            raise _damaged(self.path, str(exc) or type(exc).__name__) from None

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock, self._reading():
            return self._con.execute(sql, params).fetchall()

    @property
    def model_id(self) -> str:
        return self._meta.get("model_id", "")

    @property
    def card_path(self) -> str | None:
        return self._meta.get("card_path") or None

    @property
    def root(self) -> Path:
        return Path(self._meta["root"])

    @property
    def meta(self) -> dict[str, str]:
        return dict(self._meta)

    @property
    def classes(self) -> list[str]:
        return list(self._class_ids)

    def dataset(self) -> Dataset:
        """The items as the last rescan left them (:mod:`aldesk.core.project.rescan`), every source's folder."""
        rows = self._rows("SELECT key, known_label FROM items ORDER BY id")
        with self._reading():
            keys = [str(k) for k, _ in rows]
            known = [None if lab is None else str(lab) for _, lab in rows]
        missing = frozenset(self.missing())  # a scan in SQLite: no third column per row in Python at 1M items
        sources = {s.prefix: s.root for s in self.sources()[1:]}
        return Dataset(
            self.kind,
            self.root,
            keys,
            known if any(k is not None for k in known) else None,
            sources=sources,
            missing=missing,
        )

    def sources(self) -> list[SourceRow]:
        """Every source of the items: the first (``root``, prefix "") and those added since, in that order."""
        rows = self._rows("SELECT prefix, root, columns FROM sources ORDER BY id")
        with self._reading():
            first = SourceRow("", self.root, self._meta.get("columns", ""))
            return [first, *(SourceRow(str(p), Path(r), str(c)) for p, r, c in rows)]

    def missing(self) -> list[int]:
        """Items whose file (or CSV row) was gone at the last rescan, in item order."""
        return [int(i) for (i,) in self._rows("SELECT id FROM items WHERE missing != 0 ORDER BY id")]

    def labels(self) -> dict[int, str]:
        return {r.item: r.cls for r in self.label_rows()}

    def label_rows(self) -> list[LabelRow]:
        """Labels with when and how they were given, in item order."""
        names = {v: k for k, v in self._class_ids.items()}
        rows = self._rows("SELECT item, class, time, origin FROM labels ORDER BY item")
        with self._reading():
            out = [LabelRow(int(i), names[c], float(t), str(o)) for i, c, t, o in rows]
            self._check_items(r.item for r in out[:1] + out[-1:])  # item order: the ends bound them all
            return out

    def skipped(self) -> set[int]:
        with self._reading():
            out = {int(i) for (i,) in self._rows("SELECT item FROM skipped")}
            self._check_items(out)
            return out

    def actions(self) -> list[Action]:
        # Measured in SQL before anything is parsed: a crafted action of millions of entries (or nesting) must be
        # refused as damage, not fill the memory or overflow the parser's stack.
        limit = _ACTION_CHARS_BASE + _ACTION_CHARS_PER_ITEM * self.n_items
        (longest,) = self._rows("SELECT max(length(data)) FROM actions")[0]
        if longest is not None and int(longest) > limit:
            raise _damaged(
                self.path,
                f"an action of {int(longest):,} characters, more than aldesk writes for "
                f"{self.n_items:,} items",
            )
        rows = self._rows("SELECT data FROM actions ORDER BY seq")
        with self._reading():
            out = [Action.from_dict(json.loads(d)) for (d,) in rows]
            for a in out:
                if a.items:
                    self._check_items((min(a.items), max(a.items)))
            return out

    def _check_items(self, items: Any) -> None:
        for i in items:
            if not 0 <= i < self.n_items:
                raise ValueError(f"item {i} is not one of the project's {self.n_items} items")

    def next_seq(self) -> int:
        (last,) = self._rows("SELECT max(seq) FROM actions")[0]
        return 0 if last is None else int(last) + 1

    def counts(self) -> dict[str, int]:
        """Labeled items per class, every class listed."""
        out = dict.fromkeys(self._class_ids, 0)
        names = {v: k for k, v in self._class_ids.items()}
        for c, n in self._rows("SELECT class, count(*) FROM labels GROUP BY class"):
            out[names.get(c, f"#{c}")] = int(n)
        return out

    def hashes(self) -> list[str | None]:
        return [h for (h,) in self._rows("SELECT hash FROM items ORDER BY id")]

    def get_setting(self, key: str, default: Any = None) -> Any:
        rows = self._rows("SELECT length(value) FROM settings WHERE key = ?", (key,))
        if not rows:
            return default
        if rows[0][0] is not None and int(rows[0][0]) > _SETTING_CHARS:
            raise _damaged(self.path, f"the setting {key!r} is {int(rows[0][0]):,} characters long")
        rows = self._rows("SELECT value FROM settings WHERE key = ?", (key,))
        with self._reading():
            return json.loads(rows[0][0])

    # ------------------------------------------------------------------ writing
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction, committed (and fsynced) on exit or rolled back on any error."""
        if self.readonly:
            raise ProjectError(f"{self.path} was opened read-only; nothing was changed.")
        with self._lock:
            t0 = time.perf_counter()
            if self._writer is not None and not self._writer.is_current():
                # A stat per action (microseconds): commits into a file that is no longer at its name are lost.
                raise ProjectError(
                    f"Another program moved, replaced or deleted {self.path} while it was open here; your last "
                    "action was not saved. Close the project and open it again."
                )
            try:
                self._con.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _write_error(self.path, exc) from None
            try:
                (version,) = self._con.execute("PRAGMA data_version").fetchone()
                if version != self._data_version:
                    # Another connection committed (a second writer that got past the lock, a sync client, the
                    # sqlite3 shell): what this project holds in memory may be stale. Named as such, not damage.
                    raise ProjectError(
                        f"Another program changed {self.path} while it was open here; your last action was not "
                        "saved. Close the project and open it again to see what it changed."
                    )
                yield self._con
                self._con.execute("COMMIT")
            except BaseException as exc:
                if self._con.in_transaction:
                    self._con.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _write_error(self.path, exc) from None
                raise
            self.last_commit_seconds = time.perf_counter() - t0

    def set_setting(self, key: str, value: Any) -> None:
        data = json.dumps(value)
        with self._write() as con:
            con.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, data))

    def set_hashes(self, hashes: list[str] | tuple[str, ...]) -> None:
        """Content hash per item (from the embedder), to notice files that changed since they were embedded."""
        if len(hashes) != self.n_items:
            raise ValueError(f"{len(hashes)} hashes for {self.n_items} items")
        # The app calls this on every open: at 1M items the UPDATEs took ~1.5 s, a digest of the list ~0.1 s.
        digest = hashlib.sha1("\n".join(hashes).encode("utf-8", "surrogatepass")).hexdigest()
        if self._meta.get(_HASHES_DIGEST) == digest:
            return
        with self._write() as con:
            con.executemany(
                "UPDATE items SET hash = ? WHERE id = ?", zip(hashes, range(self.n_items), strict=True)
            )
            con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_HASHES_DIGEST, digest))
        self._meta[_HASHES_DIGEST] = digest

    def set_scanned(self, fingerprint: str) -> None:
        """The CSVs' fingerprint at a rescan that found nothing new (:mod:`aldesk.core.project.rescan`)."""
        self._set_meta({"scanned": fingerprint})

    def set_model(self, model_id: str, card_path: str | None = None) -> None:
        self._set_meta({"model_id": model_id, "card_path": card_path or ""})

    def _set_meta(self, values: dict[str, str]) -> None:
        with self._write() as con:
            con.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())
        self._meta.update(values)

    def relink(self, new_root: Path | str) -> RelinkReport:
        """Point the project at a moved image folder (or CSV). Refuses a folder holding none of the images."""
        new_root = Path(new_root).absolute()
        keys = self.dataset().keys
        if self.kind == "image":  # the first source's items; those of added sources stay where they are
            keys = [k for k in keys if SOURCE_SEP not in k]
        if self.kind == "image":
            if not new_root.is_dir():
                raise ProjectError(f"{new_root} is not a folder.")
            missing = [k for k in keys if not (new_root / k).is_file()]
            if keys and len(missing) == len(keys):
                raise ProjectError(
                    f"None of the {len(keys)} images of this project are in {new_root} "
                    f"(looked for e.g. {keys[0]}); nothing was changed."
                )
        else:
            if not new_root.is_file():
                raise ProjectError(f"{new_root} is not a file.")
            missing = []  # the texts live in the project; the CSV is only where they came from
        self._set_meta({"root": str(new_root)})
        return RelinkReport(found=len(keys) - len(missing), missing=missing)

    def commit_items(self, action: Action, write: Callable[[sqlite3.Connection], dict]) -> None:
        """Change the item list (a rescan, a new source) and log it as ``action``, in ONE transaction.

        ``write(con)`` makes the changes inside it and returns what the logged record keeps beyond the action;
        a kill at any moment leaves the file as it was before or as it is after."""
        ids = dict(self._class_ids)
        with self._write() as con:
            extra = write(con) | op(action.op).project(con, action, ids, _check_classes)
            data = json.dumps(action.to_dict() | extra)
            con.execute(
                "INSERT INTO actions (seq, op, time, data) VALUES (?, ?, ?, ?)",
                (action.seq, action.op, action.time, data),
            )
            (n,) = con.execute("SELECT count(*) FROM items").fetchone()
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        self._class_ids = ids
        self.n_items = int(n)
        self._meta = meta
        self._count_for_backup(1)

    def journal(self, action: Action) -> None:
        """Persist one action: append it to the log and update labels/skips/classes, in ONE transaction.

        Raises (and changes nothing) if the action does not fit the project; the Session then changes nothing.
        """
        self.journal_many([action])

    def journal_many(self, actions: list[Action]) -> None:
        """Persist several actions in ONE transaction: all of them or none (an import is never half done)."""
        ids = dict(self._class_ids)
        with self._write() as con:
            for action in actions:
                extra = self._apply(con, action, ids)
                data = json.dumps(action.to_dict() | extra)
                con.execute(
                    "INSERT INTO actions (seq, op, time, data) VALUES (?, ?, ?, ?)",
                    (action.seq, action.op, action.time, data),
                )
        self._class_ids = ids  # only once the commit succeeded
        self._count_for_backup(len(actions))

    def _apply(self, con: sqlite3.Connection, a: Action, ids: dict[str, int]) -> dict:
        """What ``a`` does to the file, inside the journal's transaction: its op says (aldesk.core.labeling.ops)."""
        kind = op(a.op)
        for i in a.items:
            if not 0 <= i < self.n_items:
                raise ValueError(f"item {i} is not in this project")
        return kind.project(con, a, ids, _check_classes)

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


def _rename_key(ids: dict[str, int], old: str, new: str) -> dict[str, int]:
    # Keep the order of classes (dicts keep insertion order; a plain pop/insert would move it to the end).
    return {(new if k == old else k): v for k, v in ids.items()}
