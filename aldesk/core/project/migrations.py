"""The project file's schema, one version at a time, and the forward migrations between versions.

Every schema change bumps ``SCHEMA_VERSION`` and adds ``_migrate_<old>_to_<new>``. A migration runs inside the
caller's transaction, so a crash half-way leaves the old version intact (the next open migrates again).
Orange3's ``migrate_settings`` is the model: small, explicit, one function per step, tested one by one.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from functools import cache

SCHEMA_VERSION = 3

# Version 1: the first release. No settings table, labels without origin.
SCHEMA_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE items (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, hash TEXT, known_label TEXT);
CREATE TABLE classes (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE labels (
    item INTEGER PRIMARY KEY REFERENCES items(id),
    class INTEGER NOT NULL REFERENCES classes(id),
    time REAL NOT NULL
);
CREATE TABLE actions (seq INTEGER PRIMARY KEY, op TEXT NOT NULL, time REAL NOT NULL, data TEXT NOT NULL);
CREATE TABLE skipped (item INTEGER PRIMARY KEY REFERENCES items(id));
"""

# Version 2 (current). Classes are referenced by id so a rename touches one row; the class list's order is id
# order. ``actions.data`` is the Action as JSON (never pickle) plus what undo needs to restore exactly.
SCHEMA_V2 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE items (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, hash TEXT, known_label TEXT);
CREATE TABLE classes (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE labels (
    item INTEGER PRIMARY KEY REFERENCES items(id),
    class INTEGER NOT NULL REFERENCES classes(id),
    time REAL NOT NULL,
    origin TEXT NOT NULL DEFAULT 'user'
);
CREATE TABLE actions (seq INTEGER PRIMARY KEY, op TEXT NOT NULL, time REAL NOT NULL, data TEXT NOT NULL);
CREATE TABLE skipped (item INTEGER PRIMARY KEY REFERENCES items(id));
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# Version 3 (current): data that grows. ``items.missing`` marks an item whose file (or CSV row) was gone at the
# last rescan: it keeps its id, label and history and comes back when the file does. ``sources`` lists the folders
# or CSVs added to the project after the first (whose root stays ``meta.root``); an item of source ``prefix`` has
# the key ``prefix//path`` (``//`` never occurs in a key a folder listing makes, so keys stay unambiguous).
# ``columns`` is the CSV's header as JSON ('' for a folder), to refuse a rescan of a CSV whose columns changed.
SCHEMA_V3 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE items (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, hash TEXT, known_label TEXT,
    missing INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE classes (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE labels (
    item INTEGER PRIMARY KEY REFERENCES items(id),
    class INTEGER NOT NULL REFERENCES classes(id),
    time REAL NOT NULL,
    origin TEXT NOT NULL DEFAULT 'user'
);
CREATE TABLE actions (seq INTEGER PRIMARY KEY, op TEXT NOT NULL, time REAL NOT NULL, data TEXT NOT NULL);
CREATE TABLE skipped (item INTEGER PRIMARY KEY REFERENCES items(id));
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (id INTEGER PRIMARY KEY, prefix TEXT NOT NULL UNIQUE, root TEXT NOT NULL,
    columns TEXT NOT NULL DEFAULT '');
"""

CURRENT_SCHEMA = SCHEMA_V3
SCHEMAS = {1: SCHEMA_V1, 2: SCHEMA_V2, 3: SCHEMA_V3}  # what `Project.create` wrote at each version


def _migrate_1_to_2(con: sqlite3.Connection) -> None:
    con.execute("ALTER TABLE labels ADD COLUMN origin TEXT NOT NULL DEFAULT 'user'")
    con.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    # v1 logged the origin of every action but did not materialise it: recover each label's origin from the
    # last label action that touched the item (a batch label stays "batch", an import stays "imported").
    origin: dict[int, str] = {}
    for (data,) in con.execute("SELECT data FROM actions WHERE op = 'label' ORDER BY seq"):
        d = json.loads(data)
        for i in d.get("items", ()):
            origin[int(i)] = str(d.get("origin", "user"))
    con.executemany("UPDATE labels SET origin = ? WHERE item = ?", [(o, i) for i, o in origin.items()])


def _migrate_2_to_3(con: sqlite3.Connection) -> None:
    # Every item of a v2 file was listed from its one source when the project was made: none is missing, and
    # there are no other sources. The CSV's columns were not recorded; a rescan checks the texts instead.
    con.execute("ALTER TABLE items ADD COLUMN missing INTEGER NOT NULL DEFAULT 0")
    con.execute(
        "CREATE TABLE sources (id INTEGER PRIMARY KEY, prefix TEXT NOT NULL UNIQUE, root TEXT NOT NULL, "
        "columns TEXT NOT NULL DEFAULT '')"
    )


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _migrate_1_to_2, 2: _migrate_2_to_3}


def migrate(con: sqlite3.Connection, version: int) -> list[int]:
    """Bring a file at ``version`` up to ``SCHEMA_VERSION`` inside the caller's transaction.

    Returns the versions migrated from (empty when nothing was needed).
    """
    done = []
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](con)
        done.append(version)
        version += 1
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
    return done


# ------------------------------------------------------------------------------------------- schema check
# Tables SQLite itself may add to any file (ANALYZE statistics, AUTOINCREMENT counters): no code runs from them.
_SQLITE_OWN = re.compile(r"sqlite_(stat\d|sequence)")


def _normal(sql: str | None) -> str | None:
    # Whitespace and letter case are all that may differ between two spellings of one of our statements (SQLite
    # keeps the text as written, and ALTER TABLE splices its column in); anything else is another schema.
    return None if sql is None else re.sub(r"\s+", "", sql).lower()


def _objects(con: sqlite3.Connection) -> set[tuple[str, str, str, str | None]]:
    rows = con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return {
        (t, n, tb, _normal(sql)) for t, n, tb, sql in rows if not (t == "table" and _SQLITE_OWN.fullmatch(n))
    }


@cache
def expected_objects(version: int) -> frozenset[tuple[str, str, str, str | None]]:
    """Every schema object a file at ``version`` may have: those of a file created at that version, and those of
    a file created at any older version and migrated up to it (ALTER TABLE words its changes its own way)."""
    allowed: set[tuple[str, str, str, str | None]] = set()
    for start in range(1, version + 1):
        con = sqlite3.connect(":memory:", isolation_level=None)
        try:
            con.executescript(SCHEMAS[start])
            for v in range(start, version):
                MIGRATIONS[v](con)
            allowed |= _objects(con)
        finally:
            con.close()
    return frozenset(allowed)


def check_schema(con: sqlite3.Connection, version: int) -> str | None:
    """Why the schema of an aldesk file at ``version`` is not one aldesk made, or None when it is.

    A project can come from anyone. A trigger, a view, an extra index or a changed table would run or change
    behind every write aldesk makes (an ``AFTER INSERT ON labels`` trigger can delete each label as it is
    saved), so the file is refused, read-only, before anything is written to it."""
    if version not in SCHEMAS:
        return f"file format {version} is unknown"
    found = _objects(con)
    allowed = expected_objects(version)
    extra = sorted(found - allowed)
    if extra:
        kind, name = extra[0][0], extra[0][1]
        if any(o[:3] == (kind, name, extra[0][2]) for o in allowed):
            return f"its {kind} {name!r} is not defined as aldesk defines it"
        return f"it has a {kind} {name!r} that aldesk did not create"
    names = {(t, n) for t, n, _, _ in found}
    missing = sorted({(t, n) for t, n, _, _ in allowed if t == "table"} - names)
    if missing:
        return f"its table {missing[0][1]!r} is missing"
    return None
