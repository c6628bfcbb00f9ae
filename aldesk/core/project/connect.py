"""SQLite connections to a project file: the writer's (WAL, fsynced commits), a read-only one, and an in-memory
snapshot of the file as last committed that writes nothing beside it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aldesk.core.project.checks import _ro_uri, _wal_has_data
from aldesk.core.project.lock import reader_lock


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
