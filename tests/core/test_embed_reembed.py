"""Old projects keep their model; ``aldesk reembed`` switches it explicitly and keeps every label.

A project made before e5 became the default stores MiniLM's card id and no card file (what ``create_project``
wrote then). Reopening it must not re-embed; ``aldesk reembed`` (a real second process) must.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np

from aldesk.app.workspace import card_for, open_project, open_workspace
from aldesk.core.dataset import Dataset
from aldesk.core.embed import embed_dataset
from aldesk.core.embed.cards import default_card, resolve_card
from aldesk.core.project import Project

TEXTS = [
    ("The soup was delicious and the staff were friendly.", "good"),
    ("Das Essen war hervorragend, wir kommen wieder.", "good"),
    ("Wonderful evening, the dessert was perfect.", "good"),
    ("Ein wunderbarer Abend mit freundlicher Bedienung.", "good"),
    ("The room was dirty and the staff were rude.", "bad"),
    ("Das Zimmer war schmutzig und laut.", "bad"),
    ("We waited an hour and the food was cold.", "bad"),
    ("Die Bedienung war unfreundlich und langsam.", "bad"),
]


def _cli(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {"XDG_CACHE_HOME": str(cache), "PATH": "/usr/bin:/bin", "HOME": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "aldesk", *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _old_project(tmp_path: Path) -> tuple[Path, Dataset]:
    data = tmp_path / "reviews.csv"
    with open(data, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("text",), *((t,) for t, _ in TEXTS)])
    from aldesk.core.sources import load_source

    ds = load_source(data)
    minilm = resolve_card("minilm_l6_int8")
    path = tmp_path / "reviews.aldesk"
    Project.create(path, ds, ["good", "bad"], model_id=minilm.id).close()  # as create_project wrote it then
    labels = tmp_path / "labels.csv"
    with open(labels, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("item", "label"), *TEXTS[:3], *TEXTS[4:6]])
    return path, ds


def test_an_old_minilm_project_reopens_without_reembedding_then_reembed_keeps_every_label(tmp_path) -> None:
    cache = tmp_path / "xdg"
    emb_cache = cache / "aldesk" / "embeddings"
    path, ds = _old_project(tmp_path)
    r = _cli("import-labels", str(path), str(tmp_path / "labels.csv"), cache=cache)
    assert r.returncode == 0, r.stderr
    minilm, e5 = resolve_card("minilm_l6_int8"), default_card("text")
    assert e5.id != minilm.id

    # The old app's open embedded with MiniLM; today's open finds the same card and every vector cached.
    ws = open_workspace(path, cache_dir=emb_cache)
    before_labels = dict(ws.session.labels)
    first_x = ws.session.X.copy()
    ws.close()
    assert len(before_labels) == 5
    loaded = open_project(path, readonly=True)
    with loaded.project as p:
        assert card_for(p, "text").id == minilm.id
        again = embed_dataset(loaded.dataset, card_for(p, "text"), cache_dir=emb_cache)
    assert again.n_computed == 0 and again.n_cached == len(TEXTS) and again.model_id == minilm.id
    np.testing.assert_array_equal(again.vectors, first_x)
    assert not any(e5.id in d.name for d in emb_cache.iterdir())  # the new default was never run

    r = _cli("reembed", str(path), cache=cache)
    assert r.returncode == 0, r.stderr
    assert "all 5 labels kept" in r.stdout and "8 items computed" in r.stdout, r.stdout
    with Project.open(path, readonly=True) as p:
        assert p.model_id == e5.id and not p.card_path
        assert p.labels() == before_labels
    ws = open_workspace(path, cache_dir=emb_cache)
    try:
        assert ws.session.labels == before_labels
        assert not np.allclose(ws.session.X, first_x)  # the e5 vectors, not MiniLM's
    finally:
        ws.close()

    r = _cli("reembed", str(path), cache=cache)
    assert r.returncode == 0 and "nothing to do" in r.stdout, r.stdout + r.stderr
    r = _cli("reembed", str(path), "--model-card", "minilm_l6_int8", cache=cache)
    assert r.returncode == 0 and "0 items computed, 8 from the cache" in r.stdout, r.stdout + r.stderr
    with Project.open(path, readonly=True) as p:
        assert p.model_id == minilm.id and p.labels() == before_labels


def test_reembed_refuses_a_card_of_the_other_kind_in_one_line_and_changes_nothing(tmp_path) -> None:
    cache = tmp_path / "xdg"
    path, _ = _old_project(tmp_path)
    for card in ("efficientnet_lite0", "no_such_card"):
        r = _cli("reembed", str(path), "--model-card", card, cache=cache)
        assert r.returncode != 0 and r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr, (
            r.stderr
        )
    with Project.open(path, readonly=True) as p:
        assert p.model_id == resolve_card("minilm_l6_int8").id
