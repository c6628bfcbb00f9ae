"""Before Qt starts: is there a display the window can use? One line that says what to do, not Qt's abort.

Without a display Qt aborts the process (exit 134) with a message that blames a library ("libxcb-cursor0 is
needed to load the Qt xcb platform plugin") even when the library is there and only ``DISPLAY`` is missing. So
the CLI looks first, from the environment and the file system only (no Qt, no X library loaded):

- no ``DISPLAY`` and no ``WAYLAND_DISPLAY`` (and no ``QT_QPA_PLATFORM`` naming a platform that needs neither):
  "no display found";
- a local X display whose socket is not there: "cannot reach the X display";
- X11 chosen but a library of Qt's xcb plugin missing (``ldd`` says "not found"): the Debian packages to install.

Linux only: Windows and macOS always have their native platform.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from aldesk.core.progress import UserError

WHAT_TO_DO = "set DISPLAY or WAYLAND_DISPLAY, or use QT_QPA_PLATFORM=offscreen (on a headless machine: xvfb-run -a aldesk ...)"
NO_DISPLAY = f"no display found: {WHAT_TO_DO}"

# Libraries of Qt's xcb plugin that a bare Debian lacks -> the Debian package that has them.
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxcb.so.1": "libxcb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.MULTILINE)
_X_DISPLAY = re.compile(r"^(?P<host>[^:]*):(?P<n>\d+)(\.\d+)?$")
# Platforms that need no display server: the user chose them on purpose.
_NEEDS_X, _NEEDS_WAYLAND = "xcb", "wayland"


def check_display(
    environ: Mapping[str, str] | None = None, *, platform: str | None = None, plugin: Path | None = None
) -> None:
    """Raise :class:`UserError` (one line) if the window cannot start here; return if it can or if unsure.

    ``environ``, ``platform``, ``plugin`` (Qt's xcb plugin): this process's by default (tests give others)."""
    env = os.environ if environ is None else environ
    if not (platform or sys.platform).startswith("linux"):
        return
    chosen = [p.strip().split(":")[0] for p in env.get("QT_QPA_PLATFORM", "").split(";") if p.strip()]
    if any(not p.startswith((_NEEDS_X, _NEEDS_WAYLAND)) for p in chosen):
        return  # offscreen, vnc, eglfs, ...: Qt needs no display server for these
    x, wayland = env.get("DISPLAY", ""), env.get("WAYLAND_DISPLAY", "")
    wants_x = not chosen or _NEEDS_X in chosen
    wants_wayland = not chosen or any(p.startswith(_NEEDS_WAYLAND) for p in chosen)
    if not ((wants_x and x) or (wants_wayland and wayland)):
        raise UserError(NO_DISPLAY)
    if wants_wayland and wayland:
        return  # Qt's Wayland plugin, whose libraries the wheel mostly brings; Qt falls back to xcb itself
    problem = x_display_problem(x)
    if problem:
        raise UserError(problem)
    missing = missing_xcb_libraries(plugin)
    if missing:
        packages = sorted({debian_package(lib) for lib in missing})
        raise UserError(
            f"Qt's X11 plugin cannot load: missing {', '.join(missing)}; on Debian/Ubuntu install them with "
            f"`apt-get install {' '.join(packages)}` (or use QT_QPA_PLATFORM=offscreen)"
        )


def x_display_problem(display: str) -> str | None:
    """Why the X display ``display`` cannot be reached, or None (reachable, or a form this cannot check)."""
    m = _X_DISPLAY.match(display)
    if m is None:
        return None  # e.g. a launchd path on macOS' XQuartz: leave it to Qt
    host, n = m.group("host"), int(m.group("n"))
    if host in ("", "unix"):
        if Path(f"/tmp/.X11-unix/X{n}").exists():
            return None
        if _abstract_socket_listening(f"/tmp/.X11-unix/X{n}"):
            return None
        return f"cannot reach the X display {display} (DISPLAY): no X server listens on it; {WHAT_TO_DO}"
    try:  # host:n is TCP port 6000 + n (ssh -X forwards localhost:10)
        with socket.create_connection((host, 6000 + n), timeout=2):
            return None
    except OSError as exc:
        return f"cannot reach the X display {display} (DISPLAY): {exc.strerror or exc}"


def _abstract_socket_listening(name: str) -> bool:
    """Linux X servers also listen on the abstract socket ``@/tmp/.X11-unix/Xn`` (a container may share it
    without the file)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(2)
        s.connect("\0" + name)
        return True
    except OSError:
        return False
    finally:
        s.close()


def xcb_plugin() -> Path | None:
    """Qt's xcb platform plugin of the installed PySide6 (found without importing it), or None."""
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    plugin = Path(spec.origin).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def missing_xcb_libraries(plugin: Path | None = None) -> list[str]:
    """The shared libraries the plugin (and what it links) needs and the system lacks, by ``ldd``.

    Empty when all are there, or when it cannot tell (no ``ldd``, no plugin: a frozen bundle brings its own)."""
    plugin = plugin or xcb_plugin()
    ldd = shutil.which("ldd")
    if plugin is None or ldd is None:
        return []
    try:
        out = subprocess.run(
            [ldd, str(plugin)], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted(set(_NOT_FOUND.findall(out)))


def debian_package(soname: str) -> str:
    """The Debian package of a library: from the table, else Debian's naming rule (``libfoo.so.3`` ->
    ``libfoo3``, ``libfoo2.so.0`` -> ``libfoo2-0``), lower-cased."""
    if soname in DEBIAN_PACKAGES:
        return DEBIAN_PACKAGES[soname]
    m = re.match(r"^(?P<name>.+?)\.so\.(?P<major>\d+)", soname)
    if m is None:
        return soname
    name = m.group("name")
    sep = "-" if name[-1].isdigit() else ""
    return f"{name}{sep}{m.group('major')}".lower()
