"""The CLI as a good citizen of a shell: a reader that goes away, Ctrl+C, no display, progress in a log or on a
terminal, ``aldesk PATH.aldesk``, and ``open`` taking ``init``'s source options. Every test runs the real CLI
in a second process."""

from __future__ import annotations

import argparse
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aldesk.cli.display_check import check_display, debian_package, missing_xcb_libraries
from aldesk.core.progress import UserError

ALDESK = [sys.executable, "-m", "aldesk"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(ALDESK_LOG_DIR=str(tmp_path / "log"), PYTHONUNBUFFERED="1", **extra)
    return env


@pytest.fixture(scope="module")
def texts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A CSV of 60 labeled texts and its project (made by the real ``aldesk init``)."""
    folder = tmp_path_factory.mktemp("citizen")
    csv = folder / "reviews.csv"
    rows = ["review,sentiment"] + [
        f"review number {i} says the film was {'good' if i % 2 else 'bad'},{'pos' if i % 2 else 'neg'}"
        for i in range(60)
    ]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    project = folder / "reviews.aldesk"
    done = subprocess.run(
        [*ALDESK, "init", str(csv), "--label-column", "sentiment"],
        capture_output=True,
        text=True,
        env=_env(folder),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return csv, project


def _closed_pipe(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run with stdout a pipe whose reader is gone before the first write (``| head -0``, deterministic)."""
    p = subprocess.Popen([*ALDESK, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()
    err = p.stderr.read().decode()
    return p.wait(timeout=300), err


def test_a_reader_that_goes_away_ends_every_command_quietly(texts, tmp_path: Path) -> None:
    csv, project = texts
    env = _env(tmp_path)
    commands = [
        ["--help"],
        ["--version"],
        ["init", "--help"],
        ["info", str(project)],
        ["export", str(project), "--format", "csv", "--out", str(tmp_path / "labels.csv")],
        ["simulate", str(csv), "--label-column", "sentiment", "--folds", "2", "--budget", "4", "--quiet"],
        ["init", str(csv), "--project", str(tmp_path / "new.aldesk")],
        ["import-labels", str(tmp_path / "new.aldesk"), str(tmp_path / "labels.csv")],
        ["relink", str(tmp_path / "new.aldesk"), str(csv)],
        ["recover", str(project)],  # refused (not damaged): the one line goes to stderr, stdout is closed
    ]
    for args in commands:
        rc, err = _closed_pipe(args, env)
        assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, (
            args,
            err,
        )
        assert rc in (0, 1, 2, 141), (args, rc, err)


def test_ctrl_c_is_one_line_and_exit_130(texts, tmp_path: Path) -> None:
    csv, _ = texts
    p = subprocess.Popen(
        [
            *ALDESK,
            "simulate",
            str(csv),
            "--label-column",
            "sentiment",
            "--folds",
            "2",
            "--budget",
            "58",
            "--strategies",
            "eer,uid,margin,entropy,kcenter,typiclust",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(tmp_path),
        text=True,
    )
    assert p.stderr is not None
    seen = []
    for line in p.stderr:  # the plain progress lines of a log: wait until the folds run, then press Ctrl+C
        seen.append(line)
        if "fold" in line:
            break
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, (p.returncode, err)
    assert err.strip().splitlines()[-1] == "aldesk: interrupted"
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


@pytest.mark.parametrize(
    "args",
    [["demo"], [], ["open", "{csv}"], ["{project}"]],
    ids=["demo", "start-page", "open", "bare-project"],
)
def test_no_display_is_one_line_before_qt(texts, tmp_path: Path, args: list[str]) -> None:
    csv, project = texts
    args = [a.format(csv=csv, project=project) for a in args]
    done = subprocess.run([*ALDESK, *args], capture_output=True, text=True, env=_env(tmp_path), check=False)
    assert done.returncode == 2, (done.returncode, done.stderr)  # Qt's abort would be -6 (134 in a shell)
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "aldesk: no display found: set DISPLAY or WAYLAND_DISPLAY, or use QT_QPA_PLATFORM=offscreen "
        "(on a headless machine: xvfb-run -a aldesk ...)"
    ]


def test_a_display_nobody_serves_is_named(texts, tmp_path: Path) -> None:
    n = _free_display_number()
    done = subprocess.run(
        [*ALDESK, "demo"], capture_output=True, text=True, env=_env(tmp_path, DISPLAY=f":{n}"), check=False
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"aldesk: cannot reach the X display :{n} (DISPLAY)")
    assert len(done.stderr.strip().splitlines()) == 1


def test_offscreen_is_left_to_qt(tmp_path: Path) -> None:
    """QT_QPA_PLATFORM=offscreen needs no display: the check must not refuse it (the tests and CI use it)."""
    check_display({"QT_QPA_PLATFORM": "offscreen"}, platform="linux")
    check_display({}, platform="win32")
    with pytest.raises(UserError, match="no display found"):
        check_display({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, platform="linux")


def _free_display_number() -> int:
    for n in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(f"\0/tmp/.X11-unix/X{n}")
            except OSError:
                return n
            finally:
                s.close()
    raise AssertionError("no free display number")


@pytest.mark.skipif(
    not os.path.exists("/usr/bin/gcc"), reason="needs gcc to build a plugin with a missing library"
)
def test_a_missing_xcb_library_names_its_debian_package(tmp_path: Path) -> None:
    """A real shared object whose library is gone, as Qt's xcb plugin's libxcb-cursor.so.0 on a bare Debian (a
    made-up name: this machine has the real one); and a display that answers (an abstract X socket, as a real
    server opens one)."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (tmp_path / "a.c").write_text("int cursor_stub(void) { return 1; }\n")
    (tmp_path / "b.c").write_text("int cursor_stub(void);\nint plugin(void) { return cursor_stub(); }\n")
    cc = ["/usr/bin/gcc", "-shared", "-fPIC"]
    subprocess.run(
        [*cc, "-o", lib / "libaldesk-gone.so.3", "-Wl,-soname,libaldesk-gone.so.3", tmp_path / "a.c"],
        check=True,
    )
    plugin = tmp_path / "libqxcb.so"
    subprocess.run([*cc, "-o", plugin, tmp_path / "b.c", f"-L{lib}", "-l:libaldesk-gone.so.3"], check=True)
    (lib / "libaldesk-gone.so.3").unlink()
    assert missing_xcb_libraries(plugin) == ["libaldesk-gone.so.3"]
    assert debian_package("libaldesk-gone.so.3") == "libaldesk-gone3"
    assert debian_package("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert debian_package("libfoo2.so.0") == "libfoo2-0"

    n = _free_display_number()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(f"\0/tmp/.X11-unix/X{n}")
    server.listen(1)
    try:
        with pytest.raises(UserError) as caught:
            check_display({"DISPLAY": f":{n}"}, platform="linux", plugin=plugin)
    finally:
        server.close()
    message = str(caught.value)
    assert "missing libaldesk-gone.so.3" in message and "apt-get install libaldesk-gone3" in message
    assert "\n" not in message


def test_progress_in_a_log_is_a_few_plain_lines(texts, tmp_path: Path) -> None:
    csv, _ = texts
    done = subprocess.run(
        [
            *ALDESK,
            "simulate",
            str(csv),
            "--label-column",
            "sentiment",
            "--folds",
            "4",
            "--budget",
            "8",
            "--strategies",
            "eer,uid,margin",
        ],
        capture_output=True,
        env=_env(tmp_path),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    err = done.stderr.decode()
    assert "\r" not in err
    progress = [line for line in err.splitlines() if re.match(r"^\s*\d+\.\d%  ", line)]
    # embedding (cached or not) and simulate: each at most one line per tenth, plus its first
    assert 2 <= len(progress) <= 2 * 11, err
    assert progress[-1].startswith("100.0%")


def test_progress_on_a_terminal_is_a_tqdm_bar(texts, tmp_path: Path) -> None:
    csv, _ = texts
    leader, follower = pty.openpty()
    p = subprocess.Popen(
        [*ALDESK, "simulate", str(csv), "--label-column", "sentiment", "--folds", "2", "--budget", "4"],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env=_env(tmp_path),
    )
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the process closed its end
                break
            if not data:
                break
            chunks.append(data)
        elif p.poll() is not None:
            break
    os.close(leader)
    assert p.wait(timeout=60) == 0
    screen = b"".join(chunks).decode(errors="replace")
    assert "\r" in screen  # redrawn in place
    assert re.search(r"100\.0% \|█+\| \d\d:\d\d<00:00 ", screen), screen


def test_open_takes_the_same_source_options_as_init() -> None:
    from aldesk.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))

    def options(name: str) -> set[str]:
        return {o for a in sub.choices[name]._actions for o in a.option_strings if o not in ("-h", "--help")}

    assert {"--text-column", "--label-column", "--model-card", "--classes", "--project"} <= options("open")
    # open alone takes a vectors table made elsewhere (aldesk embed) and its graph
    assert options("open") - {"--vectors", "--graph"} == options("init")


def test_open_with_source_options_checks_before_the_window(texts, tmp_path: Path) -> None:
    """The README's ``aldesk open reviews.csv --text-column ...`` is accepted (argparse rejected it before);
    a missing model card is one line, found before any window."""
    csv, _ = texts
    done = subprocess.run(
        [
            *ALDESK,
            "open",
            str(csv),
            "--project",
            str(tmp_path / "r.aldesk"),
            "--text-column",
            "review",
            "--label-column",
            "sentiment",
            "--model-card",
            str(tmp_path / "nope.json"),
        ],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        check=False,
    )
    assert done.returncode == 2
    assert "nope.json does not exist" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    done = subprocess.run(
        [*ALDESK, "open", str(csv), "--project", str(tmp_path / "r.aldesk"), "--text-column", "review"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        check=False,
    )
    assert done.returncode == 2 and "no display found" in done.stderr  # parsed, checked, then the display


def test_a_typo_is_still_an_error_not_a_path(tmp_path: Path) -> None:
    """``aldesk PATH`` means open (test_no_display_is_one_line_before_qt[bare-project]); a word that is neither a
    command nor a path is still argparse's one-line error."""
    typo = subprocess.run(
        [*ALDESK, "simulat"], capture_output=True, text=True, env=_env(tmp_path), check=False
    )
    assert typo.returncode == 2 and "invalid choice: 'simulat'" in typo.stderr
