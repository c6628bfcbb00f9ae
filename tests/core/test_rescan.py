"""Data that grows: rescan and add-source on real files, embedded with the real bundled encoders.

Each test counts the rows that go through the encoder (``runtime.pool`` is called once per model batch with its
outputs) to prove that only the new content is embedded after a rescan.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

import aldesk
from aldesk.app.workspace import open_workspace
from aldesk.cli import main
from aldesk.core.embed import runtime
from aldesk.core.project import Project
from aldesk.core.project.migrations import SCHEMA_V2, SCHEMA_VERSION
from aldesk.core.project.rescan import new_item_indices

DEMO = Path(aldesk.__file__).parent / "resources" / "demo"
PNGS = sorted((DEMO / "images").glob("*/*.png"))


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embeddings")  # shared: a vector embedded once is a cache hit later


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Rows the encoder computed, one entry per model batch."""
    rows: list[int] = []
    real = runtime.pool

    def counting(card, out, mask=None):
        rows.append(len(out))
        return real(card, out, mask)

    monkeypatch.setattr(runtime, "pool", counting)
    return rows


def _images(folder: Path, start: int, n: int) -> list[str]:
    folder.mkdir(exist_ok=True)
    names = []
    for src in PNGS[start : start + n]:
        shutil.copyfile(src, folder / src.name)
        names.append(src.name)
    return names


def _json(capsys, argv: list[str]) -> dict:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def _history(session) -> list[tuple]:
    return [(a.op, a.items, a.cls) for a in session.history]


def _labeled_image_project(tmp_path: Path, cache: Path, n: int = 8):
    data = tmp_path / "data"
    names = _images(data, 0, n)
    proj = tmp_path / "p.aldesk"
    assert main(["init", str(data), "--project", str(proj), "--classes", "a,b"]) == 0
    ws = open_workspace(proj, cache_dir=cache)
    ws.session.label(0, "a")
    ws.session.label(1, "b")
    ws.session.skip(2)
    history = _history(ws.session)
    ws.close()
    return data, names, proj, history


def test_new_files_join_only_they_are_embedded_labels_and_undo_kept(tmp_path, cache, encoded, capsys) -> None:
    data, names, proj, history = _labeled_image_project(tmp_path, cache)
    with Project.open(proj) as p:
        p.set_setting("strategy", "margin")
        log = [a.to_dict() for a in p.actions()]
    _images(data, 20, 3)
    out = _json(capsys, ["rescan", str(proj), "--json"])
    assert out["added"] == 3 and out["missing"] == [] and out["items"] == 11
    with Project.open(proj, readonly=True) as p:
        assert [a.to_dict() for a in p.actions()][
            :-1
        ] == log  # the audit trail, untouched, and one action more
        assert p.get_setting("strategy") == "margin" and p.classes == ["a", "b"]
    encoded.clear()
    ws = open_workspace(proj, cache_dir=cache)
    try:
        assert sum(encoded) == 3  # only the new files went through the model
        assert len(ws.dataset) == 11 and ws.dataset.keys[:8] == names
        assert ws.session.labels == {0: "a", 1: "b"}
        assert _history(ws.session) == history  # the undo stack survived the rescan
        assert bool(ws.session.eligible[8:].all())
        assert new_item_indices(ws.project) == [8, 9, 10]
        assert [a.op for a in ws.project.actions()][-1] == "rescan"
        ws.session.undo()  # the skip from before the rescan is undone, then the label of item 1
        ws.session.undo()
        assert ws.session.labels == {0: "a"}
    finally:
        ws.close()
    again = _json(capsys, ["rescan", str(proj), "--json"])
    assert again["added"] == 0  # nothing new the second time


def test_removed_labeled_file_is_missing_then_comes_back(tmp_path, cache, capsys) -> None:
    data, names, proj, _ = _labeled_image_project(tmp_path, cache)
    aside = tmp_path / "aside.png"
    (data / names[0]).rename(aside)
    out = _json(capsys, ["rescan", str(proj), "--json"])
    assert out["missing"] == [names[0]] and out["missing_now"] == 1
    info = _json(capsys, ["info", str(proj), "--json"])
    assert (info["items"], info["labeled"], info["missing"]) == (8, 2, 1)
    assert info["classes"] == ["a", "b"] and info["sources"][0]["root"] == str(data)
    csv = tmp_path / "labels.csv"
    assert main(["export", str(proj), "--format", "csv", "--out", str(csv)]) == 0
    assert "missing" in capsys.readouterr().out
    assert names[0] not in csv.read_text(encoding="utf-8") and names[1] in csv.read_text(encoding="utf-8")
    ws = open_workspace(proj, cache_dir=cache)
    try:
        assert ws.session.labels[0] == "a" and not ws.session.eligible[0]  # shown, kept, never a candidate
        assert not [p for p in ws.problems if p.key == names[0]]  # not a failure of its own
        assert float(abs(ws.session.X[0]).sum()) > 0  # its cached vector still teaches the k-NN
    finally:
        ws.close()
    aside.rename(data / names[0])
    out = _json(capsys, ["rescan", str(proj), "--json"])
    assert out["refound"] == [names[0]] and out["missing_now"] == 0
    with Project.open(proj, readonly=True) as p:
        assert p.labels() == {0: "a", 1: "b"} and p.missing() == []


def test_renamed_labeled_file_keeps_its_label(tmp_path, cache, capsys) -> None:
    data, names, proj, _ = _labeled_image_project(tmp_path, cache)
    (data / "sub").mkdir()
    (data / names[1]).rename(data / "sub" / "renamed.png")
    out = _json(capsys, ["rescan", str(proj), "--json"])
    assert out["renamed"] == [[names[1], "sub/renamed.png"]] and out["added"] == 0 and out["missing"] == []
    with Project.open(proj, readonly=True) as p:
        assert p.dataset().keys[1] == "sub/renamed.png" and p.labels()[1] == "b" and p.n_items == 8


def test_csv_rows_appended_join_and_only_they_are_embedded(tmp_path, cache, encoded, capsys) -> None:
    lines = (DEMO / "texts.csv").read_text(encoding="utf-8").splitlines()
    csv = tmp_path / "reviews.csv"
    csv.write_text("\n".join(lines[:21]) + "\n", encoding="utf-8")
    proj = tmp_path / "r.aldesk"
    assert main(["init", str(csv), "--project", str(proj)]) == 0
    ws = open_workspace(proj, cache_dir=cache)
    ws.session.label(3, "fresh")
    ws.close()
    with csv.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines[21:26]) + "\n")
    out = _json(capsys, ["rescan", str(proj), "--json"])
    assert out["added"] == 5 and out["items"] == 25
    encoded.clear()
    ws = open_workspace(proj, cache_dir=cache)
    try:
        assert sum(encoded) == 5
        assert ws.session.labels == {3: "fresh"}
        assert ws.dataset.known_labels[20:] == [line.rsplit(",", 1)[1] for line in lines[21:26]]
    finally:
        ws.close()


def test_add_source_keys_and_safety_per_source(tmp_path, cache, encoded, capsys) -> None:
    data, names, proj, _ = _labeled_image_project(tmp_path, cache)
    more = tmp_path / "more"
    added = _images(more, 30, 2)
    shutil.copyfile(data / names[3], more / "copy-of-3.png")  # the same content as an item: not added twice
    outside = tmp_path / "outside.png"
    shutil.copyfile(PNGS[40], outside)
    (more / "link.png").symlink_to(outside)  # leads out of the new source's folder: never read
    out = _json(capsys, ["add-source", str(proj), str(more), "--json"])
    assert out["added"] == 2 and out["source"] == "more" and out["copies"] == ["more//copy-of-3.png"]
    assert any(s.startswith("more//link.png") for s in out["skipped"])
    info = _json(capsys, ["info", str(proj), "--json"])
    assert [s["root"] for s in info["sources"]] == [str(data), str(more)] and info["items"] == 10
    encoded.clear()
    ws = open_workspace(proj, cache_dir=cache)
    try:
        assert sum(encoded) == 2
        assert ws.dataset.keys[8:] == [f"more//{n}" for n in added]
        assert ws.dataset.safe_path(8) == (more / added[0]).resolve()
    finally:
        ws.close()
    csv = tmp_path / "labels.csv"
    assert main(["export", str(proj), "--format", "csv", "--out", str(csv), "--predicted"]) == 0
    assert f"more//{added[0]}" in csv.read_text(encoding="utf-8")
    # A second rescan looks at both sources; a file new in the second one joins under its prefix.
    shutil.copyfile(PNGS[50], more / "late.png")
    assert _json(capsys, ["rescan", str(proj), "--json"])["added"] == 1


def test_migration_2_to_3_keeps_data_and_adds_missing_and_sources(tmp_path) -> None:
    path = tmp_path / "v2.aldesk"
    con = sqlite3.connect(path)
    con.executescript(SCHEMA_V2)
    meta = {"schema_version": "2", "kind": "text", "root": str(tmp_path / "t.csv"), "model_id": "m"}
    con.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
    con.executemany("INSERT INTO items (id, key) VALUES (?, ?)", [(i, f"text {i}") for i in range(5)])
    con.execute("INSERT INTO classes (name) VALUES ('x')")
    con.execute("INSERT INTO labels VALUES (1, 1, 0.0, 'user')")
    action = {"op": "label", "items": [1], "cls": "x", "seq": 0, "was": [None]}
    con.execute("INSERT INTO actions VALUES (0, 'label', 0.0, ?)", (json.dumps(action),))
    con.commit()
    con.close()
    p = Project.open(path)
    assert p.migrated_from == [2] and p.meta["schema_version"] == str(SCHEMA_VERSION) == "3"
    assert p.labels() == {1: "x"} and p.missing() == [] and [s.prefix for s in p.sources()] == [""]
    assert p.dataset().missing == frozenset() and [a.op for a in p.actions()] == ["label"]
    p.close()
    p = Project.open(path)
    assert p.migrated_from == []
    p.close()


def test_open_time_check_reads_a_csv_only_when_it_changed(tmp_path) -> None:
    from aldesk.app.workspace import detect_changes, open_project

    lines = (DEMO / "texts.csv").read_text(encoding="utf-8").splitlines()
    csv = tmp_path / "reviews.csv"
    csv.write_text("\n".join(lines[:11]) + "\n", encoding="utf-8")
    proj = tmp_path / "r.aldesk"
    assert main(["init", str(csv), "--project", str(proj)]) == 0
    loaded = open_project(proj)
    try:
        assert detect_changes(loaded) is None  # read once, nothing new: its size and time are recorded
        st = csv.stat()
        # Same size and time, other content: not read again (a stat, not seconds of parsing a big CSV) ...
        csv.write_text(
            "\n".join([lines[0], lines[20], *lines[2:11]])[: st.st_size - 1] + "\n", encoding="utf-8"
        )
        os.utime(csv, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert csv.stat().st_size == st.st_size and detect_changes(loaded) is None
        # ... while a CSV that grew is read, and its new row found.
        with csv.open("a", encoding="utf-8") as fh:
            fh.write(lines[30] + "\n")
        plan = detect_changes(loaded)
        assert plan is not None and lines[30].rsplit(",", 1)[0] in plan.new_keys
    finally:
        loaded.project.close()
