"""The field's baselines (issue 16): each checked against a property from its paper on a small synthetic set."""

import numpy as np
import pytest

from aldesk.core.evaluate.simulate import simulate
from aldesk.core.model.knn import IncrementalKNN
from aldesk.core.neighbours import builder
from aldesk.core.query import baselines, registry
from aldesk.core.query.baselines import PoolContext
from tests.core.conftest import clustered


def _blobs(sizes, d=12, seed=0, spread=0.08):
    """Well separated blobs of the given sizes (unit vectors), with the blob as class."""
    rng = np.random.default_rng(seed)
    centres = np.linalg.qr(rng.normal(size=(d, d)))[0][: len(sizes)]  # orthonormal: far apart
    y = np.repeat(np.arange(len(sizes)), sizes)
    X = centres[y] + spread * rng.normal(size=(y.size, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32), y


def _loop(strategy: str, X, y, steps, k=5):
    """Pick ``steps`` items one at a time with ``strategy``, revealing each true label (as simulate does)."""
    strat = registry.parse_strategy(strategy)
    knn = IncrementalKNN(X, k)
    ctx = PoolContext(X, np.arange(X.shape[0]), builder.global_density(X), seed=0)
    n_cls = int(y.max()) + 1
    picks = []
    for _ in range(steps):
        cand = np.flatnonzero(knn.label < 0)
        active = strat.active(knn.n_labeled)
        probs = knn.probabilities(n_cls, cand)
        if active.picker:
            s = registry.picker_scores(active.picker, ctx, knn, n_cls, cand, probs)
        else:
            s = registry.score(active, probs, ctx.density[cand], knn.max_similarity(cand))["S"]
        pick = int(cand[int(np.argmax(s))])
        picks.append(pick)
        knn.add(pick, int(y[pick]))
    return picks, knn


def test_typiclust_takes_one_item_per_cluster_first_largest_first_and_typical():
    sizes = [60, 45, 30, 20]
    X, y = _blobs(sizes)
    picks, _ = _loop("typiclust", X, y, 4)
    # k-means into |L| + 1 clusters: the first pick comes from the one cluster (everything), then each new
    # cluster is uncovered; on separated blobs that is one pick per blob
    assert sorted(y[picks]) == [0, 1, 2, 3]
    # the most typical item of its blob: the highest inverse mean distance to its 20 nearest in the blob
    for p in picks[1:]:
        members = np.flatnonzero(y == y[p])
        typ = baselines.typicality(X[members])
        assert members[int(np.argmax(typ))] == p


def test_typiclust_cluster_grid_always_leaves_an_uncovered_cluster():
    for n_labeled in range(0, 3000, 7):
        k = baselines.typiclust_clusters(n_labeled)
        assert k > n_labeled or k == baselines.TYPICLUST_MAX_CLUSTERS
    assert [baselines.typiclust_clusters(n) for n in range(4)] == [1, 2, 3, 4]


def test_kcenter_picks_maximise_the_min_distance_greedily():
    X, y = clustered(150, 8, 3, seed=2)
    picks, _ = _loop("kcenter", X, y, 8)
    for t in range(1, len(picks)):
        chosen = X[picks[:t]]
        rest = np.setdiff1d(np.arange(X.shape[0]), picks[:t])
        min_dist = 1.0 - (X[rest] @ chosen.T).max(axis=1)  # cosine distance to the nearest chosen centre
        assert 1.0 - (X[picks[t]] @ chosen.T).max() == pytest.approx(min_dist.max(), abs=1e-6)
    # with nothing chosen yet, the most typical item (global density) starts
    assert picks[0] == int(np.argmax(builder.global_density(X)))


def test_probcover_radius_is_pure_and_greedy_maximises_new_coverage():
    X, y = _blobs([50, 40, 30], spread=0.15, seed=3)
    indptr, members, threshold = baselines.probcover_graph(X, 3)
    assign = baselines.kmeans(X, 3)
    balls = [members[indptr[i] : indptr[i + 1]] for i in range(X.shape[0])]
    assert all(i in b for i, b in enumerate(balls))  # every ball holds its centre
    # delta by purity: at least 95 % of the balls hold items of one k-means cluster only
    pure = np.mean([np.all(assign[b] == assign[i]) for i, b in enumerate(balls)])
    assert pure >= baselines.PROBCOVER_PURITY
    # the balls are exactly the items at similarity >= threshold (none cut by the per-ball bound here)
    S = X @ X.T
    assert all(set(b) == set(np.flatnonzero(S[i] >= threshold)) | {i} for i, b in enumerate(balls))
    picks, _ = _loop("probcover", X, y, 4)
    covered = np.zeros(X.shape[0], dtype=bool)
    for p in picks:
        gains = [np.count_nonzero(~covered[b]) for b in balls]
        assert np.count_nonzero(~covered[balls[p]]) == max(gains)  # greedy max coverage
        covered[balls[p]] = True
    assert sorted(set(y[picks[:3]])) == [0, 1, 2]  # the three dense blobs are covered first


def test_uncertainty_baselines_pick_what_their_definitions_say():
    p = np.array([[0.5, 0.3, 0.2], [0.45, 0.44, 0.11], [0.34, 0.33, 0.33], [0.9, 0.05, 0.05]])
    knn_free = {"margin": 1, "entropy": 2, "least-confidence": 2}  # smallest top-2 gap; flattest; lowest p1
    for name, best in knn_free.items():
        s = registry.score(registry.parse_strategy(name), p, None, None)["S"]
        assert int(np.argmax(s)) == best, name
        assert registry.parse_strategy(name).baseline


def test_info_density_is_uncertainty_times_mean_similarity_in_o_nd():
    X, y = clustered(200, 6, 2, seed=4)
    knn = IncrementalKNN(X, 5)
    knn.add_many(np.array([0, 1, 2, 3]), y[:4])
    ctx = PoolContext(X, np.arange(200))
    rows = np.arange(4, 200)
    probs = knn.probabilities(2, rows)
    got = baselines.info_density(ctx, knn, 2, rows, probs)
    mean_sim = np.maximum((X @ X.T).mean(axis=1), 0.0)  # the O(N^2) definition
    np.testing.assert_allclose(got, (1.0 - probs.max(axis=1)) * mean_sim[rows], rtol=1e-4, atol=1e-6)
    # with equal uncertainty (no labels), the item in the dense region beats the outlier
    X2, _ = _blobs([40, 1], seed=5)
    knn0 = IncrementalKNN(X2, 5)
    s = baselines.info_density(PoolContext(X2, np.arange(41)), knn0, 2, np.arange(41))
    assert int(np.argmax(s)) < 40 and s[40] < s[:40].min()


def test_field_expands_to_every_baseline_beside_the_default_and_writes_the_usual_keys():
    names = registry.expand_strategies(["field", "random"], "eer@10")
    assert names == ["eer@10", *registry.FIELD, "random"]
    assert registry.parse_strategy("field").measure == "eer"  # the CLI's early check accepts it
    X, y = clustered(160, 8, 3, seed=6)
    res = simulate(X, [f"c{v}" for v in y], strategies=["field"], folds=2, budget=15, k=5).to_dict()
    assert list(res["strategies"]) == names
    for s in res["strategies"].values():
        assert set(s) == {"accuracy", "auc", "labels_to_90", "labels_to_95"} and len(s["accuracy"]) == 15


def test_cold_start_syntax_hands_over_after_n_labels():
    s = registry.parse_strategy("typiclust:20/eer@10")
    assert (s.cold, s.cold_until, s.measure, s.every) == ("typiclust", 20, "eer", 10)
    assert s.picker_at(19) == "typiclust" and s.picker_at(20) is None
    with pytest.raises(ValueError, match="cold start"):
        registry.parse_strategy("typiclust/eer")  # how many labels is missing
    with pytest.raises(ValueError, match="unknown measure 'nonsense'"):
        registry.parse_strategy("nonsense:20/eer")
    # any strategy can start: a product of CDFs too
    c = registry.parse_strategy("eer-id:30/eer@10")
    assert c.active(29).name == "eer-id" and c.active(30) is c and c.picker_at(0) is None
    # the first picks are TypiClust's, one per blob, and after the hand-over eer ranks
    X, y = _blobs([30, 30, 30])
    picks, _ = _loop("typiclust:3/eer", X, y, 3)
    assert sorted(y[picks]) == [0, 1, 2]


@pytest.mark.parametrize("strategy", ["typiclust:4/eer", "probcover", "info-density", "kcenter"])
def test_the_app_ranks_pool_strategies_as_simulate_measures_them(strategy):
    from aldesk.core.labeling.session import Session

    X, y = _blobs([40, 30, 20, 10], seed=8)
    expected, _ = _loop(strategy, X, y, 6)
    names = ["a", "b", "c", "d"]
    session = Session(X, names, k=5, strategy=strategy, density=builder.global_density(X))
    got = []
    for _ in range(6):
        top = session.candidates(3)
        assert len({c.index for c in top}) == 3 and top[0].S >= top[1].S >= top[2].S
        got.append(top[0].index)
        session.label(top[0].index, names[y[top[0].index]])
    assert got == expected


def test_eer_bal_finds_a_rare_class_sooner_than_eer():
    # 4 classes, one of them 4 % of the items: the class balance sends picks towards classes with few labels
    X, y = _blobs([200, 200, 200, 25], spread=0.35, seed=9)
    graph = builder.knn_graph(X)
    dens = graph[1].mean(axis=1)

    def rare_labels(strategy):
        strat = registry.parse_strategy(strategy)
        knn = IncrementalKNN(X, 5)
        ctx = PoolContext(X, np.arange(X.shape[0]), dens, 0, {}, graph)
        found = []
        for _ in range(60):
            cand = np.flatnonzero(knn.label < 0)
            probs = knn.probabilities(4, cand)
            if strat.picker:
                s = registry.picker_scores(strat.picker, ctx, knn, 4, cand, probs)
            else:
                meas = registry.measure_values(strat, knn, 4, cand, probs, graph)
                s = registry.score(strat, probs, dens[cand], None, measure_values=meas)["S"]
            pick = int(cand[int(np.argmax(s))])
            knn.add(pick, int(y[pick]))
            found.append(int(y[pick] == 3))
        return np.cumsum(found)

    bal, eer = rare_labels("eer-bal"), rare_labels("eer")
    assert bal[-1] > eer[-1] and bal[-1] >= 3


def test_kmeans_on_a_sample_for_large_sets_still_separates_blobs(monkeypatch):
    X, y = _blobs([150, 100, 80], seed=10)
    full = baselines.kmeans(X, 3, seed=1)
    monkeypatch.setattr(baselines, "KMEANS_FIT_MAX", 60)  # fit on 60 items, then assign all 330
    sampled = baselines.kmeans(X, 3, seed=1)
    for a in (full, sampled):  # each blob is one cluster, and the clusters differ
        assert all(np.unique(a[y == c]).size == 1 for c in range(3))
        assert np.unique(a).size == 3


def test_typiclust_in_a_cluster_too_large_for_exact_typicality_uses_the_density(monkeypatch):
    X, _ = _blobs([60, 45], seed=11)
    dens = builder.knn_density(X)
    monkeypatch.setattr(baselines, "TYPICALITY_EXACT_MAX", 50)
    knn = IncrementalKNN(X, 5)
    ctx = PoolContext(X, np.arange(X.shape[0]), dens)
    s = baselines.typiclust(ctx, knn, 2, np.arange(X.shape[0]))  # no labels: one cluster of 105 items
    assert int(np.argmax(s)) == int(np.argmax(dens))
