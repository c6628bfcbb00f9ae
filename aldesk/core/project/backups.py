"""Backups beside a project, and the files that belong to it.

Only in a real folder ``.<name>.aldesk.backups`` beside the project (never through a link), only files named as
aldesk names its backups are ever rotated out, and temporary files are removed only once their maker is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import stat
from datetime import datetime
from pathlib import Path

from aldesk.core.project.errors import KEEP_BACKUPS, SUFFIX, _reason, log
from aldesk.core.project.lock import WriterLock, remove_if_abandoned
from aldesk.core.project.lock_note import lock_path


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
            for pattern in (
                f".{p.name}.creating-*",
                f".{p.name}.recovering-*",
                f"{p.name}.damaged-*",
                f"{p.name}.replaced-*",
                f".{p.name}.lock.*.tmp",
            ):
                out += sorted(p.parent.glob(pattern))
        except OSError:
            pass  # an unreadable folder: the fixed names above are still listed
    return list(dict.fromkeys(out))  # each once, in the order found


def backup_dir(path: Path) -> Path:
    return Path(path).parent / f".{Path(path).name}.backups"


def _backup_name(path: Path) -> re.Pattern[str]:
    """The names aldesk gives the backups of ``path``: ``<stem>-YYYYmmdd-HHMMSS-ffffff.aldesk``, nothing else."""
    return re.compile(rf"{re.escape(Path(path).stem)}-\d{{8}}-\d{{6}}-\d{{6}}{re.escape(SUFFIX)}")


def _is_real_dir(p: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(p).st_mode)  # lstat: a symlink to a folder is not one
    except OSError:
        return False


def _is_plain_file(p: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(p).st_mode)
    except OSError:
        return False


def list_backups(path: Path) -> list[Path]:
    """Backups of a project, newest first (the time is in the name, so the order survives copying).

    Only plain files named as aldesk names them, in a real folder (not a symlink to one): a folder shipped with a
    project may point anywhere, and whatever is listed here may be rotated out."""
    d = backup_dir(path)
    if not _is_real_dir(d):
        return []
    name = _backup_name(path)
    try:
        found = [p for p in d.iterdir() if name.fullmatch(p.name) and _is_plain_file(p)]
    except OSError:
        return []
    return sorted(found, reverse=True)


def backup_time(backup: Path) -> str:
    """When a backup was made, for messages ("2024-05-01 14:03:22")."""
    stamp = backup.stem.rsplit("-", 3)[-3:]
    try:
        return datetime.strptime("-".join(stamp), "%Y%m%d-%H%M%S-%f").strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return datetime.fromtimestamp(backup.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S")


def _remove_plain(p: Path) -> None:
    with contextlib.suppress(OSError):
        if _is_plain_file(p):
            p.unlink()


def _copy_db(src: sqlite3.Connection, dst_path: Path) -> None:
    """Consistent copy with the sqlite3 backup API (a file copy could catch a half-written WAL), made under a
    temporary name and renamed; never replaces a file at ``dst_path``.

    The temporary file is created exclusively (never through a symlink) and locked while it is written, so a
    copy cut short by a kill is recognised as abandoned and removed by the next open (see :func:`_clean_temps`)."""
    tmp = dst_path.with_name(dst_path.name + ".tmp")
    lock = WriterLock.create(tmp, note=False)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
            # A backup is one self-contained file: no -wal beside it to lose when copied around.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
        lock.move_to(dst_path)
    except BaseException:
        for p in (tmp, Path(f"{tmp}-journal")):
            _remove_plain(p)
        raise
    finally:
        lock.release()


def _make_backup(con: sqlite3.Connection, path: Path) -> tuple[Path | None, str | None]:
    """Back ``con`` up into the backup folder and rotate; returns (the backup, None) or (None, why there is none).

    A failed backup never fails the open: a full disk, a read-only folder or a backup "folder" that is a link must
    not stop the user from labeling in a healthy project (nor ever be reported as damage)."""
    d = backup_dir(path)
    try:
        with contextlib.suppress(FileExistsError):
            os.mkdir(d)
        if not _is_real_dir(d):
            why = f"{d} is not a folder (a link or a file), so aldesk keeps no backups there"
            log.warning("%s", why)
            return None, why
        _clean_temps(path)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        target = d / f"{path.stem}-{stamp}{SUFFIX}"
        _copy_db(con, target)
        for old in list_backups(path)[KEEP_BACKUPS:]:
            with contextlib.suppress(OSError):
                old.unlink()
        return target, None
    except (OSError, sqlite3.Error) as exc:
        why = f"no backup of {path.name} could be made ({_reason(exc)})"
        log.warning("%s", why)
        return None, why


def _temp_names(path: Path) -> list[tuple[Path, re.Pattern[str]]]:
    """Where aldesk's own temporary files of ``path`` live, and their exact names (with SQLite's -journal)."""
    name = re.escape(path.name)
    backup = _backup_name(path).pattern
    return [
        (path.parent, re.compile(rf"\.{name}\.(creating|recovering)-\d+(-journal)?")),
        (backup_dir(path), re.compile(rf"{backup}\.tmp(-journal)?")),
    ]


def _clean_temps(path: Path) -> list[Path]:
    """Remove the temporary files a killed aldesk left of ``path`` (a backup, a create or a restore cut short).

    Only files with aldesk's own temporary names, plain files, in the project's folder and its real backup
    folder, and only when no process holds their lock any more (their maker is gone). Returns what was removed."""
    removed = []
    for folder, pattern in _temp_names(path):
        if not _is_real_dir(folder):
            continue
        try:
            names = sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name))
        except OSError:
            continue
        for p in names:
            # Killed between linking a finished file in place and unlinking its temporary name: the temporary name
            # is just a second name of the project or of the backup, which stays.
            final = path if folder == path.parent else p.with_name(p.name.removesuffix(".tmp"))
            if not p.name.endswith("-journal") and _is_plain_file(p):
                with contextlib.suppress(OSError):
                    if os.path.samefile(p, final):
                        p.unlink()
                        removed.append(p)
                        continue
            if p.name.endswith("-journal"):
                # SQLite's journal of a temporary file: stale once that file is gone (it is removed first).
                if not os.path.lexists(p.with_name(p.name[: -len("-journal")])) and _is_plain_file(p):
                    with contextlib.suppress(OSError):
                        p.unlink()
                        removed.append(p)
            elif remove_if_abandoned(p):
                removed.append(p)
                journal = p.with_name(p.name + "-journal")
                if _is_plain_file(journal):
                    with contextlib.suppress(OSError):
                        journal.unlink()
                        removed.append(journal)
    return removed
