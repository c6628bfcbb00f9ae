"""The label-error review queue: labeled items the out-of-sample k-NN disagrees with, worst first.

Every labeled item is predicted from its k nearest OTHER labeled items (leave-one-out, the app's own kernel and
prior), so its own label never votes for itself. Its *self-confidence* is the probability that prediction gives to
the label it carries. Following confident learning (Northcutt, Jiang & Chuang 2021, the confident joint), each
class ``j`` has a threshold ``t_j`` = the mean self-confidence of the items labeled ``j``; an item labeled ``i``
is a suspect when some other class ``j`` reaches its own threshold (``p_j >= t_j``) and is the likeliest such
class, or when the k-NN predicts another class and ``p_i < t_i``. Per-class thresholds keep a hard class (low probabilities everywhere) from flooding the queue and an easy
one from hiding its errors. Suspects are ranked by their *normalised margin*, the self-confidence minus the
likeliest other class's probability, lowest first (one of cleanlab's rankings): a label whose neighbours all
agree on ONE other class comes before a label in a muddle where no class wins, though both may have the same
near-zero self-confidence (on weak embeddings many items sit at the prior's floor).

A second kind of suspect needs no model at all: two labeled items that are near-duplicates (cosine similarity at
least ``duplicate_similarity``) but carry different labels; one of the two labels is wrong, or the classes overlap.

Items the reviewer already looked at (kept with K, or relabeled from the queue) are not asked again
(:func:`reviewed_items`). The similarities are one blocked mat-mul over the labeled rows (labels x labels x d, a
block of rows at a time), with ``progress``/``cancel`` for the task runner.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from aldesk.core.labeling.actions import Action
from aldesk.core.model.knn import PRIOR, weight
from aldesk.core.progress import CancelFn, ProgressFn, check

if TYPE_CHECKING:
    from aldesk.core.labeling.session import Session

DUPLICATE_SIMILARITY = 0.98  # cosine: re-encodes, crops of one photo, a text with a typo fixed
ROWS_PER_BLOCK = 2048  # labeled rows per mat-mul block (a block x labels float32 temporary)
REVIEW_ORIGIN = "review"  # the origin of a relabel given from the queue


@dataclass(frozen=True)
class Suspect:
    """One item of the queue. ``kind``: "label" (confident learning flags it) or "duplicate" (a near-duplicate
    of ``other`` with another label; ``similarity`` is theirs)."""

    index: int
    given: str
    suggested: str  # the out-of-sample prediction
    self_confidence: float  # p(given label) from the other labeled items
    margin: float  # self-confidence minus the likeliest other class's probability: the queue's order
    threshold: float  # the given class's confident-learning threshold
    kind: str
    other: int | None = None
    similarity: float | None = None

    def to_dict(self) -> dict:
        return {
            "item": self.index,
            "given": self.given,
            "suggested": self.suggested,
            "self_confidence": round(self.self_confidence, 6),
            "margin": round(self.margin, 6),
            "threshold": round(self.threshold, 6),
            "kind": self.kind,
            "other": self.other,
            "similarity": None if self.similarity is None else round(self.similarity, 6),
        }


@dataclass(frozen=True)
class OutOfSample:
    """Leave-one-out votes of the labeled items: ``probs`` (L, C) rows aligned with ``items``; per row the most
    similar labeled item with ANOTHER label among its k neighbours (-1: none) and that similarity."""

    items: np.ndarray
    labels: np.ndarray
    probs: np.ndarray
    other: np.ndarray
    other_sim: np.ndarray


def out_of_sample(
    X: np.ndarray,
    items: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    k: int,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> OutOfSample:
    """Predict each labeled item from its ``k`` most similar other labeled items (the k-NN's weights and prior)."""
    items = np.asarray(items, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    n = items.size
    probs = np.full((n, max(1, n_classes)), 1.0 / max(1, n_classes))
    other = np.full(n, -1, dtype=np.int64)
    other_sim = np.full(n, -np.inf, dtype=np.float32)
    if n < 2:
        return OutOfSample(items, labels, probs, other, other_sim)
    XL = np.ascontiguousarray(X[items], dtype=np.float32)
    kk = min(k, n - 1)
    for start in range(0, n, ROWS_PER_BLOCK):
        check(cancel)
        stop = min(n, start + ROWS_PER_BLOCK)
        rows = np.arange(start, stop)
        S = XL[start:stop] @ XL.T
        S[rows - start, rows] = -np.inf  # leave itself out
        top = np.argpartition(-S, kk - 1, axis=1)[:, :kk]
        sims = np.take_along_axis(S, top, axis=1)
        w = weight(sims)
        cls = labels[top]
        votes = np.zeros((rows.size, probs.shape[1]), dtype=np.float64)
        for j in range(kk):  # within one column each row appears once, so += is safe
            votes[np.arange(rows.size), cls[:, j]] += w[:, j]
        total = w.sum(axis=1)
        p = votes + (PRIOR / probs.shape[1]) * total[:, None]
        probs[start:stop] = p / ((1.0 + PRIOR) * total)[:, None]
        differs = cls != labels[rows, None]
        masked = np.where(differs, sims, -np.inf)
        best = masked.argmax(axis=1)
        has = differs[np.arange(rows.size), best]
        other[start:stop] = np.where(has, items[top[np.arange(rows.size), best]], -1)
        other_sim[start:stop] = np.where(has, masked[np.arange(rows.size), best], -np.inf)
        if progress is not None:
            progress(stop / n, f"Comparing labels: {stop:,} of {n:,}")
    return OutOfSample(items, labels, probs, other, other_sim)


def class_thresholds(oos: OutOfSample) -> np.ndarray:
    """Confident learning's per-class threshold: the mean self-confidence of the items labeled with that class
    (1.0, i.e. never reached, for a class nobody labeled)."""
    n_cls = oos.probs.shape[1]
    t = np.ones(n_cls)
    self_conf = oos.probs[np.arange(oos.items.size), oos.labels]
    for c in range(n_cls):
        m = oos.labels == c
        if m.any():
            t[c] = float(self_conf[m].mean())
    return t


def suspects(
    oos: OutOfSample,
    classes: list[str],
    *,
    duplicate_similarity: float = DUPLICATE_SIMILARITY,
    skip: Iterable[int] = (),
) -> list[Suspect]:
    """The queue: confident-learning suspects and conflicting near-duplicates, lowest self-confidence first."""
    n = oos.items.size
    if n < 2:
        return []
    t = class_thresholds(oos)
    rows = np.arange(n)
    self_conf = oos.probs[rows, oos.labels]
    above = oos.probs >= t[None, :]
    # The likeliest class among those at their threshold (the confident joint's column), -1 where none is.
    masked = np.where(above, oos.probs, -1.0)
    joint = np.where(above.any(axis=1), masked.argmax(axis=1), -1)
    suggested = oos.probs.argmax(axis=1)
    others = oos.probs.copy()
    others[rows, oos.labels] = -1.0
    margin = self_conf - others.max(axis=1)
    off_diagonal = (joint >= 0) & (joint != oos.labels)
    # An item whose probabilities reach no class's threshold falls out of the confident joint; when the k-NN
    # predicts another class and the given one is below its own threshold, it is a suspect all the same
    # (cleanlab's "both" filter: off the joint's diagonal, or predicted != given).
    flagged = off_diagonal | ((suggested != oos.labels) & (self_conf < t[oos.labels]))
    dup = (oos.other >= 0) & (oos.other_sim >= duplicate_similarity)
    done = {int(i) for i in skip}
    out = []
    for r in np.flatnonzero(flagged | dup):
        i = int(oos.items[r])
        if i in done:
            continue
        is_dup = bool(dup[r])
        out.append(
            Suspect(
                index=i,
                given=classes[int(oos.labels[r])],
                suggested=classes[int(joint[r] if off_diagonal[r] else suggested[r])],
                self_confidence=float(self_conf[r]),
                margin=float(margin[r]),
                threshold=float(t[oos.labels[r]]),
                kind="duplicate" if is_dup else "label",
                other=int(oos.other[r]) if is_dup else None,
                similarity=float(oos.other_sim[r]) if is_dup else None,
            )
        )
    out.sort(key=lambda s: (s.margin, s.index))
    return out


def reviewed_items(history: Iterable[Action]) -> set[int]:
    """Items the reviewer has dealt with, from the actions in force (a session's undo history, or
    :func:`~aldesk.core.labeling.actions.undo_stack` of a project's log): kept with K or relabeled from the queue.
    An undone keep is not in force, so its item is asked again."""
    out: set[int] = set()
    for a in history:
        if a.op == "keep" or (a.op == "label" and a.origin == REVIEW_ORIGIN):
            out.update(a.items)
    return out


def review_queue(
    X: np.ndarray,
    label_index: np.ndarray,
    classes: list[str],
    k: int,
    *,
    eligible: np.ndarray | None = None,
    reviewed: Iterable[int] = (),
    duplicate_similarity: float = DUPLICATE_SIMILARITY,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> list[Suspect]:
    """The queue over all items: ``label_index`` (N,) class index per item, -1 unlabeled (a session's
    ``label_index()``). Labeled items that cannot be embedded (``eligible`` False) are left out: no vector, no
    opinion."""
    lab = np.flatnonzero(np.asarray(label_index) >= 0)
    if eligible is not None:
        lab = lab[np.asarray(eligible, dtype=bool)[lab]]
    oos = out_of_sample(
        X, lab, np.asarray(label_index)[lab], len(classes), k, progress=progress, cancel=cancel
    )
    return suspects(oos, classes, duplicate_similarity=duplicate_similarity, skip=reviewed)


def session_queue(
    session: Session, *, progress: ProgressFn | None = None, cancel: CancelFn | None = None
) -> list[Suspect]:
    """The queue of a labeling session (the app and ``aldesk review``): its vectors, labels, k and history."""
    return review_queue(
        session.X,
        session.label_index(),
        list(session.classes),
        session.k,
        eligible=session.eligible,
        reviewed=reviewed_items(session.history),
        progress=progress,
        cancel=cancel,
    )
