"""Label imports (issue 17.2): Parquet and Label Studio JSON back in, annotations as labels and predictions as
suggestions, items keyed by an id column, bad files refused whole in one line (nothing half imported)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aldesk.core.dataset import Dataset
from aldesk.core.exchange.export import export_project
from aldesk.core.exchange.imports import SUGGESTIONS_KEY, import_labels, suggestions
from aldesk.core.progress import UserError
from aldesk.core.project import Project
from tests.app.conftest import write_images


def vectors(n: int, d: int = 8) -> np.ndarray:
    v = np.random.default_rng(0).normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def image_project(tmp_path: Path, name: str) -> Project:
    root = tmp_path / "imgs"
    if not root.exists():
        write_images(root)
    keys = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png"))
    return Project.create(tmp_path / name, Dataset("image", root, keys), [], model_id="m")


def test_parquet_export_imports_back(tmp_path):
    p = image_project(tmp_path, "a.aldesk")
    sess = p.open_session(vectors(p.n_items))
    sess.add_class("cat")
    sess.add_class("dog")
    sess.label_many([0, 1], "cat")
    sess.label(3, "dog")
    out = tmp_path / "l.parquet"
    export_project(p, "parquet", out)
    q = image_project(tmp_path, "b.aldesk")
    r = import_labels(q, out)
    assert r.labeled == 3 and r.unmatched == [] and sorted(r.new_classes) == ["cat", "dog"]
    assert q.labels() == p.labels() and {x.origin for x in q.label_rows()} == {"imported"}
    p.close()
    q.close()


def test_labelstudio_annotations_are_labels_and_predictions_suggestions(tmp_path):
    p = image_project(tmp_path, "i.aldesk")
    root = Path(p.root)
    keys = p.dataset().keys
    local = "/data/local-files/?d=" + str((root / keys[2]).resolve()).lstrip("/")
    tasks = [
        {
            "data": {"image": "s3://bucket/x.png", "item": keys[0]},
            "annotations": [
                {
                    "result": [
                        {
                            "from_name": "label",
                            "to_name": "image",
                            "type": "choices",
                            "value": {"choices": ["cat"]},
                        }
                    ]
                }
            ],
        },
        {
            "data": {"image": "http://host/" + keys[1]},
            "annotations": [  # cancelled: not a label
                {"was_cancelled": True, "result": [{"type": "choices", "value": {"choices": ["dog"]}}]}
            ],
        },
        {
            "data": {"image": local},
            "predictions": [
                {
                    "model_version": "v1",
                    "score": 0.4,
                    "result": [{"type": "choices", "value": {"choices": ["dog"]}}],
                },
                {
                    "model_version": "v2",
                    "score": 0.9,
                    "result": [{"type": "choices", "value": {"choices": ["cat"]}}],
                },
            ],
        },
        {
            "data": {"image": "/elsewhere/nothing.png"},
            "annotations": [{"result": [{"type": "choices", "value": {"choices": ["cat"]}}]}],
        },
    ]
    f = tmp_path / "ls.json"
    f.write_text(json.dumps(tasks), encoding="utf-8")
    r = import_labels(p, f)
    assert p.labels() == {0: "cat"} and r.labeled == 1
    assert r.suggestions == 1 and suggestions(p) == {2: ("cat", 0.9)}  # the best-scored prediction
    assert r.unmatched == ["/elsewhere/nothing.png"] and r.empty == 2
    p.close()


def test_a_bad_file_imports_nothing_labels_nor_suggestions(tmp_path):
    p = image_project(tmp_path, "i.aldesk")
    keys = p.dataset().keys
    bad_label = "x" * 10_000
    tasks = [
        {
            "data": {"item": keys[0]},
            "predictions": [{"score": 0.5, "result": [{"value": {"choices": ["dog"]}}]}],
        },
        {"data": {"item": keys[1]}, "annotations": [{"result": [{"value": {"choices": ["cat"]}}]}]},
        {"data": {"item": keys[2]}, "annotations": [{"result": [{"value": {"choices": [bad_label]}}]}]},
    ]
    f = tmp_path / "ls.json"
    f.write_text(json.dumps(tasks), encoding="utf-8")
    before = p.next_seq()
    with pytest.raises(UserError) as err:
        import_labels(p, f)
    assert (
        "Nothing was imported" in str(err.value) and "task 3" in str(err.value) and "\n" not in str(err.value)
    )
    assert p.labels() == {} and p.next_seq() == before and p.get_setting(SUGGESTIONS_KEY) is None
    for text, match in (
        ("{not json", "not valid JSON"),
        ('{"data": 1}', "not a Label Studio export"),
    ):
        f.write_text(text, encoding="utf-8")
        with pytest.raises(UserError, match=match):
            import_labels(p, f)
    pq = tmp_path / "x.parquet"
    pq.write_bytes(b"PAR1 not really")
    with pytest.raises(UserError, match="not a readable Parquet"):
        import_labels(p, pq)
    assert p.labels() == {}
    p.close()


def test_id_column_keys_texts_by_the_source_csv(tmp_path):
    src = tmp_path / "t.csv"
    src.write_text("uid,text\n" + "".join(f"u{i},some text {i}\n" for i in range(6)), encoding="utf-8")
    p = Project.create(
        tmp_path / "t.aldesk", Dataset("text", src, [f"some text {i}" for i in range(6)]), ["a"], model_id="m"
    )
    f = tmp_path / "by-id.csv"
    f.write_text("UID;tag\nu4;a\nu1;b\nzz;a\n", encoding="utf-8")
    r = import_labels(p, f, id_column="uid", label_column="tag")
    assert p.labels() == {4: "a", 1: "b"} and r.unmatched == ["zz"]
    with pytest.raises(UserError, match="has no such column"):
        import_labels(p, f, id_column="tag", label_column="UID")
    p.close()


def test_prelabels_for_open_and_a_mistyped_column(tmp_path, capsys):
    from aldesk.cli import main
    from aldesk.cli.prelabels import create_prelabeled

    data = tmp_path / "r.csv"
    data.write_text(
        "text,guess\n" + "".join(f"review {i},{'pos' if i < 3 else ''}\n" for i in range(6)), "utf-8"
    )
    proj = tmp_path / "r.aldesk"
    # init with a column that is not there: one line, and no project left behind
    assert main(["init", str(data), "--project", str(proj), "--labels-from-column", "gues"]) == 2
    assert "gues" in capsys.readouterr().err and not proj.exists()
    # what `aldesk open r.csv --labels-from-column guess` does before the window opens it
    assert create_prelabeled(data, proj, None, "guess") == proj
    with Project.open(proj) as p:
        assert [(r.item, r.cls, r.origin) for r in p.label_rows()] == [
            (i, "pos", "prelabel") for i in range(3)
        ]
        seq = p.next_seq()
    assert create_prelabeled(data, proj, None, "guess") == proj  # an existing project: opened as it is
    assert "applies only to a new project" in capsys.readouterr().err
    with Project.open(proj) as p:
        assert p.next_seq() == seq
