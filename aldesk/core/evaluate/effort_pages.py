"""The pages the simulated grid expert works through (``simulate --effort grid``), and what each costs.

Two pages, each one a mode of the app's Grid tab (``aldesk/ui/grid/panel.py``) driven by its own keys:

- ``confident`` (the default, the first grid expert): the ``page`` items the k-NN predicts as class X, most
  confident first (X round-robin over the predicted classes), the *Predicted as X* mode. One key confirms the
  page plus one per item the oracle corrects, and every item of the page gets its true label, as issue 13 defines
  it (in the window a corrected card is clicked off and needs its own key later: the definition is generous
  by those few keys).
- ``candidates``: the ``page`` items the strategy ranks highest, the Grid tab's *Candidates* mode, each card
  showing the k-NN's prediction, every card selected. The expert clicks each card whose prediction is wrong (one
  action: it is deselected) and presses Enter (one action): every selected card gets the class it shows, origin
  "grid", one undo. A deselected card stays unlabeled, in the pool: the strategy ranks it again (it is usually
  the next single pick). Cost ``1 + wrong``, labels ``page - wrong``, all true.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aldesk.core.model.knn import IncrementalKNN
from aldesk.core.query import registry
from aldesk.core.query.baselines import PoolContext


@dataclass(frozen=True)
class Page:
    """One grid page worked through: the items that get a label (with it), and the actions it cost."""

    items: np.ndarray  # pool rows labeled by the page
    labels: np.ndarray  # their (true) labels
    cost: int  # expert actions
    wrong: int  # cards whose shown prediction was wrong
    cards: int  # cards the page showed


def candidates_page(
    strategy: registry.Strategy,
    knn: IncrementalKNN,
    n_classes: int,
    cand: np.ndarray,
    y: np.ndarray,
    page: int,
    ctx: PoolContext,
    rng: np.random.Generator,
    density: np.ndarray | None,
    graph: tuple[np.ndarray, np.ndarray] | None,
) -> Page:
    """The strategy's top ``page`` of ``cand``: the right predictions accepted by Enter, the wrong ones clicked."""
    items = ranked(strategy, page, knn, n_classes, cand, ctx, rng, density, graph)
    pred = knn.probabilities(n_classes, items).argmax(axis=1)
    right = pred == y[items]
    wrong = int((~right).sum())
    return Page(items[right], y[items[right]], 1 + wrong, wrong, int(items.size))


def confident_page(
    knn: IncrementalKNN, n_classes: int, cand: np.ndarray, y: np.ndarray, page: int, start: int
) -> tuple[Page, int]:
    """(the page of the first class from ``start`` on that any item is predicted as, most confident first;
    that class)."""
    p = knn.probabilities(n_classes, cand)
    pred = p.argmax(axis=1)
    for step in range(n_classes):
        c = (start + step) % n_classes
        mine = np.flatnonzero(pred == c)
        if mine.size:
            items = cand[mine[np.argsort(-p[mine, c], kind="stable")][:page]]
            wrong = int((y[items] != c).sum())
            return Page(items, y[items], 1 + wrong, wrong, int(items.size)), c
    raise AssertionError("every candidate has a predicted class")


def ranked(
    strategy: registry.Strategy,
    n: int,
    knn: IncrementalKNN,
    n_classes: int,
    cand: np.ndarray,
    ctx: PoolContext,
    rng: np.random.Generator,
    density: np.ndarray | None,
    graph: tuple[np.ndarray, np.ndarray] | None,
) -> np.ndarray:
    """The ``n`` items of ``cand`` the strategy ranks highest, best first: the app's candidate list
    (``Session.candidates``), scored as :func:`aldesk.core.evaluate.simulate.pick_one` scores one pick."""
    active = strategy.active(knn.n_labeled)
    if active.is_random:
        idx, _ = registry.select(active, n, rng, pool_size=cand.size)
        return cand[idx]
    if active.picker is not None:
        probs = knn.probabilities(n_classes, cand) if active.picker == "info-density" else None
        scores = registry.picker_scores(active.picker, ctx, knn, n_classes, cand, probs)
        return cand[registry.top_n(scores, n)]
    probs = knn.probabilities(n_classes, cand) if active.measure else None
    dens = density[cand] if density is not None else None
    ms = knn.max_similarity(cand) if active.diversity else None
    meas = registry.measure_values(active, knn, n_classes, cand, probs, graph)
    idx, _ = registry.select(active, n, rng, probs, dens, ms, measure=meas)
    return cand[idx]
