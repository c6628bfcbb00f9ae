"""``simulate --effort grid``: accuracy against expert actions, with and without grid pages (issue 13.7). The
pages and the counts run on the demo texts embedded by the bundled text model (real ONNX inference)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from aldesk.core import synthetic
from aldesk.core.embed import default_card
from aldesk.core.embed.batch import embed_texts
from aldesk.core.evaluate import effort, effort_pages
from aldesk.core.evaluate.simulate import kfold, pick_one
from aldesk.core.model.knn import IncrementalKNN
from aldesk.core.neighbours import builder
from aldesk.core.query import registry
from aldesk.core.query.baselines import PoolContext
from tests.core.test_cli import DEMO, run


@pytest.fixture(scope="module")
def demo() -> tuple[np.ndarray, np.ndarray]:
    """The first 240 demo snippets (Rotten Tomatoes, fresh / rotten) as the default card embeds them, and their
    labels."""
    with (DEMO / "texts.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))[:240]
    X = embed_texts(default_card("text"), [r["text"] for r in rows])
    _, y = np.unique([r["label"] for r in rows], return_inverse=True)
    return X, y


def _fold(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    test = kfold(y.size, 4, np.random.default_rng(0), y)[0]
    return np.setdiff1d(np.arange(y.size), test), test


def test_a_candidates_page_is_the_ranking_with_the_wrong_predictions_clicked_off(demo):
    X, y = demo
    seeds = np.arange(
        0, y.size, 8
    )  # 30 labels: with fewer, the first page is all wrong (eer asks at the border)
    knn = IncrementalKNN(X, 10)
    for i in seeds:
        knn.add(int(i), int(y[i]))
    cand = np.setdiff1d(np.arange(y.size), seeds)
    graph = builder.knn_graph(X)
    density = graph[1].mean(axis=1).astype(np.float32)
    ctx = PoolContext(X, np.arange(y.size), density, 0, {}, graph)
    strat = registry.parse_strategy("eer")
    args = (knn, 2, cand, ctx, np.random.default_rng(0), density, graph)
    top = effort_pages.ranked(strat, 20, *args)
    pg = effort_pages.candidates_page(strat, knn, 2, cand, y, 20, *args[3:])
    shown = knn.probabilities(2, top).argmax(axis=1)  # what each card shows
    right = top[shown == y[top]]
    assert top.size == 20 and 0 < pg.wrong < 20  # a real page: some predictions right, some wrong
    assert pg.wrong == int((shown != y[top]).sum())
    assert pg.cost == 1 + pg.wrong  # Enter, plus one click per wrong card
    assert (
        pg.items.tolist() == right.tolist()
    )  # the right ones get a label, in page order; the wrong ones none
    assert (pg.labels == y[pg.items]).all() and (pg.labels == shown[shown == y[top]]).all()
    # the page is the app's candidate list: the strategy's top 20, the first one what a single pick takes
    assert top[0] == pick_one(strat, 0, knn, 2, cand, ctx, np.random.default_rng(0), density, graph)


def test_effort_fold_counts_add_up_to_the_definition(demo):
    X, y = demo
    pool, test = _fold(y)
    strat = registry.parse_strategy("eer@10")
    plain = effort.run_effort_fold(X, y, pool, test, strat, False, 60, 10, 2, np.random.default_rng(2))
    a_plain, l_plain, c_plain = plain
    assert c_plain == {"labels": 60, "pages": 0, "corrections": 0, "picks": 60, "cards": 0}
    assert a_plain.shape == (60,) and np.array_equal(a_plain, l_plain)  # one key, one label
    for kind in ("candidates", "confident"):
        a, lab, c = effort.run_effort_fold(
            X, y, pool, test, strat, True, 60, 10, 2, np.random.default_rng(2), page=10, singles=5, kind=kind
        )
        # every action is a pick, a page's Enter (or class key) or a click on a wrong card
        spent = c["picks"] + c["pages"] + c["corrections"]
        assert spent >= 60 and spent - 60 <= 10 and c["pages"] >= 5, (kind, c)
        assert c["cards"] <= 10 * c["pages"] and c["corrections"] <= c["cards"]
        if kind == "candidates":  # the wrong cards stay unlabeled
            assert c["labels"] == c["picks"] + c["cards"] - c["corrections"]
        else:  # the first grid expert: every card of the page gets its true label
            assert c["labels"] == c["picks"] + c["cards"] > 60
        assert a.shape == (60,) and len(lab) == c["labels"]


def test_grid_start_keeps_the_first_labels_single(demo):
    X, y = demo
    pool, test = _fold(y)
    strat = registry.parse_strategy("eer")
    a0, _, c0 = effort.run_effort_fold(X, y, pool, test, strat, False, 30, 10, 2, np.random.default_rng(3))
    a, _, c = effort.run_effort_fold(
        X, y, pool, test, strat, True, 30, 10, 2, np.random.default_rng(3), page=10, singles=5, start=20
    )
    assert np.array_equal(a[:20], a0[:20])  # the same 20 picks before the first page
    assert c["pages"] >= 1 and c["picks"] < 30


def test_confident_page_is_the_most_confident_of_one_class():
    X, y = synthetic.clustered(400, 16, 3, seed=32)
    knn = IncrementalKNN(X, 10)
    for i in range(0, 60, 3):
        knn.add(i, int(y[i]))
    cand = np.arange(60, 400)
    pg, cls = effort_pages.confident_page(knn, 3, cand, y, 15, 1)
    items = pg.items
    p = knn.probabilities(3, cand)
    assert cls == 1 and items.size == 15
    assert (p[items - 60].argmax(axis=1) == 1).all()
    conf = p[items - 60, 1]
    assert (np.diff(conf) <= 0).all()  # most confident first
    others = np.setdiff1d(cand[p.argmax(axis=1) == 1], items)
    assert (p[others - 60, 1] <= conf.min()).all()
    assert pg.wrong == int((y[items] != 1).sum()) and pg.cost == 1 + pg.wrong


def test_simulate_effort_reports_both_experts(demo):
    X, y = demo
    labels = np.array(["fresh", "rotten"], dtype=object)[y]
    out = effort.simulate_effort(X, labels, strategies=["eer@10"], folds=2, budget=40, page=10, singles=5)
    plain, grid = out["strategies"]["eer@10"], out["strategies"]["eer@10 +grid"]
    assert out["grid_page"] == "confident" and out["page"] == 10
    assert plain["labels_given"] == 40 and plain["pages"] == 0
    assert grid["pages"] > 0 and 0 < grid["corrections"] < 10 * grid["pages"]
    assert len(plain["accuracy_by_action"]) == len(grid["accuracy_by_action"]) == 40
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
        "--grid-page",
        "candidates",
        "--grid-start",
        "10",
        "--out",
        str(out),
        "--quiet",
        cache=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert res["page"] == 10 and res["budget_actions"] == 40
    assert res["grid_page"] == "candidates" and res["grid_start"] == 10
    assert set(res["strategies"]) == {"eer@10", "eer@10 +grid"}
    assert "actions to 95%" in r.stdout and "held from 95%" in r.stdout


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
