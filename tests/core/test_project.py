"""The project file: round trips, undo after reopening, migrations, damaged and hostile files."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aldesk.core.dataset import Dataset
from aldesk.core.labeling.actions import Action
from aldesk.core.project import Project, ProjectError, list_backups, recover
from aldesk.core.project.migrations import SCHEMA_V1, SCHEMA_VERSION


def text_dataset(n: int = 20) -> Dataset:
    return Dataset(
        "text",
        Path("/data/texts.csv"),
        [f"text {i}" for i in range(n)],
        [("pos" if i % 2 else "neg") for i in range(n)],
    )


def vectors(n: int = 20, d: int = 8) -> np.ndarray:
    v = np.random.default_rng(0).normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def make(tmp_path: Path, n: int = 20, classes=("neg", "pos")) -> Project:
    return Project.create(tmp_path / "p.aldesk", text_dataset(n), list(classes), model_id="test-model")


def test_create_and_reopen_keeps_items_classes_labels(tmp_path):
    p = make(tmp_path)
    s = p.open_session(vectors())
    s.label(3, "pos")
    s.label_many([4, 5], "neg")
    s.skip(7)
    s.add_class("meh")
    s.rename_class("neg", "negative")
    p.close()

    p = Project.open(tmp_path / "p.aldesk")
    assert p.classes == ["negative", "pos", "meh"]
    assert p.labels() == {3: "pos", 4: "negative", 5: "negative"}
    assert p.skipped() == {7}
    assert [a.op for a in p.actions()] == ["label", "label", "skip", "add_class", "rename_class"]
    ds = p.dataset()
    assert ds.kind == "text" and ds.keys[0] == "text 0" and ds.known_labels[1] == "pos"
    assert p.model_id == "test-model"
    assert {r.item: r.origin for r in p.label_rows()} == {3: "user", 4: "batch", 5: "batch"}


def test_undo_after_reopening_restores_exactly(tmp_path):
    p = make(tmp_path)
    s = p.open_session(vectors())
    s.label(1, "pos")
    s.label(1, "neg")  # relabel: undo must bring back "pos", with its origin
    s.label(2, "pos")
    p.close()

    p = Project.open(tmp_path / "p.aldesk")
    s = p.open_session(vectors())
    assert s.labels == {1: "neg", 2: "pos"}
    s.undo()
    s.undo()
    assert p.labels() == {1: "pos"} == s.labels
    s.undo()
    assert p.labels() == {} == s.labels
    assert s.undo() is None
    p.close()
    p = Project.open(tmp_path / "p.aldesk")
    assert p.labels() == {}
    assert len(p.actions()) == 6


def test_undo_of_a_label_survives_a_class_rename(tmp_path):
    p = make(tmp_path)
    s = p.open_session(vectors())
    s.label(1, "pos")
    s.label(1, "neg")
    p.journal(Action("rename_class", cls="positive", prev=("pos",), seq=p.next_seq()))
    p.journal(Action("undo", (1,), "neg", ("pos",), target=1, seq=p.next_seq()))
    assert p.labels() == {1: "positive"}


def test_a_failing_journal_changes_nothing(tmp_path):
    p = make(tmp_path)
    with pytest.raises(KeyError):
        p.journal(Action("label", (1,), "nope", (None,), seq=0))
    with pytest.raises(ValueError):
        p.journal(Action("label", (99,), "pos", (None,), seq=0))
    s = p.open_session(vectors())
    s.label(1, "pos")
    with pytest.raises(ProjectError):  # the same seq twice: the log refuses, the labels stay
        p.journal(Action("label", (2,), "pos", (None,), seq=0))
    assert p.labels() == {1: "pos"}
    assert len(p.actions()) == 1


def test_settings_hashes_and_relink(tmp_path):
    root = tmp_path / "imgs"
    (root / "sub").mkdir(parents=True)
    for k in ("a.png", "sub/b.png"):
        (root / k).write_bytes(b"x")
    ds = Dataset("image", root, ["a.png", "sub/b.png"])
    p = Project.create(tmp_path / "i.aldesk", ds, ["x"], model_id="m", settings={"k": 10})
    assert p.get_setting("k") == 10
    p.set_setting("strategy", {"name": "uid", "k": [1, 2]})
    assert p.get_setting("strategy") == {"name": "uid", "k": [1, 2]}
    assert p.get_setting("missing", "d") == "d"
    p.set_hashes(["h1", "h2"])
    with pytest.raises(ValueError):
        p.set_hashes(["h1"])
    moved = tmp_path / "moved"
    shutil.move(root, moved)
    (moved / "sub/b.png").unlink()
    report = p.relink(moved)
    assert report.found == 1 and report.missing == ["sub/b.png"]
    with pytest.raises(ProjectError, match="None of the 2 images"):
        p.relink(tmp_path)
    p.close()
    p = Project.open(tmp_path / "i.aldesk")
    assert p.root == moved and p.hashes() == ["h1", "h2"] and p.get_setting("k") == 10


def test_create_refuses_to_overwrite_and_bad_classes(tmp_path):
    make(tmp_path).close()
    with pytest.raises(ProjectError, match="exists already"):
        make(tmp_path)
    with pytest.raises(ProjectError, match="twice"):
        Project.create(tmp_path / "q.aldesk", text_dataset(), ["a", "a"], model_id="m")
    assert not (tmp_path / "q.aldesk").exists()


def test_open_errors_are_clear(tmp_path):
    with pytest.raises(ProjectError, match="does not exist"):
        Project.open(tmp_path / "none.aldesk")
    with pytest.raises(ProjectError, match="folder"):
        Project.open(tmp_path)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(ProjectError, match="not an aldesk project"):
        Project.open(other)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ProjectError, match="not an aldesk project"):
        Project.open(tmp_path / "notes.txt")


def test_newer_file_is_refused_and_left_unchanged(tmp_path):
    make(tmp_path).close()
    path = tmp_path / "p.aldesk"
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(ProjectError, match="newer aldesk"):
        Project.open(path)
    assert path.read_bytes() == before


def write_v1(path: Path) -> None:
    """A version-1 file as the first release wrote it."""
    con = sqlite3.connect(path)
    con.executescript(SCHEMA_V1)
    meta = {
        "schema_version": "1",
        "created": "2024-01-01T00:00:00",
        "aldesk_version": "0.0.1",
        "kind": "text",
        "root": "/data/t.csv",
        "model_id": "old-model",
        "card_path": "",
    }
    con.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
    con.executemany("INSERT INTO items (id, key) VALUES (?, ?)", [(i, f"t{i}") for i in range(5)])
    con.executemany("INSERT INTO classes (name) VALUES (?)", [("a",), ("b",)])
    acts = [
        Action("label", (0,), "a", (None,), "user", 1.0, 0),
        Action("label", (1, 2), "b", (None, None), "batch", 2.0, 1),
        Action("skip", (4,), seq=2, time=3.0),
    ]
    for a in acts:
        con.execute("INSERT INTO actions VALUES (?, ?, ?, ?)", (a.seq, a.op, a.time, json.dumps(a.to_dict())))
    con.executemany("INSERT INTO labels VALUES (?, ?, ?)", [(0, 1, 1.0), (1, 2, 2.0), (2, 2, 2.0)])
    con.execute("INSERT INTO skipped VALUES (4)")
    con.commit()
    con.close()


def test_migration_1_to_2_keeps_data_and_adds_origin_and_settings(tmp_path):
    path = tmp_path / "old.aldesk"
    write_v1(path)
    p = Project.open(path)
    assert p.migrated_from == [1, 2]  # v1 -> v2 -> v3
    assert p.meta["schema_version"] == str(SCHEMA_VERSION)
    assert p.labels() == {0: "a", 1: "b", 2: "b"}
    assert {r.item: r.origin for r in p.label_rows()} == {0: "user", 1: "batch", 2: "batch"}
    assert p.skipped() == {4}
    assert [a.seq for a in p.actions()] == [0, 1, 2]
    p.set_setting("x", 1)
    assert p.get_setting("x") == 1
    # the pre-migration state is the backup made on open
    con = sqlite3.connect(p.backup)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("1",)
    con.close()
    p.close()
    p = Project.open(path)
    assert p.migrated_from == []


def test_damaged_file_names_the_backup_and_recover_restores_it(tmp_path):
    p = make(tmp_path)
    p.open_session(vectors()).label(1, "pos")
    p.close()
    path = tmp_path / "p.aldesk"
    Project.open(path).close()  # makes a backup
    assert len(list_backups(path)) == 1
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ProjectError, match="is damaged") as err:
        Project.open(path)
    assert "A backup from" in str(err.value) and err.value.backup is not None
    assert "aldesk recover" in str(err.value)
    recover(path)
    p = Project.open(path)
    assert p.labels() == {1: "pos"}
    assert list(tmp_path.glob("p.aldesk.damaged-*"))


def test_damaged_without_backup(tmp_path):
    path = tmp_path / "p.aldesk"
    path.write_bytes(b"")
    with pytest.raises(ProjectError, match="damaged .*empty.* No backup"):
        Project.open(path)
    with pytest.raises(ProjectError, match="No usable backup"):
        recover(path)


def test_backups_roll(tmp_path):
    make(tmp_path).close()
    for _ in range(5):
        Project.open(tmp_path / "p.aldesk").close()
    assert len(list_backups(tmp_path / "p.aldesk")) == 3


# ------------------------------------------------------------------------------ hostile input (fuzz)
@lru_cache(maxsize=1)
def valid_bytes() -> bytes:
    d = Path(tempfile.mkdtemp())
    p = Project.create(d / "v.aldesk", text_dataset(30), ["neg", "pos"], model_id="m")
    s = p.open_session(vectors(30))
    for i in range(12):
        s.label(i, "pos" if i % 3 else "neg")
    s.skip(20)
    s.undo()
    s.add_class("x")
    p.set_setting("a", [1, 2])
    p.close()
    data = (d / "v.aldesk").read_bytes()
    shutil.rmtree(d)
    return data


def open_everything(path: Path) -> None:
    """Open and read all a user's session would read: ProjectError is the only acceptable failure."""
    try:
        p = Project.open(path)
    except ProjectError as exc:
        assert str(exc)
        return
    try:
        p.dataset()
        assert isinstance(p.classes, list)
        p.label_rows()
        p.skipped()
        p.actions()
        p.counts()
        p.get_setting("a")
    except ProjectError:
        pass
    finally:
        p.close()


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.binary(max_size=6000))
def test_fuzz_random_bytes(tmp_path, data):
    path = tmp_path / "r.aldesk"
    path.write_bytes(data)
    open_everything(path)


@FUZZ
@given(st.floats(0, 1))
def test_fuzz_truncated(tmp_path, frac):
    data = valid_bytes()
    path = tmp_path / "t.aldesk"
    path.write_bytes(data[: int(len(data) * frac)])
    open_everything(path)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=20))
def test_fuzz_garbled(tmp_path, edits):
    data = bytearray(valid_bytes())
    for pos, byte in edits:
        data[pos % len(data)] = byte
    path = tmp_path / "g.aldesk"
    for f in tmp_path.glob("g.aldesk*"):
        f.unlink()
    shutil.rmtree(tmp_path / ".g.aldesk.backups", ignore_errors=True)
    path.write_bytes(bytes(data))
    open_everything(path)
