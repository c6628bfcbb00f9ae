"""Replace a damaged project by a good backup, keeping every replaced file aside (never overwritten)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aldesk.core.atomic import fsync_dir
from aldesk.core.project.backups import _clean_temps, _remove_plain, backup_dir, backup_time
from aldesk.core.project.checks import _check_file, _good_backups, _ro_uri, _wal_has_data
from aldesk.core.project.errors import ProjectError, _reason, _writer_lock
from aldesk.core.project.lock import WriterLock, remove_if_abandoned


@dataclass(frozen=True)
class Recovered:
    """What :func:`recover` did: the backup it restored, and where the file it replaced was kept."""

    backup: Path
    aside: list[Path]


def recover(path: Path | str, backup: Path | None = None, *, force: bool = False) -> Recovered:
    """Replace a damaged project by its newest good backup (or ``backup``); the replaced file is kept aside.

    A healthy project is refused unless ``force``: the message says what the restore would drop. The backup is
    copied next to the project first and swapped in last, so a failure (a full disk) leaves the project as it was.
    """
    path = Path(path)
    # Replacing the file under an aldesk that has it open would mix its WAL into the restored copy.
    lock = _writer_lock(path, "recover it") if path.is_file() else None
    try:
        _clean_temps(path)
        return _recover(path, backup, force)
    finally:
        if lock is not None:
            lock.release()


def _recover(path: Path, backup: Path | None, force: bool) -> Recovered:
    if backup is None:
        backup = next(_good_backups(path), None)
        if backup is None:
            raise ProjectError(
                f"No usable backup of {path} was found in {backup_dir(path)}; nothing was changed."
            )
    elif (why := _check_file(Path(backup), immutable=True)) is not None:
        raise ProjectError(f"The backup {backup} cannot be used ({why}); nothing was changed.")
    backup = Path(backup)
    if os.path.lexists(path) and not path.is_file():
        raise ProjectError(f"{path} is not a file (a folder or a broken link); nothing was changed.")
    # Through a symlink: the backups are those made under the name given, the file restored is the one it names.
    path = Path(os.path.realpath(path))
    exists = path.is_file()
    healthy = exists and _check_file(path, immutable=not _wal_has_data(path)) is None
    if healthy and not force:
        raise ProjectError(
            f"{path} is not damaged; restoring the backup of {backup_time(backup)} would drop "
            f"{_what_restore_drops(path, backup)}. Nothing was changed; run `aldesk recover {path} --force` to "
            "restore it anyway."
        )
    if healthy:
        _checkpoint(path)  # the file set aside is then whole by itself, without a -wal to keep beside it
    tmp = path.with_name(f".{path.name}.recovering-{os.getpid()}")
    remove_if_abandoned(tmp)  # left by an earlier process of the same pid
    try:
        lock = WriterLock.create(tmp, note=False)
    except OSError as exc:
        raise ProjectError(f"Cannot restore {path}: {_reason(exc)}; nothing was changed.") from None
    try:
        try:
            src = sqlite3.connect(_ro_uri(backup, immutable=True), uri=True)
            try:
                dst = sqlite3.connect(tmp)
                try:
                    src.backup(dst)
                    dst.execute("PRAGMA journal_mode=DELETE")
                finally:
                    dst.close()
            finally:
                src.close()
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())  # on disk before the old file moves aside
        except (OSError, sqlite3.Error) as exc:
            raise ProjectError(f"Cannot restore {path}: {_reason(exc)}; nothing was changed.") from None
        aside: list[Path] = []
        try:
            if exists:
                _set_aside(path, "replaced" if healthy else "damaged", aside)
            os.replace(tmp, path)  # the last step: until here the project (or nothing) is at its name
            fsync_dir(path.parent)
        except ProjectError:
            _undo_aside(path, aside)
            raise
        except OSError as exc:  # e.g. Windows, while another program has the file open; a mount point
            _undo_aside(path, aside)
            raise ProjectError(f"Cannot restore {path}: {_reason(exc)}; nothing was changed.") from None
    finally:
        for p in (tmp, Path(f"{tmp}-journal")):
            _remove_plain(p)
        lock.release()
    return Recovered(backup, aside[::-1])  # the database first


def _set_aside(path: Path, why: str, aside: list[Path]) -> None:
    """Keep the file ``path`` and its -wal/-shm under new names that no earlier run took: never overwritten.

    Appends each name to ``aside`` as soon as it is taken, so that a failure half-way can be undone."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    for n in range(1, 1000):
        base = path.with_name(f"{path.name}.{why}-{stamp}" + (f"-{n}" if n > 1 else ""))
        names = [(Path(f"{path}{ext}"), Path(f"{base}{ext}")) for ext in ("-wal", "-shm", "")]
        if not any(os.path.lexists(dst) for _, dst in names):
            break
    else:
        raise ProjectError(f"Cannot set {path} aside: too many earlier copies; nothing was changed.")
    # The -wal and -shm first: left in place, SQLite would replay them onto the restored file. The database last,
    # by a new link (the project stays at its name until the restored copy replaces it).
    for src, dst in names:
        if not os.path.lexists(src):
            continue
        _move_no_replace(src, dst, keep=src == path)
        aside.append(dst)


def _undo_aside(path: Path, aside: list[Path]) -> None:
    """Put back what :func:`_set_aside` moved, when the swap that should have followed failed."""
    for dst in aside:
        ext = next((e for e in ("-wal", "-shm") if dst.name.endswith(e)), "")
        src = Path(f"{path}{ext}")
        with contextlib.suppress(OSError):
            if not os.path.lexists(src):
                os.rename(dst, src)
            elif not ext and os.path.samefile(src, dst):
                dst.unlink()  # the project never left its name; this was only a second link to it


def _move_no_replace(src: Path, dst: Path, *, keep: bool) -> None:
    try:
        os.link(src, dst)  # fails if dst exists
    except FileExistsError:
        raise ProjectError(
            f"Cannot set {src} aside: {dst} appeared meanwhile; nothing was changed."
        ) from None
    except OSError:
        if os.path.lexists(dst):  # a file system without hard links: checked, then renamed
            raise ProjectError(f"Cannot set {src} aside: {dst} exists; nothing was changed.") from None
        os.rename(src, dst)
        return
    if not keep:
        os.unlink(src)


def _checkpoint(path: Path) -> None:
    con = sqlite3.connect(f"{path.absolute().as_uri()}?mode=rw", uri=True)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error:
        pass  # the -wal is then set aside with it, as for a damaged file
    finally:
        con.close()


def _what_restore_drops(path: Path, backup: Path) -> str:
    """The actions of ``path`` that ``backup`` does not have, in words ("14 actions (12 labels, 2 skips)")."""
    con = sqlite3.connect(_ro_uri(backup, immutable=True), uri=True)
    try:
        (seq,) = con.execute("SELECT coalesce(max(seq), -1) FROM actions").fetchone()
        (backup_labels,) = con.execute("SELECT count(*) FROM labels").fetchone()
    finally:
        con.close()
    con = sqlite3.connect(_ro_uri(path, immutable=not _wal_has_data(path)), uri=True)
    try:
        ops = con.execute(
            "SELECT op, count(*) FROM actions WHERE seq > ? GROUP BY op ORDER BY op", (seq,)
        ).fetchall()
        (n_labels,) = con.execute("SELECT count(*) FROM labels").fetchone()
    finally:
        con.close()
    total = sum(n for _, n in ops)
    if not total:
        return "no action (it has all the file's actions)"
    parts = ", ".join(f"{n} {op}" for op, n in ops)
    return (
        f"the {total} action{'s' if total != 1 else ''} made since then ({parts}); the file has {n_labels} "
        f"labeled items, the backup {backup_labels}"
    )
