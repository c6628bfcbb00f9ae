"""The audit interval m of a project (every m-th single label is a uniform random item; 0 = no audits).

Read by the window before a session starts ranking, so the first candidates already follow the project's own m
whether or not the Plots dock exists yet (the dock is built once pyqtgraph has been imported off the GUI thread).
No pyqtgraph here.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings

from aldesk.app.settings import AUDIT_SETTING as PROJECT_AUDIT_SETTING  # the project's own m

AUDIT_SETTING = "plots/audit_every"  # the user's default, for projects that have no m of their own

DEFAULT_AUDIT_EVERY = 10


def audit_every_setting(settings: QSettings | None = None) -> int:
    """The user's default audit interval."""
    raw = (settings or QSettings()).value(AUDIT_SETTING, DEFAULT_AUDIT_EVERY)
    try:
        return max(0, int(raw))
    except (TypeError, ValueError):
        return DEFAULT_AUDIT_EVERY


def project_audit_every(ctl: Any, settings: QSettings | None = None) -> int:
    """The project's own m when it has one (Settings dialog), else the user's default."""
    saved = ctl.setting(PROJECT_AUDIT_SETTING, None)
    if isinstance(saved, int) and not isinstance(saved, bool) and saved >= 0:
        return saved
    return audit_every_setting(settings)
