"""The project file: one SQLite file (``*.aldesk``) holding the items, classes, labels and the action log.

Where each job lives:

- :mod:`.store` — :class:`Project`: create, open (read-write under the writer lock, or a read-only snapshot), close;
  built of :mod:`.reading` (every read), :mod:`.writing` (journal every action as ONE committed transaction before
  it returns) and :mod:`.open_backups` (backups while open). :mod:`.create` writes a new file, :mod:`.connect` holds
  the SQLite connections, :mod:`.records` the rows and reports handed out.
- :mod:`.lock` — one writer per project: an OS lock on the database file itself (:mod:`.lock_os`), and the
  holder's note (:mod:`.lock_note`).
- :mod:`.backups` — rolling backups beside the project (at open and during a long session), the project's
  companion files, stale temporary files.
- :mod:`.recover` — replace a damaged project by a good backup, keeping what it replaces.
- :mod:`.checks` — integrity and schema checks; the one-line reasons why a file cannot be used.
- :mod:`.migrations` — the schema of each file format version and the steps between them.
- :mod:`.rescan`, :mod:`.rescan_plan` — data that grows: new items join, gone ones are marked missing, sources added.
- :mod:`.errors` — :class:`ProjectError`, :class:`ProjectLocked`, and the constants the others share.
"""

from aldesk.core.project.backups import backup_dir, backup_time, companion_paths, list_backups
from aldesk.core.project.errors import KEEP_BACKUPS, SUFFIX, ProjectError, ProjectLocked
from aldesk.core.project.records import LabelRow, RelinkReport
from aldesk.core.project.recover import Recovered, recover
from aldesk.core.project.store import Project

__all__ = [
    "KEEP_BACKUPS",
    "SUFFIX",
    "LabelRow",
    "Project",
    "ProjectError",
    "ProjectLocked",
    "Recovered",
    "RelinkReport",
    "backup_dir",
    "backup_time",
    "companion_paths",
    "list_backups",
    "recover",
]
