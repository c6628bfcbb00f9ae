"""Packaging: the desktop entry, the log file, the icons (fast); the wheel installed in a fresh venv (slow)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from aldesk import desktop_entry, logsetup
from aldesk.cli import main

ROOT = Path(__file__).resolve().parents[1]
LINUX = ROOT / "packaging" / "linux"
APP_ID = desktop_entry.APP_ID


def _parse_desktop(text: str) -> dict[str, str]:
    lines = text.splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line and not line.startswith("#"))


# --- icons --------------------------------------------------------------------------------------------------


def test_bundled_icons_have_every_hicolor_size() -> None:
    src = desktop_entry.icons_source()
    for size in desktop_entry.ICON_SIZES:
        with Image.open(src / f"{size}x{size}" / "apps" / f"{APP_ID}.png") as img:
            assert img.size == (size, size)
            assert img.mode == "RGBA"
            # the corners are transparent (rounded tile), the centre is not
            assert img.getpixel((0, 0))[3] == 0
            assert img.getpixel((size // 2, size // 2))[3] == 255
    assert all(p.is_file() for p in desktop_entry.icon_files())
    svg = (src / "scalable" / "apps" / f"{APP_ID}.svg").read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "<svg" in svg and 'viewBox="0 0 256 256"' in svg


# --- desktop entry ------------------------------------------------------------------------------------------


def test_shipped_desktop_file_is_the_generated_one() -> None:
    # packaging/linux/ holds the entry for distro packages (Exec=aldesk on PATH); the installer writes the same
    # text with an absolute Exec. One source, so the two cannot drift.
    shipped = (LINUX / f"{APP_ID}.desktop").read_text(encoding="utf-8")
    assert shipped == desktop_entry.desktop_entry_text()
    keys = _parse_desktop(shipped)
    assert keys["Exec"] == "aldesk %f" and keys["Icon"] == APP_ID and keys["Type"] == "Application"


def test_install_desktop_entry_into_xdg_data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    exe = tmp_path / "my venv" / "bin" / "aldesk"  # a space in the path: Exec must quote it
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(exe), "--install-desktop-entry"])

    assert main(["--install-desktop-entry"]) == 0

    desktop = data / "applications" / f"{APP_ID}.desktop"
    keys = _parse_desktop(desktop.read_text(encoding="utf-8"))
    assert keys["Exec"] == f'"{exe}" %f'
    assert keys["TryExec"] == str(exe)
    assert keys["Icon"] == APP_ID
    for size in desktop_entry.ICON_SIZES:
        assert (data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png").is_file()
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
    validator = shutil.which("desktop-file-validate")
    if validator:  # desktop-file-utils is not on CI; when it is here, the installed file must pass it
        subprocess.run([validator, str(desktop)], check=True)

    # Again after the venv moved: rewritten, not duplicated; uninstall removes everything it wrote.
    desktop_entry.install(data, command=["/opt/aldesk/aldesk"], refresh=False)
    assert _parse_desktop(desktop.read_text(encoding="utf-8"))["Exec"] == "/opt/aldesk/aldesk %f"
    assert len(list((data / "applications").glob("*.desktop"))) == 1
    removed = desktop_entry.uninstall(data)
    assert desktop in removed and not desktop.exists()
    assert not list((data / "icons").rglob(f"{APP_ID}.*"))


def test_xdg_data_home_default_and_relative_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert desktop_entry.data_home() == tmp_path / ".local" / "share"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/dir")  # the spec says: ignore a relative value
    assert desktop_entry.data_home() == tmp_path / ".local" / "share"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["/usr/bin/aldesk"], "/usr/bin/aldesk"),
        (["/a b/aldesk"], '"/a b/aldesk"'),
        (
            ["/x$y/aldesk"],
            '"/x\\\\$y/aldesk"',
        ),  # \$ inside quotes, then the backslash doubled as a string value
        (["/p%q/aldesk"], '"/p%%q/aldesk"'),
        (["/usr/bin/python3", "-m", "aldesk"], "/usr/bin/python3 -m aldesk"),
    ],
)
def test_exec_quoting(command: list[str], expected: str) -> None:
    assert desktop_entry.exec_line(command) == expected


def test_command_falls_back_to_python_m_aldesk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["pytest"])
    monkeypatch.setattr(desktop_entry.shutil, "which", lambda name: None)
    assert desktop_entry.aldesk_command()[1:] == ["-m", "aldesk"]


# --- log file -----------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_logging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    # main() sets up logging: keep its file out of the user's log dir.
    monkeypatch.setenv("ALDESK_LOG_DIR", str(tmp_path / "default-logs"))
    yield
    # Undo what setup_logging did to this process's loggers, for the tests that follow.
    for name in ("aldesk", "py.warnings"):
        lg = logging.getLogger(name)
        for h in list(lg.handlers):
            if getattr(h, "_aldesk", False):
                lg.removeHandler(h)
                h.close()
    logging.captureWarnings(False)
    logsetup._configured = None


def test_setup_logging_writes_rotating_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = logsetup.setup_logging(tmp_path / "logs", force=True)
    assert path == tmp_path / "logs" / "aldesk.log" == logsetup.log_path()
    log = logging.getLogger("aldesk.test")
    log.info("an info line")
    log.warning("a warning line")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        # pytest's own warning capture swaps showwarning per test: capture again inside this block.
        logging.captureWarnings(False)
        logging.captureWarnings(True)
        warnings.warn("a python warning", UserWarning, stacklevel=1)
    text = path.read_text(encoding="utf-8")
    assert "an info line" in text and "a warning line" in text and "a python warning" in text
    err = capsys.readouterr().err
    assert "a warning line" in err and "an info line" not in err  # the terminal only gets warnings and up

    handler = next(h for h in logging.getLogger("aldesk").handlers if hasattr(h, "maxBytes"))
    assert handler.maxBytes == 1_000_000 and handler.backupCount == 3
    # Called again: no second set of handlers (no line written twice).
    logsetup.setup_logging(tmp_path / "logs", force=True)
    assert sum(getattr(h, "_aldesk", False) for h in logging.getLogger("aldesk").handlers) == 2


def test_setup_logging_defaults_to_platformdirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALDESK_LOG_DIR", raising=False)
    monkeypatch.setattr(logsetup, "default_log_dir", lambda: tmp_path / "state" / "log")
    assert logsetup.setup_logging(force=True) == tmp_path / "state" / "log" / "aldesk.log"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_unwritable_log_dir_does_not_stop_the_app(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert logsetup.setup_logging(ro / "sub", force=True) is None
        logging.getLogger("aldesk").error("still logged to stderr")
    finally:
        ro.chmod(0o700)


def test_log_path_that_is_a_file_does_not_stop_the_app(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    assert logsetup.setup_logging(blocker, force=True) is None


# --- the wheel, installed for real (slow) --------------------------------------------------------------------


_NONE_REFCOUNT_CHECK = """
import sys
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel()
before = sys.getrefcount(None)
for _ in range(2000):
    label.setText("x")
print(before - sys.getrefcount(None))
"""


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)  # type: ignore[call-overload]


@pytest.mark.slow
def test_wheel_installs_and_runs_in_a_fresh_venv(tmp_path: Path) -> None:
    t0 = time.monotonic()
    wheels = tmp_path / "wheels"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",  # isolated build: a recent setuptools from PyPI (license = "MIT" needs >= 77)
            "-w",
            str(wheels),
            str(ROOT),
        ]
    )
    (wheel,) = wheels.glob("aldesk-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    for needed in (
        "aldesk/resources/models/efficientnet_lite0.onnx",
        "aldesk/resources/models/efficientnet_lite0.card.json",
        "aldesk/resources/models/minilm_l6_int8.card.json",
        "aldesk/resources/models/minilm_tokenizer.json",
        "aldesk/resources/models/e5_small_q4.onnx",
        "aldesk/resources/models/e5_small_q4.card.json",
        "aldesk/resources/models/e5_small_tokenizer.json",
        "aldesk/resources/models/efficientnet_lite0_px32.card.json",
        "aldesk/resources/models/NOTICE",
        "aldesk/resources/demo/texts.csv",
        "aldesk/resources/demo/LICENSE.md",
        f"aldesk/resources/icons/hicolor/scalable/apps/{APP_ID}.svg",
        f"aldesk/resources/icons/hicolor/256x256/apps/{APP_ID}.png",
    ):
        assert needed in names, needed
    assert sum(n.startswith("aldesk/resources/demo/images/") and n.endswith(".png") for n in names) >= 300
    assert not any("__pycache__" in n or n.startswith("tests/") for n in names)

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    env = {
        **os.environ,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "HOME": str(tmp_path / "home"),  # the app's recent list, caches and log go here, not to the user's
        "XDG_CACHE_HOME": str(tmp_path / "home" / ".cache"),
        "XDG_DATA_HOME": str(tmp_path / "home" / ".local" / "share"),
        "XDG_STATE_HOME": str(tmp_path / "home" / ".local" / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config"),
        "NUMBA_CACHE_DIR": str(tmp_path / "numba"),
        "PIP_CACHE_DIR": os.environ.get(
            "PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")
        ),  # reuse downloads
    }
    env.pop("PYTHONPATH", None)
    _run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], env=env, timeout=1500)
    aldesk = str(venv / "bin" / "aldesk")

    assert _run([aldesk, "--version"], env=env).stdout.strip() == "aldesk 0.1.0"
    # The Qt binding pip resolved for a user must not be one that aborts mid-session (tests/ui/test_qt_binding.py):
    # the dependency range in pyproject.toml has to exclude it.
    guard = subprocess.run(
        [str(venv / "bin" / "python"), "-c", _NONE_REFCOUNT_CHECK],
        check=False,  # an abort is the failure we report below, with its stderr
        env={**env, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
    )
    qt = _run([str(venv / "bin" / "python"), "-c", "import PySide6; print(PySide6.__version__)"], env=env)
    assert guard.returncode == 0 and int(guard.stdout) < 100, (
        f"pip installed PySide6 {qt.stdout.strip()}, which loses references to None (exit {guard.returncode}, "
        f"{guard.stdout.strip()!r} lost, {guard.stderr.strip()[-300:]!r}): exclude it in pyproject.toml"
    )
    # The installed package, not the source tree, provides the demo data.
    demo = _run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import aldesk, pathlib; print(pathlib.Path(aldesk.__file__).parent)",
        ],
        env=env,
        cwd=tmp_path,
    ).stdout.strip()
    assert demo.startswith(str(venv))
    texts = Path(demo) / "resources" / "demo" / "texts.csv"
    out = tmp_path / "x.json"
    _run(
        [
            aldesk,
            "simulate",
            str(texts),
            "--label-column",
            "label",
            "--folds",
            "2",
            "--budget",
            "20",
            "--out",
            str(out),
            "--quiet",
        ],
        env=env,
        cwd=tmp_path,
        timeout=900,
    )
    result = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(result, dict) and result

    # The menu entry from an installed wheel: icons come from the installed package, Exec is this venv's script.
    _run([aldesk, "--install-desktop-entry"], env=env, cwd=tmp_path)
    share = Path(env["XDG_DATA_HOME"])
    keys = _parse_desktop((share / "applications" / f"{APP_ID}.desktop").read_text(encoding="utf-8"))
    assert keys["Exec"] == f"{aldesk} %f"
    assert (share / "icons" / "hicolor" / "48x48" / "apps" / f"{APP_ID}.png").is_file()

    # The app, offscreen: it has no auto-quit switch, so it runs until a timeout kills it. Success is "still
    # running after 8 s, no traceback".
    proc = subprocess.Popen(
        [aldesk, "demo", "texts"],
        env={**env, "QT_QPA_PLATFORM": "offscreen"},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        proc.wait(timeout=8)
    except subprocess.TimeoutExpired:
        pass
    still_running = proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    assert still_running, f"the app exited by itself with {proc.returncode}:\n{err}"
    assert "Traceback" not in err, err
    print(f"wheel build + install + smoke: {time.monotonic() - t0:.0f} s")
