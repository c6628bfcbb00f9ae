"""Exports, imports and the headless project commands, as a user runs them."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from aldesk.cli import main
from aldesk.core.dataset import Dataset
from aldesk.core.exchange.export import (
    FORMULA_START,
    export_project,
    export_rows,
    safe_cell,
    session_predictions,
)
from aldesk.core.exchange.imports import import_labels
from aldesk.core.progress import UserError
from aldesk.core.project import Project

HOSTILE_TEXTS = [
    '=HYPERLINK("http://x")',
    "+1 555",
    "-minus",
    "@SUM(A1)",
    "\ttabbed",
    "\rcarriage",
    "plain, with comma",
    'a "quoted" one',
    "multi\nline",
    "ünïcödé ✓",
    "'already quoted",
    "  spaced  ",
]


def vectors(n: int, d: int = 8) -> np.ndarray:
    v = np.random.default_rng(0).normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def text_project(tmp_path: Path, name: str = "t.aldesk", classes=("-1", "=odd")) -> Project:
    ds = Dataset("text", tmp_path / "t.csv", [*HOSTILE_TEXTS, *(f"text {i}" for i in range(8))])
    return Project.create(tmp_path / name, ds, list(classes), model_id="m")


def image_project(tmp_path: Path) -> Project:
    root = tmp_path / "imgs"
    keys = ["cat/a.png", "dog/a.png", "b.png", "-x.png", "gone.png"]
    for k in keys[:-1]:
        (root / k).parent.mkdir(parents=True, exist_ok=True)
        (root / k).write_bytes(k.encode())
    p = Project.create(tmp_path / "i.aldesk", Dataset("image", root, keys), ["cat", "dog/pup"], model_id="m")
    s = p.open_session(vectors(len(keys)))
    s.label_many([0, 1], "cat")  # same file name twice in one class folder
    s.label(2, "dog/pup")  # a class name that is not a folder name
    s.label(3, "cat")
    s.label(4, "cat")  # its file is missing
    return p


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f))


def test_safe_cell():
    assert [safe_cell(s) for s in ("=1", "+1", "-1", "@a", "\tx", "\rx", "ok", "'x", None, 0.5)] == [
        "'=1",
        "'+1",
        "'-1",
        "'@a",
        "'\tx",
        "'\rx",
        "ok",
        "'x",
        "",
        "0.5",
    ]


def test_csv_round_trip_with_hostile_cells(tmp_path):
    p = text_project(tmp_path)
    s = p.open_session(vectors(p.n_items))
    for i in range(len(HOSTILE_TEXTS)):
        s.label(i, "-1" if i % 2 else "=odd")
    out = tmp_path / "labels.csv"
    export_project(p, "csv", out)
    rows = read_csv(out)
    assert rows[0] == ["item", "label", "predicted", "confidence"]
    assert len(rows) == 1 + len(HOSTILE_TEXTS)
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_START), cell

    q = text_project(tmp_path, "new.aldesk", classes=())
    report = import_labels(q, out)
    assert report.unmatched == [] and report.labeled == len(HOSTILE_TEXTS)
    assert q.labels() == p.labels()
    assert sorted(q.classes) == sorted(p.classes) and sorted(report.new_classes) == ["-1", "=odd"]
    assert {r.origin for r in q.label_rows()} == {"imported"}


def test_import_reports_and_is_undoable(tmp_path):
    p = text_project(tmp_path, classes=("a", "b"))
    s = p.open_session(vectors(p.n_items))
    s.label(12, "a")
    s.label(13, "b")
    src = tmp_path / "in.csv"
    src.write_text(
        'item;label\ntext 0;a\ntext 1;a\ntext 2;c\nnot there;a\ntext 3;\n"text 4";a\ntext 4;b\ntext 5;b\n',
        encoding="utf-8",
    )
    report = import_labels(p, src)  # items 12.. are "text 0".. (the hostile texts come first)
    assert report.unmatched == ["not there"] and report.empty == 1
    assert report.unchanged == 1 and report.conflicts == ["text 1"]
    assert report.new_classes == ["c"] and report.actions == 2 and report.labeled == 3
    assert p.labels() == {12: "a", 13: "b", 14: "c", 16: "b", 17: "b"}
    assert import_labels(p, src, overwrite=True).labeled == 1
    assert p.labels()[13] == "a"

    # one undo in the app reverts a whole import, however many classes it had; the file agrees on reopen
    s = p.open_session(vectors(p.n_items))
    s.undo()
    assert p.labels()[13] == "b"
    s.undo()
    assert p.labels() == {12: "a", 13: "b"} == s.labels
    again = p.open_session(vectors(p.n_items))
    assert again.labels == s.labels and [a.seq for a in again.history] == [a.seq for a in s.history]


def test_import_errors_are_user_errors(tmp_path):
    p = text_project(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("text,class\nx,y\n")
    with pytest.raises(UserError, match="columns 'item' and 'label'"):
        import_labels(p, bad)
    bad.write_bytes(b"item,label\n\xff\xfe\xfa,x\n")
    with pytest.raises(UserError, match="UTF-8"):
        import_labels(p, bad)
    with pytest.raises(UserError, match="does not exist"):
        import_labels(p, tmp_path / "nope.csv")


def test_predicted_rows_need_the_confidence(tmp_path):
    p = text_project(tmp_path, classes=("a", "b"))
    s = p.open_session(vectors(p.n_items))
    s.label(0, "a")
    s.label(1, "b")
    predicted, conf = session_predictions(s)
    assert len(predicted) == p.n_items and all(c in ("a", "b") for c in predicted)
    labels = {r.item: (r.cls, r.origin) for r in p.label_rows()}
    rows = export_rows(p.dataset(), labels, predicted, conf, include_predicted=True, min_confidence=0.0)
    assert len(rows) == p.n_items and sum(r.label is None for r in rows) == p.n_items - 2
    manual_pred = ["a"] * p.n_items
    manual_conf = np.linspace(0, 1, p.n_items)
    rows = export_rows(
        p.dataset(), labels, manual_pred, manual_conf, include_predicted=True, min_confidence=0.5
    )
    assert all(r.confidence >= 0.5 for r in rows if r.label is None)
    assert {0, 1} <= {r.index for r in rows}
    out = tmp_path / "p.jsonl"
    export_project(
        p,
        "jsonl",
        out,
        predicted=manual_pred,
        confidence=manual_conf,
        include_predicted=True,
        min_confidence=0.5,
    )
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {
        "item": HOSTILE_TEXTS[0],
        "label": "a",
        "predicted": "a",
        "confidence": 0.0,
        "origin": "user",
    }
    assert {x["origin"] for x in lines[2:]} == {"predicted"}


@pytest.mark.parametrize("mode", ["copy", "hardlink", "symlink"])
def test_imagefolder(tmp_path, mode):
    p = image_project(tmp_path)
    out = tmp_path / "out"
    report = export_project(p, "imagefolder", out, mode=mode)
    files = sorted(f.relative_to(out).as_posix() for f in out.rglob("*") if not f.is_dir())
    assert files == [".aldesk-export", "cat/-x.png", "cat/a.png", "cat/dog__a.png", "dog_pup/b.png"]
    assert (out / "cat/dog__a.png").read_bytes() == b"dog/a.png"
    assert report.missing == ["gone.png"]
    assert any("dog_pup" in n for n in report.notes)
    if mode == "symlink":
        assert (out / "cat/a.png").is_symlink()
    # a second export replaces the first (it carries aldesk's marker); a user's own folder is refused, untouched
    (out / "cat/a.png").unlink()
    export_project(p, "imagefolder", out, mode=mode)
    assert (out / "cat/a.png").read_bytes() == b"cat/a.png"
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="neither empty nor an earlier aldesk export"):
        export_project(p, "imagefolder", mine)
    assert [f.name for f in mine.iterdir()] == ["keep.txt"]


def test_hf_imagefolder(tmp_path):
    p = image_project(tmp_path)
    out = tmp_path / "hf"
    export_project(p, "hf-imagefolder", out)
    rows = read_csv(out / "train" / "metadata.csv")
    assert rows[0][:2] == ["file_name", "label"]
    for name, label, *_ in rows[1:]:
        assert (out / "train" / name).is_file()
        assert label in ("cat", "dog/pup")
    assert len(rows) == 5


def test_labelstudio(tmp_path):
    p = image_project(tmp_path)
    out = tmp_path / "ls.json"
    export_project(p, "labelstudio", out, predicted=["cat"] * 5, confidence=[0.9] * 5, include_predicted=True)
    tasks = json.loads(out.read_text(encoding="utf-8"))
    # gone.png's file is missing: an unusable item is in no export (issue 17.1), so 4 of the 5 labeled items
    assert len(tasks) == 4
    t = tasks[0]
    assert t["data"]["image"].startswith("/data/local-files/?d=") and t["data"]["item"] == "cat/a.png"
    assert t["annotations"][0]["result"][0] == {
        "from_name": "label",
        "to_name": "image",
        "type": "choices",
        "value": {"choices": ["cat"]},
    }
    config = (tmp_path / "ls.label_config.xml").read_text(encoding="utf-8")
    assert '<Choice value="dog/pup"/>' in config and 'toName="image"' in config

    q = text_project(tmp_path)
    export_project(
        q,
        "labelstudio",
        tmp_path / "t.json",
        predicted=["-1"] * q.n_items,
        confidence=np.full(q.n_items, 0.7),
        include_predicted=True,
    )
    tasks = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert tasks[0]["data"]["text"] == HOSTILE_TEXTS[0] and tasks[0]["predictions"][0]["score"] == 0.7
    with pytest.raises(UserError, match="for images"):
        export_project(q, "imagefolder", tmp_path / "x")


# ------------------------------------------------------------------------------------------- CLI
def test_cli_init_import_info_export_relink(tmp_path, capsys):
    data = tmp_path / "reviews.csv"
    data.write_text(
        "text,sentiment\n" + "".join(f"review number {i},{'pos' if i % 2 else 'neg'}\n" for i in range(10)),
        encoding="utf-8",
    )
    assert main(["init", str(data), "--label-column", "sentiment"]) == 0
    proj = tmp_path / "reviews.aldesk"
    assert Project.open(proj).classes == ["neg", "pos"]
    labels = tmp_path / "l.csv"
    labels.write_text("item,label\nreview number 1,pos\nreview number 2,meh\nnope,pos\n", encoding="utf-8")
    assert main(["import-labels", str(proj), str(labels)]) == 0
    out = capsys.readouterr().out
    assert "2 items labeled" in out and "new classes: meh" in out and "not in the project (1)" in out
    assert main(["info", str(proj)]) == 0
    out = capsys.readouterr().out
    assert "10 items" in out and "meh  1" in out
    assert main(["export", str(proj), "--format", "csv", "--out", str(tmp_path / "e.csv")]) == 0
    assert [r[:2] for r in read_csv(tmp_path / "e.csv")[1:]] == [
        ["review number 1", "pos"],
        ["review number 2", "meh"],
    ]
    moved = tmp_path / "moved.csv"
    os.replace(data, moved)
    assert main(["relink", str(proj), str(moved)]) == 0
    assert Project.open(proj).root == moved
    assert main(["init", str(moved), "--project", str(proj)]) == 2  # refuses to overwrite
    assert "exists already" in capsys.readouterr().err


def test_cli_recover(tmp_path, capsys):
    p = text_project(tmp_path)
    p.open_session(vectors(p.n_items)).label(0, "-1")
    p.close()
    proj = tmp_path / "t.aldesk"
    with Project.open(proj) as q:  # an open for writing makes a backup (a read-only `info` does not)
        q.wait_for_backup()
    proj.write_bytes(b"garbage" * 100)
    assert main(["info", str(proj)]) == 2
    err = capsys.readouterr().err
    assert "is damaged" in err and "aldesk recover" in err and "Traceback" not in err
    assert main(["recover", str(proj)]) == 0
    assert Project.open(proj).labels() == {0: "-1"}
