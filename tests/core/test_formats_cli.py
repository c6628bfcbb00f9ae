"""``aldesk export`` and ``aldesk import-labels`` as a user runs them, in a second process with the real bundled
ONNX model: unusable items stay out of every export (issue 17.1: a text file named notes.png and a truncated PNG
came out "animals, 0.379"), the model formats and --json, and a pre-labeled init (17.2)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from aldesk.core.project import Project
from tests.app.conftest import cli, write_images

BAD = ("notes.png", "truncated.png")


@pytest.fixture(scope="module")
def labeled_images(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    home = tmp / "home"
    root = tmp / "imgs"
    write_images(root, per_class=4)
    (root / "notes.png").write_text("a text file, not an image\n")
    good = (root / "cat" / "cat0.png").read_bytes()
    (root / "truncated.png").write_bytes(good[: len(good) // 3])
    proj = tmp / "i.aldesk"
    r = cli("init", str(root), "--project", str(proj), "--classes", "cat,dog", home=home)
    assert r.returncode == 0, r.stderr
    labels = tmp / "in.csv"
    rows = ["cat/cat0.png,cat", "cat/cat1.png,cat", "dog/dog0.png,dog", "dog/dog1.png,dog", "notes.png,cat"]
    labels.write_text("item,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    r = cli("import-labels", str(proj), str(labels), home=home)
    assert r.returncode == 0, r.stderr
    with Project.open(proj) as p:
        keys = p.dataset().keys
    assert set(BAD) <= set(keys)  # both are items of the project: the export must leave them out itself
    return tmp, home, proj


def test_export_predicted_leaves_out_what_failed_to_load(labeled_images):
    tmp, home, proj = labeled_images
    out = tmp / "all.csv"
    r = cli("export", str(proj), "--format", "csv", "--predicted", "--out", str(out), home=home)
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    items = [row["item"] for row in rows]
    assert not set(BAD) & set(items), items
    assert len(items) == 8  # the 8 real images: 4 labeled, 4 predicted
    assert all(row["predicted"] in ("cat", "dog") for row in rows)
    assert "could not be loaded, not exported (2):" in r.stdout and "notes.png" in r.stdout
    assert r.returncode == 0, r.stderr


def test_model_formats_and_json_report(labeled_images):
    tmp, home, proj = labeled_images
    out = tmp / "cl"
    r = cli("export", str(proj), "--format", "cleanlab", "--json", "--out", str(out), home=home)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)  # ONE JSON object on stdout
    assert report["labeled"] == 4 and report["path"] == str(out)
    assert [u.split(":")[0] for u in report["unusable"]] == [
        "notes.png"
    ]  # the labeled one; cleanlab has no predicted rows
    probs = np.load(out / "pred_probs.npy", allow_pickle=False)
    assert probs.shape == (4, 2) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    import pyarrow.parquet as pq

    pq_out = tmp / "l.parquet"
    r = cli("export", str(proj), "--format", "parquet", "--vectors", "--out", str(pq_out), home=home)
    assert r.returncode == 0, r.stderr
    table = pq.read_table(pq_out)
    v = np.array(table.column("vector").to_pylist(), dtype=np.float32)
    assert table.num_rows == 4 and v.shape[0] == 4 and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    r = cli("export", str(proj), "--format", "csv", "--vectors", "--out", str(tmp / "x.csv"), home=home)
    assert (
        r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "--vectors is for the parquet" in r.stderr
    )


def test_init_with_labels_from_column_prelabels(tmp_path):
    home = tmp_path / "home"
    data = tmp_path / "reviews.csv"
    data.write_text(
        "id,text,guess\n" + "".join(f"r{i},review number {i},{'pos' if i % 2 else ''}\n" for i in range(8)),
        encoding="utf-8",
    )
    proj = tmp_path / "r.aldesk"
    r = cli("init", str(data), "--project", str(proj), "--labels-from-column", "guess", home=home)
    assert r.returncode == 0, r.stderr
    assert "pre-labeled 4 items from the column 'guess'" in r.stdout
    with Project.open(proj) as p:
        rows = p.label_rows()
        assert [(x.item, x.cls, x.origin) for x in rows] == [(i, "pos", "prelabel") for i in (1, 3, 5, 7)]
        assert p.classes == ["pos"]
    # and an id column keys a later import: the ids are the source CSV's, not the texts
    labels = tmp_path / "by-id.csv"
    labels.write_text("id,verdict\nr0,neg\nr2,neg\nr9,neg\n", encoding="utf-8")
    r = cli(
        "import-labels",
        str(proj),
        str(labels),
        "--id-column",
        "id",
        "--label-column",
        "verdict",
        "--json",
        home=home,
    )
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["labeled"] == 2 and rep["unmatched"] == ["r9"] and rep["new_classes"] == ["neg"]
    with Project.open(proj) as p:
        assert p.labels() == {0: "neg", 1: "pos", 2: "neg", 3: "pos", 5: "pos", 7: "pos"}
