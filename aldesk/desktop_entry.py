"""``aldesk --install-desktop-entry``: put aldesk in the desktop's application menu, for this user only.

Writes ``$XDG_DATA_HOME/applications/io.github.aldesk.Aldesk.desktop`` (default ``~/.local/share``) whose
``Exec`` is the absolute path of the ``aldesk`` that ran the command, and copies the icons into
``$XDG_DATA_HOME/icons/hicolor/``, and the MIME type of project files (``application/x-aldesk-project``,
``*.aldesk``) into ``$XDG_DATA_HOME/mime/packages/``: the entry's ``Exec=... %f`` and ``MimeType=`` make a
double-clicked project open in aldesk. A pip install cannot do this itself (wheels install no files outside
site-packages and bin), and a per-user entry needs no root. Qt-free, standard library only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

APP_ID = "io.github.aldesk.Aldesk"
MIME_TYPE = "application/x-aldesk-project"
ICON_SIZES = (16, 32, 48, 64, 128, 256)

# Characters after which the Desktop Entry spec requires an Exec argument to be quoted.
_RESERVED = re.compile(r"[\s\"'\\><~|&;$*?#()`]")


def icons_source() -> Path:
    """The bundled ``hicolor`` tree (``aldesk/resources/icons/hicolor``), in a wheel or a PyInstaller bundle."""
    import aldesk

    return Path(aldesk.__file__).resolve().parent / "resources" / "icons" / "hicolor"


def icon_files() -> list[Path]:
    """The bundled PNGs, small to large, for the window icon: ``QIcon()`` + ``addFile(str(p))`` for each.

    Together with ``QGuiApplication.setDesktopFileName(APP_ID)`` (Wayland matches the window to the entry by it).
    """
    src = icons_source()
    return [src / f"{s}x{s}" / "apps" / f"{APP_ID}.png" for s in ICON_SIZES]


def data_home() -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when it is unset or not absolute (as the XDG spec says)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


def aldesk_command() -> list[str]:
    """The command that starts this same aldesk, as absolute paths, for the entry's ``Exec``.

    Order: the PyInstaller executable; the ``aldesk`` script this process was started as (the venv the user
    ran the command from, even if another aldesk comes first on PATH); ``aldesk`` on PATH; else this Python
    with ``-m aldesk``.
    """
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).resolve())]
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name.startswith("aldesk") and argv0.suffix != ".py":
        found = shutil.which(str(argv0))
        if found:
            return [str(Path(found).absolute())]
    found = shutil.which("aldesk")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "aldesk"]


def quote_exec_arg(arg: str) -> str:
    """Quote one argument for ``Exec`` (Desktop Entry spec: double quotes, with ``"`` ` ``$`` ``\\`` escaped)."""
    if not arg:
        return '""'
    if not _RESERVED.search(arg) and "%" not in arg:
        return arg
    inner = re.sub(r'(["`$\\])', r"\\\1", arg)
    return '"' + inner + '"'


def exec_line(command: list[str]) -> str:
    # The quoted Exec string is then a desktop-file string value, whose own escaping doubles backslashes;
    # a literal "%" must be written "%%" (field codes).
    quoted = " ".join(quote_exec_arg(a) for a in command).replace("%", "%%")
    return quoted.replace("\\", "\\\\")


def desktop_entry_text(command: list[str] | None = None) -> str:
    """The .desktop file. ``packaging/linux/io.github.aldesk.Aldesk.desktop`` is this text for ``["aldesk"]``."""
    cmd = exec_line(command if command is not None else ["aldesk"])
    # TryExec is a plain path (the launcher hides the entry when it is gone), not an Exec-quoted command.
    try_exec = (command or ["aldesk"])[0].replace("\\", "\\\\")
    return f"""[Desktop Entry]
Type=Application
Version=1.4
Name=aldesk
GenericName=Active learning labeler
Comment=Label a folder of images or a CSV of texts with as few labels as possible, offline
Exec={cmd} %f
TryExec={try_exec}
Icon={APP_ID}
Terminal=false
Categories=Science;ArtificialIntelligence;
Keywords=label;annotation;active learning;dataset;images;texts;machine learning;
StartupNotify=true
StartupWMClass=aldesk
MimeType={MIME_TYPE};
"""


def mime_xml_text() -> str:
    """The shared-mime-info package for project files. ``packaging/linux/io.github.aldesk.Aldesk.xml`` is this
    text (distro packages install it into /usr/share/mime/packages/). A project is an SQLite file: it is a
    sub-class of ``application/vnd.sqlite3``, told apart by its name."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="{MIME_TYPE}">
    <comment>aldesk project</comment>
    <sub-class-of type="application/vnd.sqlite3"/>
    <icon name="{APP_ID}"/>
    <glob pattern="*.aldesk" weight="60"/>
  </mime-type>
</mime-info>
"""


@dataclass(frozen=True)
class Installed:
    desktop_file: Path
    icons: list[Path]
    command: list[str]
    mime_file: Path


def install(target: Path | None = None, command: list[str] | None = None, refresh: bool = True) -> Installed:
    """Write the .desktop file and the icons under ``target`` (default :func:`data_home`).

    Idempotent: running it again (e.g. after moving the venv) rewrites both with the current path.
    """
    base = target if target is not None else data_home()
    command = command if command is not None else aldesk_command()
    icons: list[Path] = []
    src = icons_source()
    for size_dir in [f"{s}x{s}" for s in ICON_SIZES] + ["scalable"]:
        for icon in sorted((src / size_dir / "apps").glob(f"{APP_ID}.*")):
            dest = base / "icons" / "hicolor" / size_dir / "apps" / icon.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(icon, dest)
            icons.append(dest)
    if not icons:
        raise FileNotFoundError(f"no bundled icons under {src}")
    apps = base / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    desktop = apps / f"{APP_ID}.desktop"
    tmp = desktop.with_suffix(".desktop.tmp")
    tmp.write_text(desktop_entry_text(command), encoding="utf-8")
    tmp.chmod(0o755)  # some desktops (GNOME) only launch entries they consider trusted/executable
    os.replace(tmp, desktop)  # launchers watch the folder: never let them see half a file
    mime = base / "mime" / "packages" / f"{APP_ID}.xml"
    mime.parent.mkdir(parents=True, exist_ok=True)
    tmp = mime.with_suffix(".xml.tmp")
    tmp.write_text(mime_xml_text(), encoding="utf-8")
    os.replace(tmp, mime)
    if refresh:
        _refresh_caches(base)
    return Installed(desktop, icons, command, mime)


def uninstall(target: Path | None = None) -> list[Path]:
    """Remove what :func:`install` wrote; returns the removed paths."""
    base = target if target is not None else data_home()
    paths = [base / "applications" / f"{APP_ID}.desktop", base / "mime" / "packages" / f"{APP_ID}.xml"]
    paths += sorted((base / "icons" / "hicolor").glob(f"*/apps/{APP_ID}.*"))
    removed = []
    for path in paths:
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed


def _refresh_caches(base: Path) -> None:
    # Best effort: most desktops watch these folders anyway; the tools are absent on minimal systems.
    for tool, args in (
        ("update-mime-database", [str(base / "mime")]),  # *.aldesk -> application/x-aldesk-project
        ("update-desktop-database", ["-q", str(base / "applications")]),
        ("gtk-update-icon-cache", ["-q", "-t", "-f", str(base / "icons" / "hicolor")]),
    ):
        exe = shutil.which(tool)
        if exe:
            subprocess.run([exe, *args], check=False, capture_output=True, timeout=30)


def main() -> int:
    """What ``aldesk --install-desktop-entry`` runs: install, then say where."""
    result = install()
    print(f"Installed {result.desktop_file}")
    print(f"  runs: {' '.join(result.command)}")
    print(f"  icons: {len(result.icons)} files under {result.icons[0].parents[2]}")
    print(f"  project files (*.aldesk, {MIME_TYPE}): {result.mime_file}")
    print("aldesk should now be in your application menu (log out and in if it does not show yet).")
    return 0
