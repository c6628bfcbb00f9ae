"""Rescan and add-source on bad input: each a one-line message (exit 2) that changes nothing it should not.

No embedding here: a rescan lists and hashes files, it never runs the model."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import aldesk
from aldesk.cli import main
from aldesk.core.project import Project
from tests.core import lock_holder

DEMO = Path(aldesk.__file__).parent / "resources" / "demo"
PNGS = sorted((DEMO / "images").glob("*/*.png"))
LINES = (DEMO / "texts.csv").read_text(encoding="utf-8").splitlines()


def state(path: Path) -> dict:
    """Everything a rescan may change, read from the file."""
    con = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        return {
            t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()  # noqa: S608 - our own table names
            for t in ("items", "labels", "classes", "actions", "skipped", "sources", "meta")
        }
    finally:
        con.close()


def one_line_error(capsys, argv: list[str], *words: str) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in err, err
    return err


@pytest.fixture
def images(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    data.mkdir()
    for src in PNGS[:6]:
        shutil.copyfile(src, data / src.name)
    proj = tmp_path / "p.aldesk"
    assert main(["init", str(data), "--project", str(proj), "--classes", "a,b"]) == 0
    assert main(["import-labels", str(proj), str(_labels(tmp_path, PNGS[0].name, "a"))]) == 0
    return data, proj


@pytest.fixture
def texts(tmp_path: Path) -> tuple[Path, Path]:
    csv = tmp_path / "t.csv"
    csv.write_text("\n".join(LINES[:15]) + "\n", encoding="utf-8")
    proj = tmp_path / "t.aldesk"
    assert main(["init", str(csv), "--project", str(proj)]) == 0
    return csv, proj


def _labels(folder: Path, item: str, cls: str) -> Path:
    out = folder / "labels-in.csv"
    out.write_text(f"item,label\n{item},{cls}\n", encoding="utf-8")
    return out


def test_csv_whose_columns_changed(texts, capsys) -> None:
    csv, proj = texts
    before = state(proj)
    rows = [line.replace("text,label", "review,label") for line in LINES[:20]]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    one_line_error(capsys, ["rescan", str(proj)], "columns", "nothing was changed")
    assert state(proj) == before


def test_csv_of_an_older_project_whose_columns_changed(texts, capsys) -> None:
    csv, proj = texts
    con = sqlite3.connect(proj)  # as a project made before the columns were recorded (file format 2)
    con.execute("DELETE FROM meta WHERE key = 'columns'")
    con.commit()
    con.close()
    before = state(proj)
    # The texts moved to another column; the detected text column is now the one of ids.
    rows = ["id,comment,label"] + [f"{n},long text number {n} of another file,x" for n in range(14)]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    one_line_error(capsys, ["rescan", str(proj)], "none of the 14 texts", "nothing was changed")
    assert state(proj) == before


def test_folder_that_is_gone(images, tmp_path, capsys) -> None:
    data, proj = images
    before = state(proj)
    data.rename(tmp_path / "elsewhere")
    one_line_error(capsys, ["rescan", str(proj)], "does not exist", "nothing was changed")
    assert state(proj) == before


def test_emptied_folder_marks_nothing_missing(images, capsys) -> None:
    data, proj = images
    before = state(proj)
    for f in data.iterdir():
        f.unlink()
    one_line_error(capsys, ["rescan", str(proj)], "nothing was changed")
    assert state(proj) == before


def test_a_file_that_is_now_unreadable_is_left_as_it_was(images, capsys) -> None:
    data, proj = images
    labeled = data / PNGS[0].name
    labeled.unlink()
    os.mkfifo(labeled)  # was an image; now a pipe that would block a reader
    (data / "zz-outside.png").symlink_to(PNGS[10])  # a new file that leads out of the folder
    capsys.readouterr()
    assert main(["rescan", str(proj), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["unreadable"] == [f"{PNGS[0].name}: not a regular file (a pipe or a device); not read"]
    assert out["missing"] == [] and out["added"] == 0
    assert [s.split(":")[0] for s in out["skipped"]] == ["zz-outside.png"]
    with Project.open(proj, readonly=True) as p:
        assert p.missing() == [] and p.labels() == {0: "a"}


def test_a_csv_that_is_now_unreadable(texts, capsys) -> None:
    csv, proj = texts
    before = state(proj)
    csv.unlink()
    os.mkfifo(csv)  # a pipe where the CSV was: refused from its stat, never opened (it would block)
    one_line_error(capsys, ["rescan", str(proj)], "nothing was changed")
    assert state(proj) == before


def test_duplicates_of_existing_items(images, texts, tmp_path, capsys) -> None:
    data, proj = images
    shutil.copyfile(data / PNGS[1].name, data / "copy.png")
    capsys.readouterr()
    assert main(["rescan", str(proj), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["added"] == 0 and out["copies"] == ["copy.png"]
    before = state(proj)
    one_line_error(capsys, ["add-source", str(proj), str(data)], "already a source")
    (data / "sub").mkdir()
    shutil.copyfile(PNGS[20], data / "sub" / "x.png")
    one_line_error(capsys, ["add-source", str(proj), str(data / "sub")], "hold one another")
    dupes = tmp_path / "dupes"
    dupes.mkdir()
    shutil.copyfile(PNGS[2], dupes / "same.png")
    one_line_error(capsys, ["add-source", str(proj), str(dupes)], "none of the items", "are new")
    assert state(proj) == before
    csv, tproj = texts
    again = tmp_path / "again.csv"
    again.write_text("\n".join(LINES[:10]) + "\n", encoding="utf-8")  # rows all in the project already
    before = state(tproj)
    one_line_error(capsys, ["add-source", str(tproj), str(again)], "none of the items")
    one_line_error(capsys, ["add-source", str(tproj), str(tmp_path / "data")], "not a file")
    assert state(tproj) == before


def test_another_aldesk_holding_the_project(images, tmp_path, capsys) -> None:
    data, proj = images
    shutil.copyfile(PNGS[30], data / "new.png")
    holder = lock_holder.start(proj)
    try:
        before = state(proj)
        one_line_error(capsys, ["rescan", str(proj)], "open")
        one_line_error(capsys, ["add-source", str(proj), str(tmp_path)], "open")
        assert state(proj) == before
    finally:
        lock_holder.command(holder, "close")
        holder.wait(30)
    capsys.readouterr()
    assert main(["rescan", str(proj), "--json"]) == 0  # once it is closed, the rescan goes through
    assert json.loads(capsys.readouterr().out)["added"] == 1


def test_info_writes_nothing_even_after_a_crashed_writer(images, tmp_path, capsys) -> None:
    data, proj = images
    holder = lock_holder.start(proj)
    assert lock_holder.command(holder, "label 1 b") == "OK"
    holder.kill()  # leaves its -wal (with the label) and -shm beside the project
    holder.wait(30)

    def tree() -> list[tuple[str, int, int]]:
        return sorted((str(p), p.lstat().st_mtime_ns, p.lstat().st_size) for p in tmp_path.rglob("*"))

    before = tree()
    capsys.readouterr()
    for _ in range(2):
        assert main(["info", str(proj), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["labeled"] == 2  # the -wal's label is read
    assert tree() == before  # no backup, no rotation, no lock note, and the -shm untouched too


def test_rescan_never_embeds_nor_imports_the_model(images) -> None:
    data, proj = images
    shutil.copyfile(PNGS[33], data / "new.png")
    code = (
        "import sys; from aldesk.cli import main; rc = main(['rescan', sys.argv[1]]); "
        "assert 'onnxruntime' not in sys.modules; sys.exit(rc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(proj)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "1 new item," in done.stdout
