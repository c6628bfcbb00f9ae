"""A project's own settings, typed: query strategy, the k-NN's k, the audit interval, and the window's state.

They live in the project's ``settings`` table under the keys below (the keys aldesk has always used: a project
written by an older aldesk reads the same, and no table changes). A settings version is kept beside them
(:data:`VERSION_KEY`); reading applies one migration function per version step, in the manner of Orange's
``migrate_settings``, so a later change of meaning (a renamed strategy, a new unit) is written once, here.

Reading is lenient and writes nothing (``aldesk export`` reads a project opened read-only): a value that cannot
be read — a hand edit, a damaged row — is dropped for its default, as before, rather than a project that does not
open. Constructing a :class:`ProjectSettings` is strict: a bad value is a one-line :class:`UserError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aldesk.core.labeling.session import DEFAULT_K, DEFAULT_STRATEGY
from aldesk.core.progress import UserError

STRATEGY_SETTING = "session/strategy"
K_SETTING = "session/k"
AUDIT_SETTING = (
    "session/audit_every"  # the project's own m (the window keeps the user's default in QSettings)
)
HINTS_SETTING = "ui/hints_seen"  # the project showed (and the user dismissed) the first-use hints
VIEW_SETTING = "view/current"  # the item on screen when the project last closed
ZERO_SHOT_SETTING = "session/zero_shot"  # class -> description typed for the zero-shot prior; {} or none: off
VERSION_KEY = "settings/version"

VERSION = 1  # of the layout below; 0 = the projects written before the version was kept
MAX_K = 1000  # the k-NN keeps k neighbour slots per item: a larger k is a typo, not a choice
MAX_DESCRIPTION = 500  # characters of one class description (a sentence, not a document)

# field name -> settings key; the order is the order they are written
KEYS = {
    "strategy": STRATEGY_SETTING,
    "k": K_SETTING,
    "audit_every": AUDIT_SETTING,
    "hints_seen": HINTS_SETTING,
    "view_current": VIEW_SETTING,
    "zero_shot": ZERO_SHOT_SETTING,
}


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True)
class ProjectSettings:
    """The settings of one project. ``audit_every`` None: the project has no m of its own (the caller's default
    applies: the user's in the window, none in the CLI); ``view_current`` None: no item remembered;
    ``zero_shot``: the class descriptions of the zero-shot prior (empty: off). A key added in version 1 without a
    migration step: an older project has no row and reads as off."""

    strategy: str = DEFAULT_STRATEGY
    k: int = DEFAULT_K
    audit_every: int | None = None
    hints_seen: bool = False
    view_current: int | None = None
    zero_shot: dict[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.strategy, str):
            raise UserError(f"strategy {self.strategy!r}: a strategy is a text such as eer or uid.")
        from aldesk.core.query.registry import parse_strategy

        try:
            name = parse_strategy(self.strategy).name
        except ValueError as exc:
            raise UserError(str(exc)) from None
        object.__setattr__(self, "strategy", name)  # stored as parse_strategy normalises it
        if not _is_int(self.k) or not 1 <= self.k <= MAX_K:
            raise UserError(f"k = {self.k!r}: the k-NN asks from 1 to {MAX_K} neighbours.")
        if self.audit_every is not None and (not _is_int(self.audit_every) or self.audit_every < 0):
            raise UserError(f"audit interval {self.audit_every!r}: every m-th label, m from 0 (off) up.")
        if not isinstance(self.hints_seen, bool):
            raise UserError(f"hints seen {self.hints_seen!r}: true or false.")
        if self.view_current is not None and (not _is_int(self.view_current) or self.view_current < 0):
            raise UserError(f"view position {self.view_current!r}: an item number from 0 up.")
        zs = self.zero_shot
        if not isinstance(zs, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() and len(v) <= MAX_DESCRIPTION
            for k, v in zs.items()
        ):
            raise UserError(
                f"zero-shot descriptions {zs!r}: class -> a short text (1 to {MAX_DESCRIPTION} characters)."
            )

    def replace(self, **changes: Any) -> ProjectSettings:
        """A copy with ``changes``, validated like any ProjectSettings."""
        return dataclasses.replace(self, **changes)

    def session_kwargs(self, default_audit_every: int | None = None) -> dict[str, Any]:
        """Keywords for ``Project.open_session`` / ``Session``: the saved strategy, k and audit interval."""
        from aldesk.core.query.registry import parse_strategy

        out: dict[str, Any] = {"strategy": parse_strategy(self.strategy), "k": self.k}
        audit = self.audit_every if self.audit_every is not None else default_audit_every
        if audit is not None:
            out["audit_every"] = audit
        return out


# ---------------------------------------------------------------- migrations (one function per version step)
def _v0_to_v1(raw: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (no version row): the same keys, values as the dialogs and hand edits left them. The strategy
    was saved as typed (``" EER "``); a number may be a JSON float (``5.0``). Both read as version 1 stores them."""
    out = dict(raw)
    s = out.get(STRATEGY_SETTING)
    if isinstance(s, str):
        out[STRATEGY_SETTING] = s.strip().lower()
    for key in (K_SETTING, AUDIT_SETTING, VIEW_SETTING):
        v = out.get(key)
        if isinstance(v, float) and v.is_integer():
            out[key] = int(v)
    return out


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1}


def migrate(raw: dict[str, Any], version: int) -> dict[str, Any]:
    """The raw key -> value rows of a project at settings ``version``, as the current version reads them."""
    if version > VERSION:
        return dict(raw)  # written by a newer aldesk: read what this one knows, as is
    for step in range(max(0, version), VERSION):
        raw = MIGRATIONS[step](raw)
    return raw


# --------------------------------------------------------------------------------------- reading, writing
def _read_raw(project: Any) -> Iterator[tuple[str, Any]]:
    for key in (*KEYS.values(), VERSION_KEY):
        try:
            value = project.get_setting(key, None)
        except UserError:
            continue  # one damaged row (too long, not JSON) costs that setting only, never the open
        if value is not None:
            yield key, value


def from_raw(raw: dict[str, Any]) -> ProjectSettings:
    """Settings from raw rows (already migrated); each value that does not validate is dropped for its default."""
    values: dict[str, Any] = {}
    for field, key in KEYS.items():
        if key not in raw:
            continue
        try:
            ProjectSettings(**{field: raw[key]})
        except (UserError, TypeError):
            continue
        values[field] = raw[key]
    return ProjectSettings(**values)


def read_settings(project: Any) -> ProjectSettings:
    """The project's settings, migrated to this version. Writes nothing."""
    raw = dict(_read_raw(project))
    version = raw.pop(VERSION_KEY, 0)
    return from_raw(migrate(raw, version if _is_int(version) else 0))


def changed_items(new: ProjectSettings, old: ProjectSettings | None = None) -> list[tuple[str, Any]]:
    """The (key, value) rows that store ``new`` over ``old`` (all of them without ``old``), then the version.
    ``None`` fields are not written: "no own value" is the absence of the row."""
    items = [
        (key, getattr(new, field))
        for field, key in KEYS.items()
        if getattr(new, field) is not None and (old is None or getattr(old, field) != getattr(new, field))
    ]
    return [*items, (VERSION_KEY, VERSION)] if items else []


def save_settings(project: Any, new: ProjectSettings, old: ProjectSettings | None = None) -> None:
    """Write the settings that changed (one committed row each, through ``project.set_setting``). A project still
    at an older settings version gets every row rewritten as this version stores it, then the version."""
    try:
        stored = project.get_setting(VERSION_KEY, 0)
    except UserError:
        stored = 0
    if stored != VERSION:
        old = None
    for key, value in changed_items(new, old):
        project.set_setting(key, value)
