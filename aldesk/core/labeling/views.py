"""Which items a grid shows, and in which order: Qt-free queries over a labeling session.

The grid (``aldesk/ui/grid/``) lets the expert confirm many items with one key, so what it shows must be the
k-NN's own numbers, the ones the candidate strip and the map show: the stored top-k votes
(:meth:`Session.probabilities`), never a second classifier. Every query returns item numbers with one score
each, best first; ties keep the lower item first, so a page is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aldesk.core.labeling.session import Session
from aldesk.core.query.similar import top_k


def _order(scores: np.ndarray, items: np.ndarray, descending: bool) -> np.ndarray:
    key = -scores if descending else scores
    return np.lexsort((items, key))


def predicted_as(
    session: Session, cls: str, *, least_confident: bool = False, n: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(items, confidence): the unlabeled, unskipped items the k-NN predicts as ``cls``, most confident first
    (or least confident first: the ones worth a look). Empty while nothing is labeled."""
    c = session.class_index(cls)
    pool = np.flatnonzero(session.pool_mask())
    if session.n_labeled == 0 or pool.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    p = session.probabilities(pool)
    mine = p.argmax(axis=1) == c
    items, conf = pool[mine], p[mine, c].astype(np.float32)
    order = _order(conf, items, descending=not least_confident)
    if n is not None:
        order = order[:n]
    return items[order].astype(np.int64), conf[order]


def unlabeled_neighbours(session: Session, item: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(items, similarity): the ``n`` unlabeled, unskipped items most similar to ``item`` (itself excluded),
    most similar first. One mat-vec over the pool."""
    mask = session.pool_mask()
    mask[int(item)] = False
    return top_k(session.X, session.X[int(item)], n, mask)


def similar_to(
    session: Session, query: np.ndarray, n: int, *, unlabeled_only: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(items, similarity): the ``n`` items most similar to a query vector (a typed query's embedding)."""
    mask = session.pool_mask() if unlabeled_only else session.eligible.copy()
    return top_k(session.X, query, n, mask)


@dataclass(frozen=True)
class Preview:
    """What labeling ``items`` as ``cls`` would do, in the k-NN's own numbers."""

    cls: str
    targets: np.ndarray  # the unlabeled items among them: these would get the label
    already_labeled: int  # selected items that keep the label they have
    agree: int  # targets the k-NN predicts as ``cls``
    others: dict[str, int] = field(default_factory=dict)  # other class -> targets predicted as it, most first
    no_prediction: int = 0  # targets with no prediction (nothing labeled yet)


def label_preview(session: Session, items: np.ndarray, cls: str) -> Preview:
    """The counts a lasso preview shows: each target's predicted class (argmax of its stored votes, as the map's
    colours and the candidate strip read it), split into agreeing with ``cls`` and predicted as each other one."""
    c = session.class_index(cls)
    items = np.unique(np.asarray(items, dtype=np.int64))
    targets = items[session.label_index(items) < 0]
    kept = int(items.size - targets.size)
    if session.n_labeled == 0 or targets.size == 0:
        return Preview(cls, targets, kept, 0, {}, int(targets.size))
    pred = session.probabilities(targets).argmax(axis=1)
    counts = np.bincount(pred, minlength=len(session.classes))
    others = {
        session.classes[j]: int(counts[j]) for j in np.argsort(-counts, kind="stable") if j != c and counts[j]
    }
    return Preview(cls, targets, kept, int(counts[c]), others, 0)
