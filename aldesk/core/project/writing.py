"""Writing a project: every action journaled as ONE committed (and fsynced) transaction before it returns.

A write refuses, with nothing changed, when the project was opened read-only, when its file was moved or replaced
meanwhile, or when another program committed to it since it was opened."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aldesk.core.dataset import SOURCE_SEP
from aldesk.core.labeling.actions import Action
from aldesk.core.labeling.ops import op
from aldesk.core.project.checks import _check_classes, _write_error
from aldesk.core.project.errors import _HASHES_DIGEST, ProjectError
from aldesk.core.project.open_backups import ProjectBackups
from aldesk.core.project.reading import ProjectReads
from aldesk.core.project.records import RelinkReport


class ProjectWrites(ProjectReads, ProjectBackups):
    """The writing part of :class:`~aldesk.core.project.store.Project`; its state is set by ``Project.__init__``."""

    readonly: bool
    last_commit_seconds: float
    _data_version: int

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
