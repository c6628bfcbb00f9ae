"""Every misuse of the ``aldesk`` command is one line on stderr and a non-zero exit, found before any long work;
a reader that closes the pipe early ends the command quietly. The real CLI, in a subprocess, on real files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import aldesk
from aldesk.core.dataset import Dataset
from aldesk.core.project import Project

DEMO_TEXTS = Path(aldesk.__file__).parent / "resources" / "demo" / "texts.csv"


def _env(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_DATA_HOME": str(home / "data"),
        "ALDESK_LOG_DIR": str(home / "log"),
        "PATH": "/usr/bin:/bin",
        "QT_QPA_PLATFORM": "offscreen",
    }


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aldesk", *args],
        cwd=cwd,
        env=_env(cwd),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder with a small CSV of texts (with labels), a project made from it, and a sub-folder."""
    (tmp_path / "t.csv").write_text("text,label\nhello there,a\nbye now,b\nfoo bar,a\n", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    ds = Dataset("text", tmp_path / "t.csv", ["hello there", "bye now", "foo bar"])
    Project.create(tmp_path / "p.aldesk", ds, ["a", "b"], model_id="test-model").close()
    return tmp_path


SIM = ("simulate", str(DEMO_TEXTS), "--label-column", "label", "--quiet", "--folds", "2", "--budget", "3")

# (argument list, a word the one line must contain)
MISUSES = [
    # init
    (("init", "t.csv", "--project", "nodir/p.aldesk", "--classes", "a,b"), "does not exist"),
    (("init", "t.csv", "--project", "", "--classes", "a,b"), "empty path"),
    (("init", "t.csv", "--project", "x.txt", "--classes", "a,b"), ".aldesk"),
    (("init", "t.csv", "--project", "p.aldesk", "--classes", "a,b"), "exists already"),
    (("init", "t.csv", "--project", "new.aldesk", "--classes", ","), "names no class"),
    (("init", "", "--project", "new.aldesk"), "empty path"),
    (("init", "missing.csv", "--project", "new.aldesk"), "does not exist"),
    (("init", "t.csv", "--project", "new.aldesk", "--model-card", "folder"), "is a folder"),
    (("init",), "required"),
    # import-labels, relink
    (("import-labels", "p.aldesk", "missing.csv"), "does not exist"),
    (("import-labels", "p.aldesk", "folder"), "is a folder"),
    (("import-labels", "", "t.csv"), "empty path"),
    (("import-labels", "missing.aldesk", "t.csv"), "does not exist"),
    (("relink", "p.aldesk", ""), "empty path"),
    (("relink", "p.aldesk", "missing.csv"), "does not exist"),
    # simulate: argument errors
    ((*SIM, "--budget", "-5"), "at least 1"),
    ((*SIM, "--budget", "0"), "at least 1"),
    ((*SIM, "--budget", "many"), "not a whole number"),
    ((*SIM, "--k", "0"), "at least 1"),
    ((*SIM, "--folds", "1"), "at least 2"),
    ((*SIM, "--seed", "-1"), "at least 0"),
    ((*SIM, "--strategies", ""), "names no strategy"),
    ((*SIM, "--strategies", "nosuch"), "nosuch"),
    ((*SIM, "--model-card", "folder"), "is a folder"),
    ((*SIM, "--model-card", "missing.json"), "does not exist"),
    (("simulate", "missing.csv"), "does not exist"),
    (("simulate",), "required"),
    # simulate: outputs, refused before the data is read
    ((*SIM, "--plot", "x.bogus"), ".png"),
    ((*SIM, "--out", "nodir/x.json"), "does not exist"),
    ((*SIM, "--plot", "nodir/x.png"), "does not exist"),
    ((*SIM, "--out", "folder"), "is a folder"),
    ((*SIM, "--out", ""), "empty path"),
    ((*SIM, "--out", str(DEMO_TEXTS)), "same file"),
    ((*SIM, "--out", "p.aldesk"), "project"),
    ((*SIM, "--out", "p.aldesk-wal"), "project"),
    ((*SIM, "--out", "p.aldesk.lock"), "project"),
    ((*SIM, "--out", "same.png", "--plot", "same.png"), "same file"),
    # open: checked before Qt starts
    (("open", "missing.csv"), "does not exist"),
    (("open", "t.csv", "--project", "nodir/p.aldesk", "--classes", "a,b"), "does not exist"),
    (("open", "t.csv", "--project", "x.txt", "--classes", "a,b"), ".aldesk"),
    (("open", "t.csv", "--project", "new.aldesk", "--classes", " , "), "names no class"),
    (("open", ""), "empty path"),
    # export: argument errors and a missing folder, before the project is opened (no backup, no lock)
    (("export", "p.aldesk", "--format", "csv", "--out", "x.csv", "--min-confidence", "-3"), "from 0 to 1"),
    (("export", "p.aldesk", "--format", "csv", "--out", "x.csv", "--min-confidence", "nan"), "from 0 to 1"),
    (("export", "p.aldesk", "--format", "csv", "--out", "nodir/x.csv"), "nodir does not exist"),
    (("export", "p.aldesk", "--format", "csv", "--out", ""), "empty path"),
    (("export", "", "--format", "csv", "--out", "x.csv"), "empty path"),
    # anything else argparse refuses
    (("export", "p.aldesk"), "required"),
    (("bogus",), "invalid choice"),
    (("demo", "nosuch"), "invalid choice"),
]


@pytest.mark.parametrize(
    ("args", "word"), MISUSES, ids=[" ".join(a).replace(str(DEMO_TEXTS), "texts.csv") for a, _ in MISUSES]
)
def test_misuse_is_one_line_and_a_non_zero_exit(work: Path, args: tuple[str, ...], word: str) -> None:
    before = sorted(p.name for p in work.iterdir())
    r = run(*args, cwd=work)
    assert r.returncode != 0, r.stdout
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr and word in lines[0], lines[0]
    assert sorted(p.name for p in work.iterdir() if p.name not in ("cache", "log", "data")) == before
    # Refused before any long work: nothing was embedded (the embedding cache was never written).
    emb = work / "cache" / "aldesk"
    assert not emb.exists() or not any(f.is_file() for f in emb.rglob("*")), list(emb.rglob("*"))


def test_a_misuse_spares_the_files_it_names(work: Path) -> None:
    """Refusing is not enough: the project and the source named as outputs are byte for byte as they were."""
    project, source = (work / "p.aldesk").read_bytes(), (work / "t.csv").read_bytes()
    for out in ("p.aldesk", "t.csv"):
        r = run("simulate", "t.csv", "--label-column", "label", "--quiet", "--out", out, cwd=work)
        assert r.returncode != 0 and len(r.stderr.splitlines()) == 1, r.stderr
    assert (work / "p.aldesk").read_bytes() == project and (work / "t.csv").read_bytes() == source


def _closed_pipe() -> int:
    """The write end of a pipe whose reader is already gone: the first write gets EPIPE, every time."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


@pytest.mark.parametrize(
    "args",
    [
        ("info", "p.aldesk"),
        ("--help",),
        ("simulate", "--help"),
        ("export", "p.aldesk", "--format", "csv", "--out", "/dev/stdout"),
    ],
)
def test_a_pipe_closed_early_ends_quietly(work: Path, args: tuple[str, ...]) -> None:
    out = _closed_pipe()
    try:
        r = subprocess.run(
            [sys.executable, "-m", "aldesk", *args],
            cwd=work,
            env=_env(work),
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        os.close(out)
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr, r.stderr
    assert r.returncode in (0, 141), (r.returncode, r.stderr)


def test_stdout_and_stderr_both_closed_early_ends_quietly(work: Path) -> None:
    """``aldesk info p 2>&1 | head -0``: the error path itself cannot write either, and must not loop or crash."""
    out = _closed_pipe()
    try:
        r = subprocess.run(
            [sys.executable, "-m", "aldesk", "info", "p.aldesk"],
            cwd=work,
            env=_env(work),
            stdout=out,
            stderr=out,
            timeout=300,
            check=False,
        )
    finally:
        os.close(out)
    assert r.returncode == 141
