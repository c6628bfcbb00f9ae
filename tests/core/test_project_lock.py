"""One writer per project: a second aldesk process is refused with a message, reads still work, and neither a
close nor a kill -9 of the holder leaves the project locked."""

from __future__ import annotations

import csv
import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from aldesk.cli import main
from aldesk.core.dataset import Dataset
from aldesk.core.project import Project, ProjectError, ProjectLocked, list_backups, recover
from aldesk.core.project.lock_note import lock_path
from tests.core import lock_holder

# A second aldesk process, as plain as it gets: open the project for writing, print what the user would read.
SECOND = """
import sys
from aldesk.core.project import Project, ProjectError
try:
    Project.open(sys.argv[1]).close()
except ProjectError as exc:
    print(exc)
    sys.exit(3)
print("OPENED")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "p.aldesk"
    ds = Dataset("text", tmp_path / "t.csv", [f"text {i}" for i in range(10)])
    Project.create(path, ds, ["x", "y"], model_id="m").close()
    return path


@pytest.fixture
def holder(project: Path):
    proc = lock_holder.start(project)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def second_process(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SECOND, str(path)], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_second_process_is_refused_with_a_message_and_the_holder_goes_on(project, holder):
    backups = list_backups(project)
    r = second_process(project)
    assert r.returncode == 3, r.stdout + r.stderr
    message = r.stdout.strip()
    assert str(project) in message and "open in another aldesk window" in message
    assert f"process {holder.pid} on {socket.gethostname()}" in message
    assert "Traceback" not in r.stdout + r.stderr
    # In this process too (a third one), with the holder as data.
    with pytest.raises(ProjectLocked) as err:
        Project.open(project)
    assert err.value.holder.pid == holder.pid and isinstance(err.value, ProjectError)
    # The refused opens touched nothing: no backup made, and the holder labels on.
    assert list_backups(project) == backups
    assert lock_holder.command(holder, "label 3 y") == "OK"
    assert lock_holder.command(holder, "close") == "CLOSED"
    with Project.open(project) as p:
        assert p.labels() == {3: "y"}


def test_commands_that_write_are_refused_and_reads_go_on_while_locked(project, holder, tmp_path, capsys):
    assert lock_holder.command(holder, "label 1 x") == "OK"
    labels = tmp_path / "l.csv"
    labels.write_text("item,label\ntext 2,y\n", encoding="utf-8")
    assert main(["import-labels", str(project), str(labels)]) == 2
    err = capsys.readouterr().err
    assert (
        "open in another aldesk window" in err and f"process {holder.pid}" in err and "Traceback" not in err
    )
    assert main(["recover", str(project)]) == 2
    assert "open in another aldesk window" in capsys.readouterr().err
    # Reading commands read what the holder has committed.
    assert main(["export", str(project), "--format", "csv", "--out", str(tmp_path / "e.csv")]) == 0
    assert f"process {holder.pid}" in capsys.readouterr().err
    with open(tmp_path / "e.csv", newline="", encoding="utf-8") as f:
        assert [row[:2] for row in csv.reader(f)][1:] == [["text 1", "x"]]
    assert main(["info", str(project)]) == 0
    assert "labeled:  1" in capsys.readouterr().out
    ro = Project.open(project, readonly=True)
    try:
        assert ro.open_elsewhere
        assert lock_holder.command(holder, "label 4 y") == "OK"
        assert ro.labels() == {1: "x"}  # a reader reads one snapshot: what was committed when it opened
        with Project.open(project, readonly=True) as again:
            assert again.labels() == {1: "x", 4: "y"}  # ... and a new read sees each commit of the writer
        with pytest.raises(ProjectError, match="read-only"):
            ro.set_setting("k", 3)
    finally:
        ro.close()
    assert lock_holder.command(holder, "close") == "CLOSED"
    assert main(["import-labels", str(project), str(labels)]) == 0
    with Project.open(project) as p:
        assert p.labels() == {1: "x", 2: "y", 4: "y"}


def test_after_the_holder_closes_the_project_opens(project, holder):
    assert lock_holder.command(holder, "label 0 x") == "OK"
    assert lock_holder.command(holder, "close") == "CLOSED"
    assert not lock_path(project).exists()  # a clean close leaves no lock file behind
    r = second_process(project)
    assert (r.returncode, r.stdout.strip()) == (0, "OPENED"), r.stdout + r.stderr


def test_after_the_holder_is_killed_the_project_opens(project, holder):
    assert lock_holder.command(holder, "label 0 x") == "OK"
    holder.kill()  # SIGKILL: no close, no cleanup, no atexit
    holder.wait(30)
    if hasattr(signal, "SIGKILL"):
        assert holder.returncode == -signal.SIGKILL
    # Its lock file is left behind, naming a dead process; it blocks nobody.
    assert json.loads(lock_path(project).read_text(encoding="utf-8"))["pid"] == holder.pid
    r = second_process(project)
    assert (r.returncode, r.stdout.strip()) == (0, "OPENED"), r.stdout + r.stderr
    with Project.open(project) as p:
        assert p.labels() == {0: "x"}
        p.set_setting("after", 1)
        assert json.loads(lock_path(project).read_text(encoding="utf-8"))["pid"] != holder.pid
    assert not lock_path(project).exists()


def test_same_process_close_then_reopen(project):
    p = Project.open(project)
    with pytest.raises(ProjectLocked, match="already open in this aldesk"):
        Project.open(project)
    p.close()
    p.close()  # twice is harmless
    with Project.open(project) as p:
        p.set_setting("a", 1)
    with Project.open(project) as p:
        assert p.get_setting("a") == 1
    assert not lock_path(project).exists()
    # A project dropped without close() frees its lock with the object.
    Project.open(project).set_setting("b", 2)
    with Project.open(project) as p:
        assert p.get_setting("b") == 2


def test_read_only_open_takes_no_lock(project):
    with Project.open(project, readonly=True) as ro:
        assert not lock_path(project).exists() and not ro.open_elsewhere
        with Project.open(project) as p:  # a writer may come while it reads
            p.set_setting("a", 1)
        assert ro.get_setting("a") is None  # the snapshot it read
        with pytest.raises(ProjectError, match="read-only"):
            ro.journal_many([])
    with Project.open(project, readonly=True) as ro:
        assert ro.get_setting("a") == 1


def test_create_and_recover_take_the_lock(project, tmp_path):
    with Project.open(project), pytest.raises(ProjectLocked):
        recover(project)
    other = tmp_path / "new.aldesk"
    first = Project.create(other, Dataset("text", tmp_path / "t.csv", ["a", "b"]), ["x"], model_id="m")
    with pytest.raises(ProjectLocked):
        Project.open(other)
    first.close()
    Project.open(other).close()
