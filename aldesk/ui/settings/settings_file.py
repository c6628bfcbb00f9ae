"""Where the user's settings live: one INI file on every platform, shown in Settings and in ``?``.

Qt's native default is the registry on Windows and a binary plist on macOS: nothing a user can open, copy to a
second machine or attach to a bug report. An INI file (``~/.config/aldesk/aldesk.ini`` on Linux,
``%APPDATA%\\aldesk\\aldesk.ini`` on Windows, ``~/.config/aldesk/aldesk.ini`` on macOS) is all three, and the keys
(group ``keys``: ``skip=Space;S``) are edited in it by hand.

Settings written before (the native format: ``~/.config/aldesk/aldesk.conf`` on Linux, the registry, the plist)
are copied into the INI file once, when it has none yet; the old ones are left where they are, untouched.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings

_MIGRATED_FROM = "settings/migrated_from"  # where the copied settings came from (kept for a bug report)


def use_ini_settings() -> bool:
    """Make every ``QSettings()`` of this process the INI file; copy the native settings in on the first run.

    Call after the organisation and application names are set, before the first ``QSettings()``. Returns
    whether settings were copied from the native store."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    return migrate_native_settings()


def migrate_native_settings() -> bool:
    """Copy the settings of the native store into the INI file when the INI file has none (the first start
    after the change); never the other way, never removing the old ones."""
    org, app = QCoreApplication.organizationName(), QCoreApplication.applicationName()
    ini = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, org, app)
    if ini.allKeys():
        return False
    native = QSettings(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, org, app)
    if native.fileName() == ini.fileName():
        return False
    keys = native.allKeys()
    if not keys:
        return False
    for key in keys:
        ini.setValue(key, native.value(key))
    ini.setValue(_MIGRATED_FROM, native.fileName())
    ini.sync()
    return ini.status() == QSettings.Status.NoError


def settings_file_path(settings: QSettings | None = None) -> Path:
    """The file the window's settings are read from and written to (``settings`` or this process's default)."""
    return Path((settings if settings is not None else QSettings()).fileName())


def settings_file_line(settings: QSettings | None = None) -> str:
    """The rich-text line that names the settings file (the ``?`` box and the Settings dialog)."""
    return f"<p>Settings file: <code>{html.escape(str(settings_file_path(settings)))}</code></p>"
