"""Desktop conventions of the window: one INI settings file on every platform (its path in Settings and in
``?``), the settings written before copied into it once, and the platform's standard keys on the actions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, QSettings, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox

from aldesk.ui.settings.settings_dialog import LabelingSettings, SettingsDialog
from aldesk.ui.settings.settings_file import migrate_native_settings, settings_file_path, use_ini_settings

from .helpers import text_workspace


def _native(tmp_path: Path) -> QSettings:
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "native"))
    org, app = QCoreApplication.organizationName(), QCoreApplication.applicationName()
    return QSettings(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, org, app)


def test_the_app_uses_one_ini_file(tmp_path: Path) -> None:
    """The real start-up (make_app) in a second process: every QSettings() is the INI file in the config dir."""
    code = (
        "from aldesk.ui.shell.app import make_app; make_app(); from PySide6.QtCore import QSettings; "
        "s = QSettings(); s.setValue('probe', 1); s.sync(); print(s.fileName())"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip().splitlines()[-1])
    assert path == tmp_path / "cfg" / "aldesk" / "aldesk.ini"
    assert "probe=1" in path.read_text()


def test_settings_written_before_are_copied_once_and_kept(tmp_path: Path) -> None:
    fresh = QSettings()  # the first start after the change: no INI file yet (conftest wrote one setting)
    fresh.clear()
    fresh.sync()
    old = _native(tmp_path)
    old.setValue("keys/skip", "X;Y")
    old.setValue("window/state", QByteArray(b"\x00\x01binary"))
    old.sync()
    old_file = Path(old.fileName())
    before = old_file.read_bytes()

    assert use_ini_settings() is True
    ini = QSettings()
    assert settings_file_path(ini).suffix == ".ini" and settings_file_path(ini) != old_file
    assert ini.value("keys/skip") == "X;Y"
    assert bytes(ini.value("window/state")) == b"\x00\x01binary"
    assert old_file.read_bytes() == before  # the old store is read, never changed

    ini.setValue("keys/skip", "Z")
    ini.sync()
    assert migrate_native_settings() is False  # once: the INI file has settings now
    assert QSettings().value("keys/skip") == "Z"


def test_help_and_settings_dialog_name_the_settings_file(qtbot, make_window) -> None:
    win = make_window()
    path = str(settings_file_path(win.settings))
    assert path.endswith(".ini")
    qtbot.keyClick(win, Qt.Key.Key_F1)

    def box() -> QMessageBox | None:
        found = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
        return found[0] if found else None

    qtbot.waitUntil(lambda: box() is not None)
    shown = box()
    assert shown is not None and f"Settings file: <code>{path}</code>" in shown.text()
    shown.close()

    dlg = SettingsDialog(LabelingSettings("eer", 10, 10))
    qtbot.addWidget(dlg)
    assert path in dlg.settings_file.text()


def test_actions_carry_the_platforms_standard_keys(qtbot, make_window) -> None:
    win = make_window()
    for name, standard in (
        ("undo", QKeySequence.StandardKey.Undo),
        ("find", QKeySequence.StandardKey.Find),
        ("help", QKeySequence.StandardKey.HelpContents),
        ("quit", QKeySequence.StandardKey.Quit),
    ):
        bound = win.key_actions[name].shortcuts()
        assert all(s in bound for s in QKeySequence.keyBindings(standard)), name
    assert QKeySequence("Ctrl+Z") in win.key_actions["undo"].shortcuts()
    assert QKeySequence("Ctrl+Q") in win.key_actions["quit"].shortcuts()  # where the platform binds none
    assert win.open_action.shortcuts() == QKeySequence.keyBindings(QKeySequence.StandardKey.Open)
    assert QKeySequence("Ctrl+,") in win.settings_action.shortcuts()
    assert win.open_action in win.menuBar().actions()[0].menu().actions()


def test_find_key_goes_to_the_search_of_browse(qtbot, make_window) -> None:
    win = make_window()
    win.set_workspace(text_workspace(), density=False)
    qtbot.waitUntil(lambda: win.ctl is not None)
    assert win.tabs.currentIndex() == 0
    qtbot.keyClick(win, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert win.tabs.currentWidget() is win.browse
    qtbot.waitUntil(win.browse.search.hasFocus)
    qtbot.keyClicks(win.browse.search, "number 7")
    assert win.browse.search.text() == "number 7"
