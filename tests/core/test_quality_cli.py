"""``aldesk review`` and ``aldesk compare`` end to end: real projects of the bundled demo images, real ONNX embedding,
real second processes; read-only commands write nothing."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import aldesk

DEMO = Path(aldesk.__file__).parent / "resources" / "demo" / "images"
HOME = Path()
# Planted errors: labels no one would confuse (a bag called trouser, a sandal called coat, ...).
SWAPS = {"bag": "trouser", "sandal": "coat", "trouser": "bag", "coat": "sandal"}


def run(*args: str, cache: Path) -> subprocess.CompletedProcess:
    env = {"XDG_CACHE_HOME": str(cache), "PATH": "/usr/bin:/bin", "HOME": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "aldesk", *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(f.relative_to(folder)): (f.stat().st_mtime_ns, f.read_bytes())
        for f in folder.rglob("*")
        if f.is_file()
    }


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, list[str]]:
    """Two real projects of the demo images: A with 200 true labels of which 8 planted errors; B a second
    labeler who agrees except on 10 items. Returns (folder, A, B, the planted keys)."""
    root = tmp_path_factory.mktemp("quality")
    global HOME
    HOME = tmp_path_factory.mktemp(
        "home"
    )  # the user's cache and log: outside the folder whose bytes are checked
    data = root / "images"
    shutil.copytree(DEMO, data)
    images = sorted(str(p.relative_to(data)) for p in data.rglob("*.png"))
    assert len(images) == 300
    chosen = images[::3][:100] + images[1::3][:100]
    # Two per class, as a careless labeler's slips are (eight bags called trouser would be a second opinion).
    planted = [k for c in SWAPS for k in [k for k in chosen if k.split("/")[0] == c][:2]]
    b_differs = [k for k in chosen if k not in planted][5:15]
    rows_a, rows_b = [], []
    for k in chosen:
        true = k.split("/")[0]
        rows_a.append((k, SWAPS[true] if k in planted else true))
        rows_b.append((k, "shirt" if k in b_differs and true != "shirt" else true))
    paths = []
    for name, rows in (("a", rows_a), ("b", rows_b)):
        project = root / f"{name}.aldesk"
        r = run("init", str(data), "--project", str(project), cache=HOME)
        assert r.returncode == 0, r.stderr
        labels = root / f"{name}.csv"
        with open(labels, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["item", "label"])
            w.writerows(rows)
        r = run("import-labels", str(project), str(labels), cache=HOME)
        assert r.returncode == 0, r.stderr
        paths.append(project)
    return root, paths[0], paths[1], planted


def test_review_lists_the_planted_errors_first_and_writes_nothing(projects) -> None:
    root, a, _b, planted = projects
    before = _snapshot(root)
    r = run("review", str(a), "--json", cache=HOME)
    assert r.returncode == 0, r.stderr
    assert _snapshot(root) == before  # project, its folder, the data: unchanged (no backup, no -wal)
    out = json.loads(r.stdout)
    assert out["labeled"] == 200
    # The demo's 300 Fashion-MNIST thumbnails are hard for the bundled image model (leave-one-out k-NN accuracy
    # of these 200 labels: 0.45), so genuine confusions (shirt / t-shirt / pullover) crowd the queue too: the
    # planted slips are not all first, as they are on separable data (test_quality_review.py), but far above
    # chance. Measured here: ranks 3, 6, 10, 19, 26, 53, 76, 108 of 200; by chance 4 of 8 would need ~90.
    ranks = {q["key"]: n for n, q in enumerate(out["queue"])}
    assert all(k in ranks for k in planted)
    assert sum(ranks[k] < 20 for k in planted) >= 3
    assert sum(ranks[k] for k in planted) / len(planted) < 100 / 2
    first = [q for q in out["queue"] if q["key"] in planted][0]
    assert first["suggested"] == first["key"].split("/")[0]  # it suggests the true class
    assert "Stopping signal" in out["stopping"]["message"] or "chang" in out["stopping"]["message"]
    r = run("review", str(a), "--top", "3", cache=HOME)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "look mislabeled" in lines[0] and lines[1].split()[:2] == ["#", "item"]
    assert len([ln for ln in lines if ln.strip()[:2] in ("1 ", "2 ", "3 ")]) == 3


def test_compare_reports_kappa_and_the_disagreements_and_merges_into_a_new_file(projects) -> None:
    root, a, b, planted = projects
    before = _snapshot(root)
    r = run("compare", str(a), str(b), "--json", cache=HOME)
    assert r.returncode == 0, r.stderr
    assert _snapshot(root) == before
    out = json.loads(r.stdout)
    assert out["both_labeled"] == 200
    assert len(out["disagreements"]) == len(planted) + 10
    assert 0.8 < out["kappa"] < 1.0
    r = run("compare", str(a), str(b), cache=HOME)
    assert "Cohen's kappa" in r.stdout and "disagreements (18):" in r.stdout
    merged = root / "merged.aldesk"
    r = run("compare", str(a), str(b), "--merge", str(merged), "--prefer", "B", cache=HOME)
    assert r.returncode == 0, r.stderr
    assert "18 labels from b.aldesk (origin merge:b.aldesk)" in r.stdout
    for name in ("a.aldesk", "b.aldesk"):
        assert (root / name).read_bytes() == before[name][1]
    r = run("compare", str(a), str(b), "--merge", str(a), cache=HOME)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "exists already" in r.stderr
    assert (root / "a.aldesk").read_bytes() == before["a.aldesk"][1]


def test_help_lists_review_and_compare() -> None:
    r = subprocess.run([sys.executable, "-m", "aldesk", "--help"], capture_output=True, text=True, check=True)
    assert "review" in r.stdout and "compare" in r.stdout


def test_simulate_stopping_reports_where_the_signal_fires(tmp_path: Path) -> None:
    demo_texts = DEMO.parent / "texts.csv"
    out = tmp_path / "stop.json"
    r = run(
        "simulate", str(demo_texts), "--label-column", "label", "--folds", "2", "--budget", "120",
        "--strategies", "eer@10", "--stopping", "--quiet", "--out", str(out), cache=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())["stopping"]
    assert d["strategy"] == "eer@10" and d["folds"] == 2 and d["budget"] == 120 and len(d["fired"]) == 2
    assert set(d["fired_by_threshold"]) == {"0.01", "0.02", "0.05"}
    assert all(f is None or 100 <= f <= 120 for f in d["fired"])  # checked from 2 x 50 labels on
    assert d["labels_to_95_of_final"] is not None and len(d["changed_at_end"]) == 2
    assert "stopping signal (eer@10" in r.stdout and "95 % of its final accuracy" in r.stdout
