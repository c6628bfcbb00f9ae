"""The project file: one SQLite file (``*.aldesk``) holding the items, classes, labels and the action log.

Durability is the point of this module. Every user action is ONE committed transaction before
:meth:`Project.journal` returns, so a label the user saw acknowledged survives a crash or a power cut. Opening a
project checks its integrity, keeps a rolling backup of the last good states and migrates old schema versions;
a damaged file is reported with the backup that can replace it (:func:`recover`). No pickle: vectors never
live here, actions are JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import numpy as np

from aldesk import __version__
from aldesk.core.actions import Action
from aldesk.core.dataset import Dataset
from aldesk.core.lockfile import LockHeld, WriterLock, lock_path
from aldesk.core.migrations import CURRENT_SCHEMA, SCHEMA_VERSION, migrate
from aldesk.core.progress import UserError
from aldesk.core.session import Session

SUFFIX = ".aldesk"
KEEP_BACKUPS = 3
_HASHES_DIGEST = "hashes_sha1"  # meta key: sha1 of the items' hashes as last stored by set_hashes
_SQLITE_MAGIC = b"SQLite format 3\x00"
_TABLES = {"meta", "items", "classes", "labels", "actions", "skipped"}
# Anything that can come out of reading a damaged or hand-edited file. Caught only around reads of stored
# data, where any of them means "the file is not what we wrote", never around our own logic.
_DATA_ERRORS = (sqlite3.DatabaseError, ValueError, TypeError, KeyError, IndexError, OverflowError)


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
        return ProjectLocked(f"{path} is already open in this aldesk (process {holder.pid}); close it first.", held)
    who = f" ({holder.describe()})" if holder is not None else ""
    return ProjectLocked(
        f"{path} is open in another aldesk window or command{who}. A project can be changed in one place at a "
        f"time: close it there, then {then}. `aldesk export` and `aldesk info` can read it meanwhile.",
        held,
    )


def _writer_lock(path: Path, then: str = "open it again") -> WriterLock:
    try:
        return WriterLock.acquire(lock_path(path))
    except LockHeld as held:
        raise _locked_error(path, held, then) from None


@dataclass(frozen=True)
class LabelRow:
    item: int
    cls: str
    time: float
    origin: str


@dataclass(frozen=True)
class RelinkReport:
    found: int
    missing: list[str]


# ---------------------------------------------------------------------------------------------- backups
def companion_paths(path: Path | str) -> list[Path]:
    """Every path that belongs to the project ``path``: what an output (an export, a restore) must never replace.

    The project file itself, SQLite's ``-wal``, ``-shm`` and ``-journal`` beside it, the writer lock's side file,
    the backup folder (a folder: anything under it belongs too), and the temporary and set-aside files aldesk
    makes beside the project (``.NAME.creating-PID``, ``.NAME.recovering-PID``, ``NAME.damaged-*``,
    ``NAME.replaced-*``) that exist right now. Both the name as given and, when it is a symlink, the file it
    points to are covered, so a link to the project cannot be used to reach it.
    """
    given = Path(path).absolute()
    names = [given]
    real = given.resolve()
    if real != given:
        names.append(real)
    out: list[Path] = []
    for p in names:
        out += [p, *(p.with_name(p.name + ext) for ext in ("-wal", "-shm", "-journal"))]
        out.append(lock_path(p))
        out.append(backup_dir(p))
        try:
            for pattern in (f".{p.name}.creating-*", f".{p.name}.recovering-*", f"{p.name}.damaged-*",
                            f"{p.name}.replaced-*", f".{p.name}.lock.*.tmp"):
                out += sorted(p.parent.glob(pattern))
        except OSError:
            pass  # an unreadable folder: the fixed names above are still listed
    seen: set[Path] = set()
    return [p for p in out if not (p in seen or seen.add(p))]


def backup_dir(path: Path) -> Path:
    return Path(path).parent / f".{Path(path).name}.backups"


def list_backups(path: Path) -> list[Path]:
    """Backups of a project, newest first (the time is in the name, so the order survives copying)."""
    d = backup_dir(path)
    if not d.is_dir():
        return []
    return sorted(d.glob(f"*{SUFFIX}"), reverse=True)


def backup_time(backup: Path) -> str:
    """When a backup was made, for messages ("2024-05-01 14:03:22")."""
    stamp = backup.stem.rsplit("-", 3)[-3:]
    try:
        return datetime.strptime("-".join(stamp), "%Y%m%d-%H%M%S-%f").strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return datetime.fromtimestamp(backup.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S")


def _copy_db(src: sqlite3.Connection, dst_path: Path) -> None:
    """Consistent copy with the sqlite3 backup API (a file copy could catch a half-written WAL)."""
    tmp = dst_path.with_name(dst_path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst)
        # A backup is one self-contained file: no -wal beside it to lose when copied around.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
    os.replace(tmp, dst_path)


def _make_backup(con: sqlite3.Connection, path: Path) -> Path | None:
    d = backup_dir(path)
    try:
        d.mkdir(exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        target = d / f"{path.stem}-{stamp}{SUFFIX}"
        _copy_db(con, target)
        for old in list_backups(path)[KEEP_BACKUPS:]:
            old.unlink(missing_ok=True)
        return target
    except OSError:
        # A read-only folder must not stop the user from opening (and labeling in) a writable project file.
        return None


def _check_file(path: Path) -> str | None:
    """Why a file cannot be a usable project, or None if it looks fine. Opens it read-only: a damaged file is
    left exactly as it is, for :func:`recover` or a specialist."""
    try:
        con = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        _schema_version(path, con)  # a newer file must say so, not fail the table check below
        rows = con.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            return "; ".join(str(r[0]) for r in rows[:3])
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not _TABLES <= tables:
            return "it is not an aldesk project"
        return None
    except (sqlite3.Error, ValueError) as exc:
        return str(exc)
    finally:
        con.close()


def _damaged(path: Path, detail: str) -> ProjectError:
    good = next((b for b in list_backups(path) if _check_file(b) is None), None)
    msg = f"The project file {path} is damaged ({detail})."
    if good is None:
        return ProjectError(msg + " No backup of it was found.")
    return ProjectError(
        msg + f" A backup from {backup_time(good)} is at {good}. Run `aldesk recover {path}` to restore it "
        "(labels made after that time are lost).",
        backup=good,
    )


def recover(path: Path, backup: Path | None = None) -> Path:
    """Replace a damaged project by its newest good backup (or ``backup``); the damaged file is kept aside.

    Returns the backup that was restored.
    """
    path = Path(path)
    # Replacing the file under an aldesk that has it open would mix its WAL into the restored copy.
    lock = _writer_lock(path, "recover it")
    try:
        return _recover(path, backup)
    finally:
        lock.release()


def _recover(path: Path, backup: Path | None) -> Path:
    if backup is None:
        backup = next((b for b in list_backups(path) if _check_file(b) is None), None)
        if backup is None:
            raise ProjectError(f"No usable backup of {path} was found in {backup_dir(path)}.")
    elif (why := _check_file(Path(backup))) is not None:
        raise ProjectError(f"The backup {backup} cannot be used ({why}).")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    # The -wal and -shm belong to the damaged file: left in place, SQLite would replay them onto the backup.
    for ext in ("", "-wal", "-shm"):
        f = Path(str(path) + ext)
        if f.exists():
            os.replace(f, f.with_name(f"{path.name}.damaged-{stamp}{ext}"))
    src = sqlite3.connect(f"{Path(backup).absolute().as_uri()}?mode=ro", uri=True)
    try:
        _copy_db(src, path)
    finally:
        src.close()
    return Path(backup)


# ---------------------------------------------------------------------------------------------- project
def _connect(path: Path) -> sqlite3.Connection:
    # mode=rw: never create a file by opening a mistyped path. Autocommit (isolation_level=None) so that every
    # transaction is an explicit BEGIN ... COMMIT below, with nothing implicit left open.
    con = sqlite3.connect(f"{path.absolute().as_uri()}?mode=rw", uri=True, isolation_level=None,
                          check_same_thread=False)
    con.execute("PRAGMA busy_timeout = 5000")
    # WAL + synchronous=FULL: a commit returns only after the WAL is fsynced, so a label acknowledged on screen
    # survives a power cut, not just a crash (NORMAL in WAL mode only survives application crashes). That is
    # one fsync per key press: a few ms at human labeling speed, which nobody notices (measured in the report).
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = FULL")
    con.execute("PRAGMA foreign_keys = ON")
    return con


def _connect_readonly(path: Path) -> sqlite3.Connection:
    # mode=ro: SQLite refuses every write on this connection; in WAL mode it still sees each commit of the writer.
    con = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, isolation_level=None,
                          check_same_thread=False)
    con.execute("PRAGMA busy_timeout = 5000")
    return con


class Project:
    """An open project file. Create with :meth:`create`, open with :meth:`open`.

    Opened for writing (the default), the project holds a writer lock (:mod:`aldesk.core.lockfile`) until
    :meth:`close`: a second aldesk that tries to open it for writing gets a :class:`ProjectLocked` error naming the
    holder, and nothing of the file is touched. ``readonly`` projects take no lock and refuse every write.
    """

    def __init__(self, path: Path, con: sqlite3.Connection, backup: Path | None = None, *,
                 writer: WriterLock | None = None, readonly: bool = False) -> None:
        self.path = path
        self._con = con
        self._writer = writer
        self.readonly = readonly
        self._lock = threading.Lock()  # the UI may save hashes from its worker thread
        self.backup = backup
        self.migrated_from: list[int] = []
        self.last_commit_seconds = 0.0
        with self._reading():
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
        """Write a new project for ``dataset``. Refuses to overwrite an existing file."""
        path = Path(path)
        if path.exists():
            raise ProjectError(f"{path} exists already; choose another name or open it.")
        _check_classes(classes)
        # Locked before it exists: of two aldesks creating the same project, the second is told, not overwriting.
        writer = _writer_lock(path)
        try:
            return cls._create(path, dataset, classes, writer, model_id=model_id, card_path=card_path,
                               settings=settings)
        except BaseException:
            writer.release()
            raise

    @classmethod
    def _create(
        cls,
        path: Path,
        dataset: Dataset,
        classes: list[str] | tuple[str, ...],
        writer: WriterLock,
        *,
        model_id: str,
        card_path: str | None,
        settings: dict[str, Any] | None,
    ) -> Project:
        if path.exists():
            raise ProjectError(f"{path} exists already; choose another name or open it.")
        # Built under a temporary name and renamed at the end: a crash never leaves a half-made project behind.
        tmp = path.with_name(f".{path.name}.creating-{os.getpid()}")
        tmp.unlink(missing_ok=True)
        try:
            con = sqlite3.connect(tmp, isolation_level=None)
            try:
                con.executescript(CURRENT_SCHEMA)
                con.execute("BEGIN")
                meta = {
                    "schema_version": str(SCHEMA_VERSION), "created": datetime.now().isoformat(timespec="seconds"),
                    "aldesk_version": __version__, "kind": dataset.kind, "root": str(Path(dataset.root).absolute()),
                    "model_id": model_id, "card_path": card_path or "",
                }
                con.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
                known = dataset.known_labels or [None] * len(dataset)
                con.executemany("INSERT INTO items (id, key, known_label) VALUES (?, ?, ?)",
                                zip(range(len(dataset)), dataset.keys, known, strict=True))
                con.executemany("INSERT INTO classes (name) VALUES (?)", [(c,) for c in classes])
                con.executemany("INSERT INTO settings VALUES (?, ?)",
                                [(k, json.dumps(v)) for k, v in (settings or {}).items()])
                con.execute("COMMIT")
            finally:
                con.close()
            os.replace(tmp, path)
        except sqlite3.IntegrityError as exc:
            raise ProjectError(f"Cannot create {path}: the item list has duplicates ({exc}).") from None
        except OSError as exc:
            raise ProjectError(f"Cannot create {path}: {exc.strerror or exc}.") from None
        finally:
            tmp.unlink(missing_ok=True)
        return cls._open(path, backup=False, writer=writer)

    @classmethod
    def open(cls, path: Path | str, *, readonly: bool = False) -> Project:
        """Open a project: writer lock, integrity check, rolling backup, migration of older schema versions.

        Raises :class:`ProjectLocked` when another aldesk has it open for writing. With ``readonly`` the project is
        read as the other aldesk last committed it, without lock, backup or migration; any write raises
        :class:`ProjectError`. (A file in an older format must be opened for writing once, to be migrated.)
        """
        path = Path(path)
        if readonly:
            return cls._open(path, backup=False, readonly=True)
        return cls._open(path, backup=True)

    @classmethod
    def _open(cls, path: Path, *, backup: bool, readonly: bool = False,
              writer: WriterLock | None = None) -> Project:
        if not path.exists():
            raise ProjectError(f"{path} does not exist.")
        if not path.is_file():
            raise ProjectError(f"{path} is a folder, not an aldesk project file.")
        if not readonly and writer is None:
            # First: a project open elsewhere is refused before anything here reads, backs up or migrates it.
            writer = _writer_lock(path)
        try:
            return cls._open_locked(path, backup=backup, readonly=readonly, writer=writer)
        except BaseException:
            if writer is not None:
                writer.release()
            raise

    @classmethod
    def _open_locked(cls, path: Path, *, backup: bool, readonly: bool, writer: WriterLock | None) -> Project:
        try:
            with open(path, "rb") as f:
                head = f.read(len(_SQLITE_MAGIC))
        except OSError as exc:
            raise ProjectError(f"Cannot read {path}: {exc.strerror or exc}.") from None
        if head != _SQLITE_MAGIC:
            if path.suffix != SUFFIX:
                raise ProjectError(f"{path} is not an aldesk project file.")
            raise _damaged(path, "it is not a database any more" if head else "it is empty")
        # Checked read-only BEFORE the read-write connection, which switches the file to WAL (a write).
        why = _check_file(path)
        if why is not None:
            raise _damaged(path, why)
        try:
            con = _connect_readonly(path) if readonly else _connect(path)
        except sqlite3.Error as exc:
            raise _open_error(path, exc) from None
        try:
            version = _schema_version(path, con)
            if readonly and version < SCHEMA_VERSION:
                raise ProjectError(
                    f"{path} is in an older file format ({version}); open it once in aldesk (not read-only) so "
                    "that it is upgraded."
                )
            made = _make_backup(con, path) if backup else None
            migrated = []
            if version < SCHEMA_VERSION:
                con.execute("BEGIN IMMEDIATE")
                try:
                    migrated = migrate(con, version)
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            project = cls(path, con, made, writer=writer, readonly=readonly)
            project.migrated_from = migrated
            return project
        except ProjectError:
            con.close()
            raise
        except _DATA_ERRORS as exc:
            con.close()
            raise _open_error(path, exc) from None

    def close(self) -> None:
        """Close the file, then release the writer lock (after the close: SQLite checkpoints the WAL on it)."""
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
        """The items as stored when the project was made (no rescan of the source)."""
        rows = self._rows("SELECT key, known_label FROM items ORDER BY id")
        with self._reading():
            keys = [str(k) for k, _ in rows]
            known = [None if lab is None else str(lab) for _, lab in rows]
        return Dataset(self.kind, self.root, keys, known if any(k is not None for k in known) else None)

    def labels(self) -> dict[int, str]:
        return {r.item: r.cls for r in self.label_rows()}

    def label_rows(self) -> list[LabelRow]:
        """Labels with when and how they were given, in item order."""
        names = {v: k for k, v in self._class_ids.items()}
        rows = self._rows("SELECT item, class, time, origin FROM labels ORDER BY item")
        with self._reading():
            return [LabelRow(int(i), names[c], float(t), str(o)) for i, c, t, o in rows]

    def skipped(self) -> set[int]:
        with self._reading():
            return {int(i) for (i,) in self._rows("SELECT item FROM skipped")}

    def actions(self) -> list[Action]:
        rows = self._rows("SELECT data FROM actions ORDER BY seq")
        with self._reading():
            return [Action.from_dict(json.loads(d)) for (d,) in rows]

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
        rows = self._rows("SELECT value FROM settings WHERE key = ?", (key,))
        if not rows:
            return default
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
            try:
                self._con.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _write_error(self.path, exc) from None
            try:
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
            con.executemany("UPDATE items SET hash = ? WHERE id = ?", zip(hashes, range(self.n_items), strict=True))
            con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_HASHES_DIGEST, digest))
        self._meta[_HASHES_DIGEST] = digest

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
                con.execute("INSERT INTO actions (seq, op, time, data) VALUES (?, ?, ?, ?)",
                            (action.seq, action.op, action.time, data))
        self._class_ids = ids  # only once the commit succeeded

    @staticmethod
    def _undo_one(con: sqlite3.Connection, seq: int | None) -> None:
        row = con.execute("SELECT op, data FROM actions WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            raise ValueError(f"cannot undo action {seq}: it is not in the log")
        op, target = row[0], json.loads(row[1])
        items = [int(i) for i in target["items"]]
        if op == "label":
            for i, w in zip(items, target["was"], strict=True):
                if w is None:
                    con.execute("DELETE FROM labels WHERE item = ?", (i,))
                else:
                    con.execute("INSERT OR REPLACE INTO labels VALUES (?, ?, ?, ?)", (i, *w))
        elif op == "skip":
            con.executemany("DELETE FROM skipped WHERE item = ?", [(i,) for i in items])
        elif op == "unskip":
            con.executemany("INSERT OR IGNORE INTO skipped VALUES (?)", [(i,) for i in items])
        else:
            raise ValueError(f"action {seq} ({op}) cannot be undone")

    def _apply(self, con: sqlite3.Connection, a: Action, ids: dict[str, int]) -> dict:
        for i in a.items:
            if not 0 <= i < self.n_items:
                raise ValueError(f"item {i} is not in this project")
        if a.op == "label":
            if a.cls not in ids:
                raise KeyError(f"unknown class {a.cls!r}")
            # What each item had before, with its time and origin, so that undo restores it exactly (even
            # after a class rename: class ids, not names).
            was = []
            for i in a.items:
                row = con.execute("SELECT class, time, origin FROM labels WHERE item = ?", (i,)).fetchone()
                was.append(None if row is None else list(row))
            con.executemany("INSERT OR REPLACE INTO labels VALUES (?, ?, ?, ?)",
                            [(i, ids[a.cls], a.time, a.origin) for i in a.items])
            con.executemany("DELETE FROM skipped WHERE item = ?", [(i,) for i in a.items])
            return {"was": was}
        if a.op == "skip":
            con.executemany("INSERT OR IGNORE INTO skipped VALUES (?)", [(i,) for i in a.items])
        elif a.op == "unskip":
            con.executemany("DELETE FROM skipped WHERE item = ?", [(i,) for i in a.items])
        elif a.op == "undo":
            for seq in a.undone:  # a grouped undo (one import of several classes) reverts them all, newest first
                self._undo_one(con, seq)
        elif a.op == "add_class":
            _check_classes([*ids, a.cls])
            ids[a.cls] = con.execute("INSERT INTO classes (name) VALUES (?)", (a.cls,)).lastrowid
        elif a.op == "rename_class":
            old = a.prev[0]
            if old not in ids:
                raise KeyError(f"unknown class {old!r}")
            if a.cls != old:
                _check_classes([*(c for c in ids if c != old), a.cls])
                con.execute("UPDATE classes SET name = ? WHERE id = ?", (a.cls, ids[old]))
                renamed = _rename_key(ids, old, a.cls)
                ids.clear()
                ids.update(renamed)  # in place: the caller adopts this dict once the commit succeeded
        else:
            raise ValueError(f"unknown action {a.op!r}")
        return {}

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


def _check_classes(classes: list[str] | tuple[str, ...]) -> None:
    """The class-name rules of :mod:`aldesk.core.names`, for create, add_class and rename_class.

    Every name is checked, not only the new one: a project stores NFC names only, so a look-alike of an existing
    class is a duplicate, and a name that slipped in before these rules existed shows up here to be renamed.
    """
    from aldesk.core.names import ClassNameError, check_class_names

    try:
        check_class_names(classes)
    except ClassNameError as exc:
        raise ProjectError(str(exc)) from None


def _schema_version(path: Path, con: sqlite3.Connection) -> int:
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            raise ProjectError(f"{path} is an SQLite file but not an aldesk project.") from None
        raise
    if row is None:
        raise ValueError("no schema version")
    version = int(row[0])
    if version > SCHEMA_VERSION:
        raise ProjectError(
            f"{path.name} was saved by a newer aldesk (file format {version}; this aldesk {__version__} reads up "
            f"to {SCHEMA_VERSION}). Update aldesk to open it; the file was not changed."
        )
    if version < 1:
        raise ValueError(f"schema version {version}")
    return version


def _open_error(path: Path, exc: BaseException) -> ProjectError:
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and ("readonly" in text or "unable to open" in text):
        return ProjectError(f"Cannot open {path} for writing ({text}); check the file and folder permissions.")
    return _damaged(path, text or type(exc).__name__)


def _write_error(path: Path, exc: sqlite3.Error) -> ProjectError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return ProjectError(f"{path} is being written by another aldesk; close it there and try again.")
    if "readonly" in text:
        return ProjectError(f"{path} cannot be written (read-only); your last action was not saved.")
    if "full" in text:
        return ProjectError(f"The disk holding {path} is full; your last action was not saved.")
    return _damaged(path, text)
