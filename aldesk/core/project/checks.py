"""Is this file a project aldesk can use? Integrity, schema, head bytes, and the one-line reasons when not."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from aldesk import __version__
from aldesk.core.project.backups import backup_time, list_backups
from aldesk.core.project.errors import _SQLITE_MAGIC, SUFFIX, ProjectError
from aldesk.core.project.migrations import SCHEMA_VERSION, check_schema


def _wal_has_data(path: Path) -> bool:
    try:
        return os.path.getsize(f"{path}-wal") > 0
    except OSError:
        return False


def _ro_uri(path: Path, *, immutable: bool = False) -> str:
    # immutable=1: SQLite reads the file alone, creating no -wal or -shm and taking no locks. Safe only when
    # nobody can write it meanwhile (we hold its lock, or it is a backup) and no -wal holds commits.
    return f"{path.absolute().as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")


def _check_con(path: Path, con: sqlite3.Connection) -> str | None:
    """Why an open connection's database cannot be a usable project, or None (ProjectError: a newer format)."""
    try:
        version = _schema_version(path, con)  # a newer file must say so, not fail the schema check below
        rows = con.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            return "; ".join(str(r[0]) for r in rows[:3])
        return check_schema(con, version)
    except (sqlite3.Error, ValueError) as exc:
        return str(exc)


def _check_file(path: Path, *, immutable: bool = False) -> str | None:
    """Why a file cannot be a usable project, or None if it looks fine. Opens it read-only: a damaged file is
    left exactly as it is, for :func:`recover` or a specialist."""
    try:
        con = sqlite3.connect(_ro_uri(path, immutable=immutable), uri=True)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        return _check_con(path, con)
    finally:
        con.close()


def _good_backups(path: Path) -> Iterator[Path]:
    # Nobody writes a backup: read it immutable, creating nothing beside it.
    return (b for b in list_backups(path) if _check_file(b, immutable=True) is None)


def _damaged(path: Path, detail: str) -> ProjectError:
    good = next(_good_backups(path), None)
    msg = f"The project file {path} is damaged or was not made by aldesk ({detail})."
    if good is None:
        return ProjectError(msg + " No backup of it was found.")
    return ProjectError(
        msg + f" A backup from {backup_time(good)} is at {good}. Run `aldesk recover {path}` to restore it "
        "(labels made after that time are lost).",
        backup=good,
    )


def _read_only_error(path: Path) -> ProjectError:
    return ProjectError(
        f"{path} is read-only (a read-only disk or folder, or a file you may not change): `aldesk info` and "
        "`aldesk export` can read it; copy it to a writable folder to label in it."
    )


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


def _check_head(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise ProjectError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if head != _SQLITE_MAGIC:
        if path.suffix != SUFFIX:
            raise ProjectError(f"{path} is not an aldesk project file.")
        raise _damaged(path, "it is not a database any more" if head else "it is empty")


def _disk_full(path: Path, text: str) -> bool:
    # SQLite says "database or disk is full" for the file, but only "disk I/O error" when its -shm cannot grow.
    if "full" in text:
        return True
    try:
        return "I/O" in text and shutil.disk_usage(path.parent).free < (1 << 20)
    except OSError:
        return False


def _open_error(path: Path, exc: BaseException) -> ProjectError:
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and _disk_full(path, text):
        return ProjectError(
            f"The disk holding {path} is full: free some space, then open it again (the project "
            "was not changed)."
        )
    if isinstance(exc, sqlite3.OperationalError) and ("readonly" in text or "unable to open" in text):
        return _read_only_error(path)
    return _damaged(path, text or type(exc).__name__)


def _write_error(path: Path, exc: sqlite3.Error) -> ProjectError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return ProjectError(
            f"Another program is writing {path} (it stays locked); your last action was not saved."
        )
    if "readonly" in text:
        return ProjectError(f"{path} cannot be written (read-only); your last action was not saved.")
    if _disk_full(path, text):
        return ProjectError(f"The disk holding {path} is full; your last action was not saved.")
    return _damaged(path, text)
