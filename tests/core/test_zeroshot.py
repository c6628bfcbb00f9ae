"""Zero-shot cold start with the bundled e5 card (real ONNX inference, English and German texts): the prior,
the session's first candidates and predictions, labels taking over, and ``simulate --zero-shot``."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import aldesk
from aldesk.core.embed import default_card
from aldesk.core.embed.batch import embed_batch, embed_texts
from aldesk.core.labeling.session import Session
from aldesk.core.query import zeroshot
from tests.core.test_embed_reembed import TEXTS  # 4 good and 4 bad restaurant reviews, English and German

CLASSES = ["good", "bad"]
TRUTH = np.array([CLASSES.index(lab) for _, lab in TEXTS])


@pytest.fixture(scope="module")
def vectors() -> tuple[np.ndarray, np.ndarray]:
    card = default_card("text")
    X = embed_texts(card, [t for t, _ in TEXTS])
    protos = zeroshot.prototypes(
        card, zeroshot.parse_descriptions("good=a positive review;bad=a complaint", CLASSES)
    )
    return X, protos


def test_the_prior_of_class_descriptions_is_right_in_both_languages(vectors) -> None:
    X, protos = vectors
    p = zeroshot.prior(X, protos)
    assert p.shape == (8, 2) and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert (p.argmax(axis=1) == TRUTH).all(), p  # items 1, 3, 5, 7 are German
    # The bare class names work too (what --zero-shot without descriptions uses).
    names = zeroshot.prototypes(default_card("text"), zeroshot.parse_descriptions("", CLASSES))
    assert (zeroshot.prior(X, names).argmax(axis=1) == TRUTH).all()


def test_embed_batch_is_the_pipelines_vector(tmp_path, vectors) -> None:
    from aldesk.core.dataset import Dataset
    from aldesk.core.embed import embed_dataset

    X, _ = vectors
    res = embed_dataset(Dataset("text", tmp_path, [t for t, _ in TEXTS]), cache_dir=tmp_path / "c")
    np.testing.assert_allclose(res.vectors, X, atol=2e-3)  # batches pad differently; int8/4-bit kernels
    v, ok = embed_batch(default_card("text"), ["", TEXTS[0][0]])
    assert ok.all() and np.isfinite(v).all()


def test_session_first_candidates_seed_each_class_and_predict_before_any_label(vectors) -> None:
    X, protos = vectors
    s = Session(X, CLASSES, k=3)
    s.set_zero_shot(zeroshot.prior(X, protos))
    first = s.candidates(2)
    assert {TRUTH[c.index] for c in first} == {0, 1}  # one example of each class first
    assert all(c.predicted == CLASSES[TRUTH[c.index]] for c in first)
    pred, conf = s.predictions()
    assert (pred == TRUTH).all() and (conf > 0.5).all()
    # the explanation of one item (the why panel) says the same as the suggestions before any label
    assert [s.predict(i).predicted for i in range(len(TRUTH))] == [CLASSES[t] for t in TRUTH]
    s.label(first[0].index, CLASSES[TRUTH[first[0].index]])
    nxt = s.candidates(1)[0]
    assert TRUTH[nxt.index] != TRUTH[first[0].index]  # the class still without a label comes next


def test_labels_take_over_from_the_prior(vectors) -> None:
    X, protos = vectors
    s = Session(X, CLASSES, k=3)
    s.set_zero_shot(zeroshot.prior(X, protos))
    for i in range(8):  # every item labeled against its prior
        s.label(i, CLASSES[1 - TRUTH[i]])
    pred, _ = s.predictions()  # leave-one-out: the neighbours' (flipped) labels outvote the prior
    assert (pred == 1 - TRUTH).mean() >= 0.75
    s.add_class("neutral")  # the prior has no column for it: ignored, not mis-assigned
    assert s._zero_shot() is None
    knn_only = s.knn.probabilities(3, exclude_self=True).argmax(axis=1)
    assert (s.predictions()[0] == knn_only).all()


def test_simulate_zero_shot_beats_no_prior_at_zero_labels(tmp_path) -> None:
    with open(Path(aldesk.__file__).parent / "resources" / "demo" / "texts.csv", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    data = tmp_path / "rt.csv"
    with open(data, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([rows[0], *rows[1:81]])
    out = tmp_path / "zs.json"
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    spec = "fresh=a positive movie review;rotten=a negative movie review"
    cmd = [sys.executable, "-m", "aldesk", "simulate", str(data), "--label-column", "label", "--folds", "2"]
    r = subprocess.run(
        [*cmd, "--zero-shot", spec, "--out", str(out), "--quiet"],
        check=False, capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert set(res["with"]) == set(res["without"]) == {"0", "5", "10"}
    assert res["with"]["0"] > res["without"]["0"] + 0.1 and res["prior_accuracy"] > 0.65, res
    assert "with zero-shot" in r.stdout and "without zero-shot" in r.stdout
    bad = subprocess.run(
        [*cmd, "--zero-shot", "tomato=red"], check=False, capture_output=True, text=True, env=env, timeout=300
    )
    assert bad.returncode != 0 and "tomato" in bad.stderr and "Traceback" not in bad.stderr
