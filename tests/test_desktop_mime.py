"""A double-clicked project opens in aldesk: the MIME type of ``*.aldesk`` (shared-mime-info), the entry's
``MimeType=`` and ``Exec=... %f``, and the command that Exec line runs."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aldesk import desktop_entry

LINUX = Path(__file__).resolve().parents[1] / "packaging" / "linux"


def _keys(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines()[1:] if "=" in line)


def test_shipped_mime_package_is_the_generated_one() -> None:
    shipped = (LINUX / f"{desktop_entry.APP_ID}.xml").read_text(encoding="utf-8")
    assert shipped == desktop_entry.mime_xml_text()
    assert 'type="application/x-aldesk-project"' in shipped and 'pattern="*.aldesk"' in shipped
    assert "<mediatype>application/x-aldesk-project</mediatype>" in (
        LINUX / f"{desktop_entry.APP_ID}.metainfo.xml"
    ).read_text(encoding="utf-8")


def test_install_registers_the_project_type(tmp_path: Path) -> None:
    share = tmp_path / "share"
    done = desktop_entry.install(share, command=[sys.executable, "-m", "aldesk"], refresh=True)
    assert done.mime_file == share / "mime" / "packages" / f"{desktop_entry.APP_ID}.xml"
    assert done.mime_file.read_text(encoding="utf-8") == desktop_entry.mime_xml_text()
    keys = _keys(done.desktop_file.read_text(encoding="utf-8"))
    assert keys["MimeType"] == "application/x-aldesk-project;"
    assert keys["Exec"].endswith(" %f")
    if shutil.which("update-mime-database"):  # shared-mime-info: on desktops, not necessarily on CI
        globs = (share / "mime" / "globs2").read_text(encoding="utf-8")
        assert "60:application/x-aldesk-project:*.aldesk" in globs
    removed = desktop_entry.uninstall(share)
    assert done.mime_file in removed and not done.mime_file.exists()


def test_the_exec_line_opens_the_double_clicked_project(tmp_path: Path) -> None:
    """What a file manager runs: Exec with %f replaced by the file. It reaches ``aldesk open`` (here without a
    display, so it ends at the display check with its one line, not at argparse's "invalid choice")."""
    project = tmp_path / "my photos.aldesk"
    done = desktop_entry.install(tmp_path / "share", command=[sys.executable, "-m", "aldesk"], refresh=False)
    exec_value = _keys(done.desktop_file.read_text(encoding="utf-8"))["Exec"].replace("\\\\", "\\")
    argv = [str(project) if a == "%f" else a for a in shlex.split(exec_value)]
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["ALDESK_LOG_DIR"] = str(tmp_path / "log")
    ran = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=120)
    assert ran.returncode == 2
    assert ran.stderr.startswith("aldesk: no display found"), ran.stderr


@pytest.mark.parametrize("entry", ["aldesk", "aldesk-gui"])
def test_pyproject_declares_the_console_and_gui_scripts(entry: str) -> None:
    import tomllib

    meta = tomllib.loads((LINUX.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    scripts = meta["scripts"] if entry == "aldesk" else meta["gui-scripts"]
    module, func = scripts[entry].split(":")
    assert callable(getattr(__import__(module, fromlist=[func]), func))


def test_gui_entry_runs_without_a_console(tmp_path: Path) -> None:
    """``aldesk-gui`` on Windows has no console: sys.stdout and sys.stderr are None. Printing must not fail."""
    code = (
        "import sys; sys.stdout = None; sys.stderr = None; sys.argv = ['aldesk-gui', '--version']\n"
        "from aldesk.cli import gui_main\n"
        "try:\n    gui_main()\nexcept SystemExit as e:\n    sys.__stdout__.write(f'exit {e.code}')\n"
    )
    env = {**os.environ, "ALDESK_LOG_DIR": str(tmp_path / "log")}
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert ran.returncode == 0 and ran.stdout == "exit 0", ran.stdout + ran.stderr
