"""Reading a project: its items, sources, classes, labels, skips, action log, hashes and settings.

Every read turns a damaged file's error into one line naming the backup that can replace it."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aldesk.core.dataset import Dataset, Kind
from aldesk.core.labeling.actions import Action
from aldesk.core.project.checks import _damaged
from aldesk.core.project.errors import (
    _ACTION_CHARS_BASE,
    _ACTION_CHARS_PER_ITEM,
    _DATA_ERRORS,
    _SETTING_CHARS,
)
from aldesk.core.project.records import LabelRow, SourceRow


class ProjectReads:
    """The reading part of :class:`~aldesk.core.project.store.Project`; its state is set by ``Project.__init__``."""

    path: Path
    kind: Kind
    n_items: int
    _con: sqlite3.Connection
    _lock: threading.Lock
    _meta: dict[str, Any]  # the meta table (SQLite hands its values back untyped)
    _class_ids: dict[str, int]

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
