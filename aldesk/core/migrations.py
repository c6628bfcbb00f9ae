"""The project file's schema, one version at a time, and the forward migrations between versions.

Every schema change bumps ``SCHEMA_VERSION`` and adds ``_migrate_<old>_to_<new>``. A migration runs inside the
caller's transaction, so a crash half-way leaves the old version intact (the next open migrates again).
Orange3's ``migrate_settings`` is the model: small, explicit, one function per step, tested one by one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

SCHEMA_VERSION = 2

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

CURRENT_SCHEMA = SCHEMA_V2


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


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _migrate_1_to_2}


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
