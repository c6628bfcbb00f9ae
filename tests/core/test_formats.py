"""Every export format read back by the client its users read it with (issue 17.1): Python's csv, pandas, pyarrow,
numpy, Hugging Face ``datasets``; Label Studio and FiftyOne by their documented schemas. Real PNGs, a real
project, a session over synthetic embeddings (the ONNX path is in test_formats_cli.py)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from aldesk.core.dataset import Dataset
from aldesk.core.exchange.export import export_project
from aldesk.core.exchange.formats import FORMATS
from aldesk.core.exchange.model_outputs import from_session
from aldesk.core.progress import UserError
from aldesk.core.project import Project
from tests.app.conftest import write_images

AUDIT = {1: "cat", 4: "dog"}  # cat/cat1.png, dog/dog1.png: labeled as audit items


def vectors(n: int, d: int = 8, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture
def images(tmp_path: Path):
    root = tmp_path / "imgs"
    write_images(root)  # cat/cat0..2.png, dog/dog0..2.png
    keys = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png"))
    keys.append("dog/gone.png")  # labeled, its file missing: in no export
    p = Project.create(tmp_path / "i.aldesk", Dataset("image", root, keys), ["cat", "dog"], model_id="m")
    X = vectors(len(keys))
    s = p.open_session(X)
    s.label(0, "cat")
    s.label(1, "cat", origin="audit")
    s.label(3, "dog")
    s.label(4, "dog", origin="audit")
    s.label(6, "dog")
    yield p, s, X
    p.close()


@pytest.fixture
def texts(tmp_path: Path):
    keys = [f"text {i}" for i in range(12)]
    p = Project.create(
        tmp_path / "t.aldesk", Dataset("text", tmp_path / "t.csv", keys), ["a", "b"], model_id="m"
    )
    X = vectors(len(keys), seed=1)
    s = p.open_session(X)
    for i in range(6):
        s.label(i, "a" if i % 2 else "b", origin="audit" if i == 5 else "user")
    yield p, s, X
    p.close()


def test_csv_without_bom_reads_with_plain_python_csv_and_excel_gets_a_bom(texts, tmp_path):
    p, _, _ = texts
    out = tmp_path / "l.csv"
    export_project(p, "csv", out)
    assert not out.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(out, newline="") as f:  # what the user typed: no encoding, no BOM handling
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["item", "label", "predicted", "confidence"]
    assert [(r["item"], r["label"]) for r in rows] == [(f"text {i}", "a" if i % 2 else "b") for i in range(6)]
    export_project(p, "csv", tmp_path / "x.csv", excel=True)
    assert (tmp_path / "x.csv").read_bytes().startswith(b"\xef\xbb\xbfitem,")
    import pandas as pd

    df = pd.read_csv(tmp_path / "x.csv", encoding="utf-8-sig")
    assert list(df.columns[:2]) == ["item", "label"] and len(df) == 6
    with pytest.raises(UserError, match="--excel is for the csv"):
        export_project(p, "jsonl", tmp_path / "x.jsonl", excel=True)


def test_parquet_with_vectors_reads_in_pyarrow_pandas_and_hf_datasets(texts, tmp_path):
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    p, s, X = texts
    out = tmp_path / "l.parquet"
    report = export_project(p, "parquet", out, vectors=True, include_predicted=True, outputs=from_session(s))
    assert report.n_labeled == 6 and report.n_predicted == 6
    table = pq.read_table(out)
    assert table.column_names == [
        "item",
        "label",
        "origin",
        "time",
        "audit",
        "predicted",
        "confidence",
        "vector",
    ]
    assert table.schema.field("vector").type == pa.list_(pa.float32(), 8)
    assert table.schema.field("time").type == pa.timestamp("ms", tz="UTC")
    got = np.array(table.column("vector").to_pylist(), dtype=np.float32)
    assert np.array_equal(got, X)  # row i is item i here: every item is labeled or predicted
    df = pd.read_parquet(out)
    assert df["audit"].tolist() == [i == 5 for i in range(12)]
    assert df["label"].isna().sum() == 6 and (df["origin"] == "predicted").sum() == 6
    labeled_times = df["time"][:6]
    assert labeled_times.notna().all() and df["time"][6:].isna().all()
    assert abs(labeled_times.iloc[0].timestamp() - p.label_rows()[0].time) < 0.001
    from datasets import load_dataset

    hf = load_dataset("parquet", data_files=str(out), split="train", cache_dir=str(tmp_path / "hf"))
    assert hf.num_rows == 12 and hf[0]["item"] == "text 0" and len(hf[0]["vector"]) == 8
    with pytest.raises(UserError, match="needs the embeddings"):
        export_project(p, "parquet", tmp_path / "v.parquet", vectors=True)


def test_split_puts_the_audit_labels_in_test_and_hf_datasets_reads_both_splits(images, tmp_path):
    from datasets import load_dataset

    p, _, _ = images
    out = tmp_path / "hf"
    report = export_project(p, "hf-imagefolder", out, split=True)
    assert report.splits == {"train": 2, "test": 2} and report.missing == ["dog/gone.png"]
    ds = load_dataset("imagefolder", data_dir=str(out), cache_dir=str(tmp_path / "hfc"))
    assert sorted(ds) == ["test", "train"]
    assert sorted(ds["test"]["item"]) == ["cat/cat1.png", "dog/dog1.png"]
    assert sorted(ds["train"]["item"]) == ["cat/cat0.png", "dog/dog0.png"]
    assert ds["test"][0]["image"].size == (48, 48)  # a real decoded image

    folder = tmp_path / "if"
    export_project(p, "imagefolder", folder, split=True)
    files = sorted(f.relative_to(folder).as_posix() for f in folder.rglob("*.png"))
    assert files == ["test/cat/cat1.png", "test/dog/dog1.png", "train/cat/cat0.png", "train/dog/dog0.png"]
    yolo = tmp_path / "yolo"
    report = export_project(p, "yolo-cls", yolo)  # always split; val = audit, as Ultralytics names it
    assert report.splits == {"train": 2, "val": 2}
    assert sorted(f.relative_to(yolo).as_posix() for f in yolo.rglob("*.png")) == sorted(
        f.replace("test/", "val/") for f in files
    )


def test_split_without_audit_labels_is_refused(texts, tmp_path):
    p, _, _ = texts
    root = tmp_path / "imgs2"
    write_images(root, per_class=1)
    q = Project.create(
        tmp_path / "q.aldesk", Dataset("image", root, ["cat/cat0.png", "dog/dog0.png"]), ["cat"], model_id="m"
    )
    q.open_session(vectors(2)).label(0, "cat")
    with pytest.raises(UserError, match="audit labels in the test split"):
        export_project(q, "imagefolder", tmp_path / "o", split=True)
    assert not (tmp_path / "o").exists()
    with pytest.raises(UserError, match="--split is for"):
        export_project(p, "csv", tmp_path / "o.csv", split=True)
    q.close()


def test_cleanlab_pred_probs_are_the_exact_leave_one_out_knn(texts, tmp_path):
    p, s, _ = texts
    out = tmp_path / "cl"
    export_project(p, "cleanlab", out, outputs=from_session(s))
    labels = np.load(out / "labels.npy", allow_pickle=False)
    probs = np.load(out / "pred_probs.npy", allow_pickle=False)
    classes = json.loads((out / "classes.json").read_text(encoding="utf-8"))
    with open(out / "items.csv", newline="") as f:
        items = list(csv.DictReader(f))
    assert classes == ["a", "b"] and labels.dtype == np.int64 and probs.shape == (6, 2)
    assert [classes[c] for c in labels] == [r["label"] for r in items]
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    for row, r in enumerate(items):
        i = int(r["item"].split()[1])
        want = s.predict(i).probabilities  # exact, without the item's own label
        assert np.allclose(probs[row], [want[c] for c in classes], atol=1e-6)
    # out of sample: an item's own label does not vote. With its label counted, every row would lean to it.
    own = s.probabilities(np.arange(6))
    assert not np.allclose(probs, own, atol=1e-3)


def test_embeddings_are_every_usable_item_row_for_row(images, tmp_path):
    p, s, X = images
    out = tmp_path / "emb"
    outputs = from_session(s)
    outputs.eligible[2] = False  # as if cat/cat2.png had failed to load
    outputs.reasons[2] = "not an image"
    report = export_project(p, "embeddings", out, outputs=outputs)
    v = np.load(out / "vectors.npy", allow_pickle=False)
    with open(out / "items.csv", newline="") as f:
        items = list(csv.DictReader(f))
    keys = p.dataset().keys
    assert [r["item"] for r in items] == [keys[i] for i in (0, 1, 3, 4, 5)]  # no cat2 (unusable), no gone.png
    assert np.array_equal(v, X[[0, 1, 3, 4, 5]])
    assert [r["label"] for r in items] == ["cat", "cat", "dog", "dog", ""]
    assert report.unusable == ["cat/cat2.png: not an image"] and report.missing == ["dog/gone.png"]


def test_fiftyone_layout_matches_its_documented_schema(images, tmp_path):
    p, _, _ = images
    out = tmp_path / "fo"
    export_project(p, "fiftyone", out)
    # FiftyOneImageClassificationDataset: data/<uuid>.<ext> and labels.json {"classes": [...], "labels": {uuid:
    # target}}, target an index into classes (or {"label": index, "confidence": c}); uuid = the file's stem.
    meta = json.loads((out / "labels.json").read_text(encoding="utf-8"))
    assert set(meta) == {"classes", "labels"} and meta["classes"] == ["cat", "dog"]
    stems = {f.stem for f in (out / "data").iterdir()}
    assert set(meta["labels"]) == stems == {"cat0", "cat1", "dog0", "dog1"}
    assert {meta["classes"][t] for t in meta["labels"].values()} == {"cat", "dog"}
    assert meta["labels"]["dog1"] == 1
    items = json.loads((out / "items.json").read_text(encoding="utf-8"))
    assert items["cat1"] == "cat/cat1.png"


def test_labelstudio_tasks_have_the_documented_fields(images, tmp_path):
    p, s, _ = images
    out = tmp_path / "ls.json"
    export_project(p, "labelstudio", out, include_predicted=True, outputs=from_session(s))
    tasks = json.loads(out.read_text(encoding="utf-8"))
    config = (tmp_path / "ls.label_config.xml").read_text(encoding="utf-8")
    # Label Studio's import format: a list of tasks with "data"; "annotations" and "predictions" hold a
    # "result" list of {from_name, to_name, type, value}; a prediction has model_version and score. from_name
    # and to_name are the names of the config's <Choices> and <Image> tags.
    assert 'name="label"' in config and '<Image name="image" value="$image"/>' in config
    kinds = {"annotations": 0, "predictions": 0}
    for t in tasks:
        assert set(t["data"]) == {"image", "item"}
        for kind in kinds:
            for entry in t.get(kind, []):
                kinds[kind] += 1
                res = entry["result"][0]
                assert set(res) >= {"from_name", "to_name", "type", "value"} and res["type"] == "choices"
                assert res["from_name"] == "label" and res["to_name"] == "image"
                assert res["value"]["choices"][0] in ("cat", "dog")
                if kind == "predictions":
                    assert isinstance(entry["score"], float) and entry["model_version"] == "m"
    assert kinds == {"annotations": 4, "predictions": 2}  # cat2, dog2 predicted; gone.png in no task


def test_every_format_refuses_nothing_it_needs_and_the_cli_lists_them_all(texts, images, tmp_path):
    from aldesk.cli.exchange_cmds import FORMATS as CLI_FORMATS

    assert CLI_FORMATS == FORMATS  # the CLI repeats the list so that --help imports nothing heavy
    p, s, _ = images
    for fmt in FORMATS:
        out = tmp_path / f"out-{fmt}"
        report = export_project(p, fmt, out, outputs=from_session(s))
        assert out.exists() and report.files[0] == out and report.missing == ["dog/gone.png"], fmt
