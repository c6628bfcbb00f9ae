"""Writing a new project file: built under a temporary name, locked from its first byte, put in place at the end."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from aldesk import __version__
from aldesk.core.dataset import Dataset
from aldesk.core.project.backups import _clean_temps, _remove_plain
from aldesk.core.project.errors import ProjectError, _reason
from aldesk.core.project.lock import WriterLock, remove_if_abandoned
from aldesk.core.project.migrations import CURRENT_SCHEMA, SCHEMA_VERSION
from aldesk.core.project.records import source_columns


def write_new(
    path: Path,
    dataset: Dataset,
    classes: list[str] | tuple[str, ...],
    *,
    model_id: str,
    card_path: str | None,
    settings: dict[str, Any] | None,
) -> WriterLock:
    """Write the new project file at ``path``; returns its writer lock, held (the caller opens it under that lock)."""
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
        raise ProjectError(f"{path} is being created by another part of this aldesk; wait for it.") from None
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
            if dataset.columns:  # a CSV: what a rescan checks the CSV against (aldesk.core.project.rescan)
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
    return writer
