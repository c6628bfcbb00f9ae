"""The ``aldesk`` command end to end on the bundled real data (real ONNX embedding, real files)."""

import json
import subprocess
import sys
from pathlib import Path

import aldesk

DEMO = Path(aldesk.__file__).parent / "resources" / "demo"


def run(*args: str, cache: Path) -> subprocess.CompletedProcess:
    env = {"XDG_CACHE_HOME": str(cache), "PATH": "/usr/bin:/bin", "HOME": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "aldesk", *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_simulate_on_demo_texts_writes_the_documented_json(tmp_path):
    out = tmp_path / "rt.json"
    r = run(
        "simulate",
        str(DEMO / "texts.csv"),
        "--label-column",
        "label",
        "--folds",
        "3",
        "--budget",
        "30",
        "--strategies",
        "uid,margin",
        "--out",
        str(out),
        "--quiet",
        cache=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert set(res) == {"dataset", "n_items", "n_classes", "folds", "budget", "full_accuracy", "strategies"}
    assert res["n_items"] == 400 and res["n_classes"] == 2 and res["folds"] == 3 and res["budget"] == 30
    assert list(res["strategies"]) == ["uid", "margin", "random"]
    for s in res["strategies"].values():
        assert len(s["accuracy"]) == 30 and all(0 <= a <= 1 for a in s["accuracy"])
        assert set(s) == {"accuracy", "auc", "labels_to_90", "labels_to_95"}
    # MiniLM separates fresh from rotten better than chance
    assert res["full_accuracy"] > 0.6
    assert "random" in r.stdout and "AUC" in r.stdout  # the table for humans


def test_simulate_defaults_to_the_app_strategy_and_random(tmp_path):
    out = tmp_path / "img.json"
    r = run(
        "simulate",
        str(DEMO / "images"),
        "--folds",
        "2",
        "--budget",
        "15",
        "--out",
        str(out),
        "--quiet",
        cache=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    from aldesk.core.labeling.session import DEFAULT_SIMULATION_STRATEGY

    assert list(res["strategies"]) == [DEFAULT_SIMULATION_STRATEGY, "random"]
    assert res["n_items"] == 300 and res["n_classes"] == 10


def test_user_errors_are_messages_not_tracebacks(tmp_path):
    r = run("simulate", str(tmp_path / "nope.csv"), cache=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "nope.csv" in r.stderr
    nolabels = tmp_path / "t.csv"
    nolabels.write_text("text\nhello there\ngeneral kenobi\n")
    r = run("simulate", str(nolabels), cache=tmp_path)
    assert r.returncode == 2 and "no known labels" in r.stderr and "Traceback" not in r.stderr
    r = run(
        "simulate",
        str(DEMO / "texts.csv"),
        "--label-column",
        "label",
        "--strategies",
        "bogus",
        cache=tmp_path,
    )
    assert r.returncode == 2 and "bogus" in r.stderr and "Traceback" not in r.stderr


def test_help_lists_every_subcommand():
    r = subprocess.run([sys.executable, "-m", "aldesk", "--help"], capture_output=True, text=True, check=True)
    for cmd in ("open", "demo", "init", "export", "import-labels", "relink", "recover", "simulate", "info"):
        assert cmd in r.stdout
