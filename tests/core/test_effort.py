"""``simulate --effort grid``: accuracy against expert actions, with and without grid pages (issue 13.7)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aldesk.core import synthetic
from aldesk.core.evaluate import effort
from aldesk.core.evaluate.simulate import kfold
from aldesk.core.model.knn import IncrementalKNN
from aldesk.core.query import registry
from tests.core.test_cli import DEMO, run


def test_a_page_costs_one_key_plus_one_per_correction():
    X, y = synthetic.clustered(800, 16, 4, seed=31)
    test = kfold(800, 4, np.random.default_rng(0), y)[0]
    pool = np.setdiff1d(np.arange(800), test)
    strat = registry.parse_strategy("random")
    a_plain, l_plain, c_plain = effort.run_effort_fold(
        X, y, pool, test, strat, False, 100, 10, 4, np.random.default_rng(2)
    )
    a_grid, l_grid, c_grid = effort.run_effort_fold(
        X, y, pool, test, strat, True, 100, 10, 4, np.random.default_rng(2), page=20, singles=10
    )
    assert c_plain == {"labels": 100, "pages": 0, "corrections": 0, "picks": 100}
    # every action is a pick, a page's confirming key or a correction: they add up to the budget (a page that
    # would end past the budget is still taken, so the total may pass it by that page's cost)
    spent = c_grid["picks"] + c_grid["pages"] + c_grid["corrections"]
    assert spent >= 100 and c_grid["pages"] >= 1
    assert c_grid["labels"] == c_grid["picks"] + 20 * c_grid["pages"]
    assert a_grid.shape == a_plain.shape == (100,)
    assert len(l_grid) == c_grid["labels"] > 100


def test_page_is_the_most_confident_of_one_class():
    X, y = synthetic.clustered(400, 16, 3, seed=32)
    knn = IncrementalKNN(X, 10)
    for i in range(0, 60, 3):
        knn.add(i, int(y[i]))
    cand = np.arange(60, 400)
    items, cls = effort._page(knn, 3, cand, 15, 1)
    p = knn.probabilities(3, cand)
    assert cls == 1 and items.size == 15
    assert (p[items - 60].argmax(axis=1) == 1).all()
    conf = p[items - 60, 1]
    assert (np.diff(conf) <= 0).all()  # most confident first
    others = np.setdiff1d(cand[p.argmax(axis=1) == 1], items)
    assert (p[others - 60, 1] <= conf.min()).all()


def test_grid_gives_more_labels_for_the_same_actions():
    X, y = synthetic.clustered(1200, 16, 5, seed=33)
    labels = np.array([f"c{c}" for c in y], dtype=object)
    out = effort.simulate_effort(X, labels, strategies=["eer@10"], folds=2, budget=80, page=20)
    plain, grid = out["strategies"]["eer@10"], out["strategies"]["eer@10 +grid"]
    assert plain["labels_given"] == 80 and grid["labels_given"] > 80
    assert len(plain["accuracy_by_action"]) == len(grid["accuracy_by_action"]) == 80
    json.dumps(out)


@pytest.mark.slow
def test_cli_effort_grid_on_the_demo_texts(tmp_path):
    out = tmp_path / "effort.json"
    r = run(
        "simulate",
        str(DEMO / "texts.csv"),
        "--label-column",
        "label",
        "--folds",
        "2",
        "--budget",
        "40",
        "--effort",
        "grid",
        "--page",
        "10",
        "--out",
        str(out),
        "--quiet",
        cache=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert res["page"] == 10 and res["budget_actions"] == 40
    assert set(res["strategies"]) == {"eer@10", "eer@10 +grid"}
    assert "actions to 95%" in r.stdout


def test_cli_refuses_mixed_protocols_before_embedding(tmp_path):
    """Misuse fails at once with one line, before the (slow) embedding."""
    data = str(DEMO / "texts.csv")
    cases = [
        (["--effort", "grid", "--drift", "x"], "one at a time"),
        (["--drift", "fresh", "--plot", str(tmp_path / "c.png")], "--plot draws the plain"),
        (["--drift", "fresh", "--drift-at", "50", "--budget", "50"], "must be below --budget"),
        (["--drift", " , "], "names no class"),
    ]
    for extra, message in cases:
        r = run("simulate", data, "--label-column", "label", *extra, "--quiet", cache=tmp_path)
        assert r.returncode != 0 and message in r.stderr, (extra, r.stderr)
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "c.png").exists()
