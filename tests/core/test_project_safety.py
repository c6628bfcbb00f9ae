"""A project folder from someone else, and ordinary accidents: the lock, backups, schema, recover, stale temporary
files and read-only commands (issue 11, the project-file part). Real files, real symlinks, real second processes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from aldesk.cli import main
from aldesk.core.dataset import Dataset
from aldesk.core.labeling.actions import Action
from aldesk.core.project import Project, ProjectError, backup_dir, companion_paths, list_backups, recover
from aldesk.core.project.lock_note import lock_path
from tests.core import lock_holder

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


def make(path: Path, n: int = 20) -> Path:
    ds = Dataset("text", path.parent / "t.csv", [f"text {i}" for i in range(n)])
    Project.create(path, ds, ["x", "y"], model_id="m").close()
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make(tmp_path / "p.aldesk")


def label(p: Project, item: int, cls: str = "x") -> None:
    p.journal(Action("label", (item,), cls, (None,), "user", time.time(), p.next_seq()))


def second_process(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SECOND, str(path)], capture_output=True, text=True, timeout=120, check=False
    )


def tree(root: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple]:
    """Every entry under ``root`` with what a write would change (kind, size, mtime, link target)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if name.endswith(skip):
                continue
            st = os.lstat(p)
            target = os.readlink(p) if p.is_symlink() else None
            out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns, target)
    return out


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


# ------------------------------------------------------------------------------------------- 1: the lock note
def test_a_lock_note_shipped_as_a_symlink_is_never_written_through(project, tmp_path, capsys):
    victim = tmp_path / "bashrc"
    victim.write_text("export PATH=$HOME/bin:$PATH\n", encoding="utf-8")
    note = lock_path(project)
    note.symlink_to(victim)
    with Project.open(project) as p:
        label(p, 1)
        # The lock is on the database file, so it holds without the note: a second process is refused.
        r = second_process(project)
        assert r.returncode == 3 and "open in another aldesk" in r.stdout, r.stdout + r.stderr
    assert main(["info", str(project)]) == 0
    capsys.readouterr()
    assert victim.read_text(encoding="utf-8") == "export PATH=$HOME/bin:$PATH\n"
    assert note.is_symlink() and os.readlink(note) == str(victim)  # left exactly as shipped


@pytest.mark.parametrize("kind", ["folder", "fifo", "someone's file", "hard link"])
def test_a_lock_note_name_holding_something_else_is_left_alone(project, tmp_path, kind):
    note = lock_path(project)
    outside = tmp_path / "outside.txt"
    outside.write_text("mine", encoding="utf-8")
    if kind == "folder":
        note.mkdir()
    elif kind == "fifo":
        os.mkfifo(note)
    elif kind == "someone's file":
        note.write_text("my notes, not JSON", encoding="utf-8")
    else:
        os.link(outside, note)
    before = tree(tmp_path, skip=(".backups",))
    with Project.open(project) as p:
        label(p, 2)
        assert second_process(project).returncode == 3
    after = tree(tmp_path, skip=(".backups",))
    for name in (note.name, outside.name):
        assert after[name][:2] == before[name][:2], name
    assert outside.read_text(encoding="utf-8") == "mine"
    with Project.open(project) as p:
        assert p.labels() == {2: "x"}


def test_a_stale_note_of_aldesk_is_replaced_and_removed(project):
    note = lock_path(project)
    note.write_text(
        json.dumps({"host": "elsewhere", "pid": 1, "started": "2024-01-01T00:00:00"}), encoding="utf-8"
    )
    with Project.open(project):
        assert json.loads(note.read_text(encoding="utf-8"))["pid"] == os.getpid()
    assert not os.path.lexists(note)


# --------------------------------------------------------------------------- 9: the lock is on the file itself
def test_a_hard_link_to_an_open_project_does_not_let_a_second_writer_in(project, tmp_path):
    holder = lock_holder.start(project)
    try:
        other = tmp_path / "other.aldesk"
        os.link(project, other)
        r = second_process(other)
        assert r.returncode == 3 and "open in another aldesk" in r.stdout, r.stdout + r.stderr
        assert lock_holder.command(holder, "label 3 y") == "OK"
    finally:
        lock_holder.command(holder, "close")
        holder.wait(30)
    with Project.open(project) as p:
        assert p.labels() == {3: "y"}


def test_deleting_the_lock_note_while_open_does_not_let_a_second_writer_in(project):
    holder = lock_holder.start(project)
    try:
        lock_path(project).unlink()  # a sync client or a cleanup script
        r = second_process(project)
        assert r.returncode == 3 and "open in another aldesk" in r.stdout, r.stdout + r.stderr
        assert lock_holder.command(holder, "label 5 x") == "OK"
    finally:
        lock_holder.command(holder, "close")
        holder.wait(30)
    with Project.open(project) as p:
        assert p.labels() == {5: "x"}


def test_another_program_changing_an_open_project_is_named_as_such(project):
    p = Project.open(project)
    try:
        label(p, 1)
        con = sqlite3.connect(project)  # e.g. the sqlite3 shell, or a second writer that bypassed aldesk
        con.execute("INSERT INTO settings VALUES ('x', '1')")
        con.commit()
        con.close()
        with pytest.raises(ProjectError, match="Another program changed") as err:
            label(p, 2)
        assert "damaged" not in str(err.value) and "not saved" in str(err.value)
    finally:
        p.close()
    with Project.open(project) as p:
        assert p.labels() == {1: "x"} and p.get_setting("x") == 1


def test_a_project_replaced_under_an_open_one_is_named_as_such(project, tmp_path):
    p = Project.open(project)
    try:
        label(p, 1)
        copy = tmp_path / "copy.aldesk"
        copy.write_bytes(project.read_bytes())
        os.replace(copy, project)  # a sync client putting "its" version in place
        with pytest.raises(ProjectError, match="Another program moved, replaced or deleted") as err:
            label(p, 2)
        assert "damaged" not in str(err.value)
    finally:
        p.close()


# ----------------------------------------------------------------------------------------- 2: the backups
def test_a_backup_folder_shipped_as_a_symlink_is_never_used(project, tmp_path):
    other = tmp_path / "my other projects"
    other.mkdir()
    for name in (
        "a.aldesk",
        "b.aldesk",
        "c.aldesk",
        "p-20240101-000000-000000.aldesk",
        "p-20240102-000000-000000.aldesk",
        "p-20240103-000000-000000.aldesk",
    ):
        (other / name).write_text(name, encoding="utf-8")
    before = tree(other)
    d = backup_dir(project)
    if d.exists():
        for f in d.iterdir():
            f.unlink()
        d.rmdir()
    d.symlink_to(other, target_is_directory=True)
    for _ in range(4):
        with Project.open(project) as p:
            assert p.backup is None and "not a folder" in p.backup_problem
            label(p, 1)
    assert tree(other) == before
    assert list_backups(project) == []
    with pytest.raises(ProjectError, match="No usable backup"):
        recover(project, force=True)
    assert tree(other) == before


def test_rotation_deletes_only_aldesk_named_plain_backups(project, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("secret", encoding="utf-8")
    d = backup_dir(project)
    d.mkdir(exist_ok=True)
    strangers = {
        "notes.aldesk": "text",
        "p-old.aldesk": "text",
        "q-20000101-000000-000000.aldesk": "text",
        "p-20000101-000000-000000.aldesk.bak": "text",
    }
    for name, text in strangers.items():
        (d / name).write_text(text, encoding="utf-8")
    # Named like the oldest backups, so the first to rotate out, but a link and a folder.
    (d / "p-20000101-000000-000000.aldesk").symlink_to(outside)
    (d / "p-20000102-000000-000000.aldesk").mkdir()
    for _ in range(5):
        Project.open(project).close()
    backups = list_backups(project)
    assert len(backups) == 3 and all(not b.is_symlink() for b in backups)
    for name in strangers:
        assert (d / name).read_text(encoding="utf-8") == "text"
    assert (d / "p-20000101-000000-000000.aldesk").is_symlink() and outside.read_text(
        encoding="utf-8"
    ) == "secret"
    assert (d / "p-20000102-000000-000000.aldesk").is_dir()


def test_backups_are_made_while_a_long_session_runs(project):
    p = Project.open(project)
    try:
        first = p.backup
        p.backup_every_actions = 5
        v = np.random.default_rng(0).normal(size=(p.n_items, 8)).astype(np.float32)
        s = p.open_session(v / np.linalg.norm(v, axis=1, keepdims=True))
        for i in range(5):
            s.label(i, "y")
        made = p.wait_for_backup()
        assert made is not None and made != first and made in list_backups(project)
        with Project.open(made, readonly=True) as b:
            assert b.labels() == dict.fromkeys(range(5), "y")
        # By time too: every label once the interval is over.
        p.backup_every_actions, p.backup_every_seconds = 10**9, 0
        s.label(7, "x")
        later = p.wait_for_backup()
        assert later != made
        with Project.open(later, readonly=True) as b:
            assert b.labels()[7] == "x"
        # A backup that fails (its folder turned into a link meanwhile) never disturbs the labeling.
        d = backup_dir(project)
        d.rename(d.with_name("moved"))
        d.symlink_to(d.with_name("moved"), target_is_directory=True)
        s.label(8, "x")
        p.wait_for_backup()
        assert "not a folder" in p.backup_problem
        s.label(9, "x")
    finally:
        p.close()
    with Project.open(project, readonly=True) as p:
        assert p.labels()[9] == "x"


# ------------------------------------------------------------------------------------ 4: crafted files
def craft(project: Path, sql: str) -> None:
    con = sqlite3.connect(project)
    con.executescript(sql)
    con.close()


@pytest.mark.parametrize(
    "sql, what",
    [
        (
            "CREATE TRIGGER keep_one AFTER INSERT ON labels BEGIN DELETE FROM labels WHERE item <> NEW.item; END;",
            "trigger 'keep_one'",
        ),
        ("CREATE VIEW v AS SELECT * FROM labels;", "view 'v'"),
        ("CREATE INDEX ix ON labels(time);", "index 'ix'"),
        ("CREATE TABLE extra (x);", "table 'extra'"),
        ("ALTER TABLE labels ADD COLUMN note TEXT;", "table 'labels' is not defined as aldesk defines it"),
        ("DROP TABLE skipped;", "table 'skipped' is missing"),
    ],
)
def test_objects_aldesk_did_not_create_are_refused(project, capsys, sql, what):
    craft(project, sql)
    before = project.read_bytes()
    for readonly in (False, True):
        with pytest.raises(ProjectError, match="not made by aldesk") as err:
            Project.open(project, readonly=readonly)
        assert what in str(err.value)
    assert main(["info", str(project)]) == 2
    assert what in one_line_error(capsys)
    assert project.read_bytes() == before


def test_sqlite_statistics_are_not_a_foreign_object(project):
    craft(project, "ANALYZE;")
    with Project.open(project) as p:
        label(p, 1)
        assert p.labels() == {1: "x"}


def test_a_trigger_cannot_eat_labels(project):
    craft(
        project,
        "CREATE TRIGGER keep_one AFTER INSERT ON labels BEGIN DELETE FROM labels WHERE item <> NEW.item;"
        " END;",
    )
    with pytest.raises(ProjectError):
        Project.open(project)
    con = sqlite3.connect(project)
    assert con.execute("SELECT count(*) FROM labels").fetchone() == (0,)
    con.close()


@pytest.mark.parametrize(
    "data",
    [
        "[" * 200_000 + "]" * 200_000,  # nests deeper than any parser's stack
        '{"op": "label", "items": ['
        + "0," * 20_000_000
        + '0], "cls": "x"}',  # 20 M entries on a 20-item project
        '{"op": "label", "items": [999], "cls": "x"}',  # an item the project does not have
    ],
)
def test_crafted_actions_are_damage_not_a_traceback(project, capsys, data):
    con = sqlite3.connect(project)
    con.execute("INSERT INTO actions VALUES (0, 'label', 0, ?)", (data,))
    con.commit()
    con.close()
    with Project.open(project, readonly=True) as p, pytest.raises(ProjectError, match="damaged"):
        p.actions()
    with Project.open(project) as p, pytest.raises(ProjectError, match="damaged"):
        p.open_session(np.ones((p.n_items, 4), dtype=np.float32))


def test_a_deeply_nested_setting_is_damage(project):
    con = sqlite3.connect(project)
    con.execute("INSERT INTO settings VALUES ('a', ?)", ("[" * 200_000 + "]" * 200_000,))
    con.commit()
    con.close()
    with Project.open(project) as p, pytest.raises(ProjectError, match="damaged"):
        p.get_setting("a")


# ---------------------------------------------------------------------------------------------- 5: recover
def test_recover_refuses_a_healthy_project_and_says_what_it_would_drop(project, capsys):
    Project.open(project).close()  # a backup of the empty project
    with Project.open(project) as p:
        label(p, 1)
        label(p, 2, "y")
        p.journal(Action("skip", (3,), time=time.time(), seq=p.next_seq()))
    before = project.read_bytes()
    with pytest.raises(ProjectError, match="not damaged") as err:
        recover(project)
    msg = str(err.value)
    assert "3 actions made since then (2 label, 1 skip)" in msg and "--force" in msg
    assert project.read_bytes() == before
    assert main(["recover", str(project)]) == 2
    assert "not damaged" in one_line_error(capsys)
    with Project.open(project) as p:
        assert p.labels() == {1: "x", 2: "y"}


def test_recover_twice_in_one_second_keeps_every_replaced_file(project, capsys):
    Project.open(project).close()
    with Project.open(project) as p:
        label(p, 1)
    assert main(["recover", str(project), "--force"]) == 0
    out = capsys.readouterr().out
    assert "kept as" in out
    first = recover(project, force=True)
    asides = sorted(project.parent.glob("p.aldesk.replaced-*"))
    assert len(asides) == 2 and first.aside[0] in asides
    # The file replaced first still has the label; the second one is the restored backup.
    labels = []
    for a in asides:
        con = sqlite3.connect(f"{a.as_uri()}?mode=ro&immutable=1", uri=True)
        labels.append(con.execute("SELECT item FROM labels").fetchall())
        con.close()
    assert sorted(labels) == [[], [(1,)]]
    with Project.open(project) as p:
        assert p.labels() == {}


def test_recover_of_a_damaged_project_keeps_it_aside_and_restores(project):
    with Project.open(project) as p:
        label(p, 4)
    Project.open(project).close()  # a backup with the label
    project.write_bytes(project.read_bytes()[:1000])
    done = recover(project)
    assert done.aside and "damaged" in done.aside[0].name and done.aside[0].read_bytes()[:100]
    with Project.open(project) as p:
        assert p.labels() == {4: "x"}
    assert not list(project.parent.glob(".p.aldesk.recovering-*"))


# ------------------------------------------------------------------------- 11: stale temporary files
HOLD = """
import sys, time
from pathlib import Path
from aldesk.core.project.lock import WriterLock
locks = [WriterLock.create(Path(p), note=False) for p in sys.argv[1:]]
print("HELD", flush=True)
time.sleep(600)
"""


def test_temp_files_of_a_killed_aldesk_are_cleaned_once_their_maker_is_gone(project, tmp_path):
    d = backup_dir(project)
    d.mkdir(exist_ok=True)
    temps = [
        project.with_name(".p.aldesk.creating-123456"),
        project.with_name(".p.aldesk.recovering-123457"),
        d / "p-20240101-000000-000001.aldesk.tmp",
    ]
    maker = subprocess.Popen(
        [sys.executable, "-c", HOLD, *map(str, temps)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert maker.stdout.readline() == "HELD\n"
        for t in temps:
            t.write_bytes(b"x" * 1000)
            Path(f"{t}-journal").write_bytes(b"j")
        outside = tmp_path / "outside"
        outside.write_text("keep", encoding="utf-8")
        strangers = [
            project.with_name(".p.aldesk.creating-abc"),
            project.with_name(".q.aldesk.creating-5"),
            d / "notes.tmp",
        ]
        for s in strangers:
            s.write_text("keep", encoding="utf-8")
        link = project.with_name(".p.aldesk.creating-77")
        link.symlink_to(outside)
        folder = project.with_name(".p.aldesk.recovering-9")
        folder.mkdir()
        # While their maker lives they are in use: an open leaves them.
        Project.open(project).close()
        assert all(t.exists() and Path(f"{t}-journal").exists() for t in temps)
    finally:
        maker.send_signal(signal.SIGKILL)
        maker.wait(30)
    Project.open(project).close()
    for t in temps:
        assert not os.path.lexists(t) and not os.path.lexists(f"{t}-journal"), t
    for s in strangers:
        assert s.read_text(encoding="utf-8") == "keep"
    assert link.is_symlink() and outside.read_text(encoding="utf-8") == "keep" and folder.is_dir()


def test_create_cleans_the_temp_file_of_a_killed_create(tmp_path):
    path = tmp_path / "new.aldesk"
    stale = path.with_name(".new.aldesk.creating-424242")
    maker = subprocess.Popen([sys.executable, "-c", HOLD, str(stale)], stdout=subprocess.PIPE, text=True)
    assert maker.stdout.readline() == "HELD\n"
    maker.send_signal(signal.SIGKILL)
    maker.wait(30)
    assert stale.exists()
    make(path)
    assert not stale.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".new")] == []


# ----------------------------------------------------------------------------- 13: reading writes nothing
def test_info_and_export_write_nothing(project, tmp_path, capsys):
    with Project.open(project) as p:
        label(p, 1)
    before = tree(tmp_path)
    assert not Path(f"{project}-wal").exists()
    out = tmp_path.parent / f"{tmp_path.name}-export.csv"
    for _ in range(3):
        assert main(["info", str(project)]) == 0
    assert main(["export", str(project), "--format", "csv", "--out", str(out)]) == 0
    capsys.readouterr()
    assert tree(tmp_path) == before  # no backup, no rotation, no lock note, no -wal or -shm
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("text 1,x")
    out.unlink()


def test_reading_beside_a_writer_changes_only_sqlite_shared_memory(project, tmp_path, capsys):
    holder = lock_holder.start(project)
    try:
        assert lock_holder.command(holder, "label 2 y") == "OK"
        before = tree(tmp_path, skip=("-shm",))  # readers take their read marks in the -shm, by design of WAL
        assert main(["info", str(project)]) == 0
        assert "labeled:  1" in capsys.readouterr().out
        assert tree(tmp_path, skip=("-shm",)) == before
    finally:
        lock_holder.command(holder, "close")
        holder.wait(30)


def test_an_old_format_is_read_without_being_changed(tmp_path, capsys):
    from tests.core.test_project import write_v1

    path = tmp_path / "old.aldesk"
    write_v1(path)
    before = tree(tmp_path)
    assert main(["info", str(path)]) == 0
    assert "labeled:  3" in capsys.readouterr().out
    assert tree(tmp_path) == before


def test_companion_paths_name_everything_beside_the_project(project, tmp_path):
    link = tmp_path / "link.aldesk"
    link.symlink_to(project)
    names = {str(p) for p in companion_paths(link)}
    for p in (
        link,
        project,
        Path(f"{project}-wal"),
        Path(f"{project}-shm"),
        Path(f"{project}-journal"),
        lock_path(project),
        backup_dir(project),
    ):
        assert str(p) in names, p


def test_a_reader_in_the_writers_own_process_reads_beside_it(project):
    with Project.open(project) as p:
        label(p, 1)
        with Project.open(project, readonly=True) as ro:
            assert ro.open_elsewhere and ro.labels() == {1: "x"}
        label(p, 2)
        # The writer's lock and connection are intact: a second process is still refused, labels go on.
        assert second_process(project).returncode == 3
        label(p, 3)
    with Project.open(project) as p:
        assert p.labels() == {1: "x", 2: "x", 3: "x"}


@pytest.mark.parametrize("damaged", [False, True])
def test_a_restore_that_cannot_swap_puts_everything_back(project, damaged):
    Project.open(project).close()
    holder = lock_holder.start(project)
    assert lock_holder.command(holder, "label 6 y") == "OK"
    holder.kill()  # leaves its -wal (with the label) and -shm beside the project
    holder.wait(30)
    assert Path(f"{project}-wal").stat().st_size > 0
    if damaged:
        with open(project, "r+b") as f:
            f.truncate(3000)
    before = project.read_bytes()
    # A project file that is a mount point cannot be renamed over: the swap, the last step, fails.
    r = subprocess.run(
        ["mount", "--bind", str(project), str(project)], capture_output=True, text=True, check=False
    )
    if r.returncode != 0:
        pytest.skip(f"cannot bind-mount here ({r.stderr.strip()}); needs root")
    try:
        with pytest.raises(ProjectError, match="nothing was changed"):
            recover(project, force=not damaged)
        names = sorted(p.name for p in project.parent.iterdir())
        # No copy aside, no temporary file left; the -wal and -shm of a damaged file are back at their names.
        # (A healthy file's -wal was merged into it first, as any open would; the dead holder's note was replaced
        # and removed by recover's own lock.)
        if damaged:
            assert names == [".p.aldesk.backups", "p.aldesk", "p.aldesk-shm", "p.aldesk-wal"]
            assert project.read_bytes() == before
        else:
            assert names == [".p.aldesk.backups", "p.aldesk"]
    finally:
        subprocess.run(["umount", str(project)], capture_output=True, check=False)
    if not damaged:
        with Project.open(project) as p:
            assert p.labels() == {6: "y"}


def test_a_second_name_of_a_project_killed_while_open_waits_for_its_journal(project, tmp_path):
    other = tmp_path / "other.aldesk"
    os.link(project, other)
    holder = lock_holder.start(project)
    assert lock_holder.command(holder, "label 4 y") == "OK"
    holder.kill()  # the label is only in p.aldesk-wal, which the name other.aldesk does not see
    holder.wait(30)
    with pytest.raises(ProjectError, match="same file as .*p.aldesk.* not closed cleanly") as err:
        Project.open(other)
    assert "damaged" not in str(err.value)
    with Project.open(project) as p:  # merged at its own name ...
        assert p.labels() == {4: "y"}
    with Project.open(other) as p:  # ... then the other name sees it, and is the one recorded
        assert p.labels() == {4: "y"}
        label(p, 5)
    with Project.open(project) as p:
        assert p.labels() == {4: "y", 5: "x"}


def test_a_kill_between_link_and_unlink_leaves_no_second_name(project):
    # What a kill right after a finished file was linked in place leaves: its temporary name, a second link.
    Project.open(project).close()
    backup = list_backups(project)[0]
    stray_backup = backup.with_name(backup.name + ".tmp")
    os.link(backup, stray_backup)
    stray_project = project.with_name(".p.aldesk.creating-31337")
    os.link(project, stray_project)
    with Project.open(project) as p:
        label(p, 1)
    assert not os.path.lexists(stray_backup) and not os.path.lexists(stray_project)
    assert backup in list_backups(project) and os.stat(project).st_nlink == 1


def test_recover_through_a_symlink_restores_the_file_it_names(project, tmp_path):
    link = tmp_path / "link.aldesk"
    link.symlink_to(project)
    with Project.open(link) as p:  # its backups live beside the name it was opened under
        label(p, 2)
    Project.open(link).close()
    project.write_bytes(project.read_bytes()[:2000])
    done = recover(link)
    assert link.is_symlink() and os.readlink(link) == str(project)
    assert done.aside[0].parent == project.parent
    with Project.open(project) as p:
        assert p.labels() == {2: "x"}
    broken = tmp_path / "broken.aldesk"
    broken.symlink_to(tmp_path / "nowhere.aldesk")
    with pytest.raises(ProjectError):
        recover(broken)
    assert broken.is_symlink()
