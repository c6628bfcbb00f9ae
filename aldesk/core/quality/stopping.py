"""The stopping signal: "the model has stopped changing: N more labels are unlikely to move accuracy by more than X".

Three readings of the last ``window`` labels (labeling order):

- **Changed predictions.** The k-NN with all labels and the k-NN without the last ``window`` predict a uniform
  sample of the pool; the share of predictions that differ BOUNDS how far those labels moved the pool's accuracy
  (a prediction that did not change cannot have become right or wrong). Measured in ``simulate --stopping``,
  the bound is loose: on Rotten Tomatoes 5-8 % of the predictions still flip every 50 labels at 300 labels while
  the accuracy curve moved half a point; uncertain items flip back and forth.
- **Expected gain** (what fires the signal): each change weighed by what the current k-NN believes it gained,
  p_now(new prediction) - p_now(old prediction); a flip between two classes it finds equally likely counts for
  nearly nothing. It is the model's own estimate, hence the third reading:
- **The audit estimate** (uniform random audit items, :mod:`aldesk.core.evaluate.curves`): the signal fires only
  while the estimate has not risen by more than its own 95 % band's half-width over the same ``window`` labels,
  so a model that is still visibly improving is not called done. Without audits the signal says so.

Both states come from one (sample x labels) similarity block (for a live session, from the k-NN's own slots:
:func:`session_prediction_change`), so the signal needs no history: it reads the same after a reopen, in the CLI
and in ``simulate``. The X promised for the next ``window`` labels is the gain seen over the last: a k-NN's
learning curve flattens, so the next labels move it less than the last did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from aldesk.core.evaluate.curves import DEFAULT_WINDOW, audit_curve
from aldesk.core.model.knn import PRIOR, weight

if TYPE_CHECKING:
    from aldesk.core.labeling.session import Session

WINDOW = 50  # the last labels whose effect is measured ("the last 50 labels changed ...")
MAX_CHANGE = (
    0.02  # fires when the expected accuracy gain of the last WINDOW labels is at most this (2 points:
)
# where `simulate --stopping` found it firing near 95-98 % of the final accuracy on Rotten Tomatoes and Fashion-MNIST,
# README "When to stop"; 1 point fired late on one and not within 300 labels on the other)
SAMPLE = 2000  # pool items compared (a uniform sample: the share's error is about 1 / sqrt(4 x SAMPLE))
SEED = 0


@dataclass(frozen=True)
class StoppingSignal:
    n_labeled: int
    window: int
    max_change: float
    # share of sampled pool predictions the last ``window`` labels changed; None: too early (or no pool)
    changed: float | None
    sample: int  # pool items compared
    audit: tuple[float, float, float] | None  # the audit estimate now (accuracy, low, high)
    audit_rise: float | None  # how much the estimate rose over the last ``window`` labels
    stopped: bool
    expected: float | None = None  # the accuracy gain the k-NN expects from those changes (Change.expected)

    @property
    def audit_allows(self) -> bool:
        """Whether the audit estimate lets the signal fire: there is none (yet), or it rose over the last
        ``window`` labels by no more than its own 95 % band's half-width (not visibly still improving)."""
        if self.audit is None or self.audit_rise is None:
            return True
        return self.audit_rise <= (self.audit[2] - self.audit[1]) / 2

    def message(self) -> str:
        """One line for the Accuracy tab and the CLI."""
        if self.changed is None and self.n_labeled >= 2 * self.window:
            return "Stopping signal: every item is labeled; there is no pool left to predict."
        if self.changed is None:
            return (
                f"Stopping signal: from {2 * self.window} labels on (it compares the model with and without "
                f"the last {self.window}; {self.n_labeled} so far)."
            )
        gain = self.changed if self.expected is None else self.expected
        x = _points(gain)
        what = (
            f"the last {self.window} labels changed {self.changed:.1%} of {self.sample:,} pool predictions, "
            f"worth {_points(gain)} of accuracy by the model's own reckoning"
        )
        if self.audit is None:
            audit = "no audit estimate: audit items are off"
        else:
            acc, lo, hi = self.audit
            audit = f"audit estimate {acc:.0%}, 95 %: {lo:.0%}–{hi:.0%}"
        if self.stopped:
            return (
                f"The model has stopped changing: {self.window} more labels are unlikely to move accuracy by more "
                f"than {x} ({what}; {audit})."
            )
        why = f"{what}; it stops below {_points(self.max_change)}"
        if gain <= self.max_change and self.audit_rise is not None:
            why = f"{what}, but the audit estimate rose {self.audit_rise:.0%} meanwhile"
        return f"Still changing: {why} ({audit})."


def _points(share: float) -> str:
    """A share as accuracy points, rounded UP to 0.1 (a bound must not be rounded down)."""
    pts = np.ceil(share * 1000.0 - 1e-9) / 10.0
    return f"{max(pts, 0.1):.1f} points"


@dataclass(frozen=True)
class Change:
    """What the last labels did to the sampled pool predictions."""

    share: float  # predictions that differ with and without them
    expected: float  # the accuracy gain the k-NN itself expects from those changes (see prediction_change)
    sample: int  # pool items compared


def prediction_change(
    X: np.ndarray,
    labeled: np.ndarray,
    labels: np.ndarray,
    k: int,
    pool: np.ndarray,
    window: int = WINDOW,
    sample: int = SAMPLE,
    seed: int = SEED,
) -> Change | None:
    """How the last ``window`` of ``labeled`` (labeling order) changed the k-NN's predictions on a sample of
    ``pool``; None with fewer than ``window`` + 1 labels or an empty pool.

    ``share`` counts the changed predictions: a bound on how far accuracy moved, loose where uncertain items
    flip back and forth. ``expected`` weighs each change by what the current k-NN believes it gained: the mean
    over the sample of p_now(new prediction) - p_now(old prediction), zero where nothing changed. A flip between
    two classes the model finds equally likely counts nearly nothing; one to a class it is now sure of counts
    almost a full point. It is the model's own estimate, so the audit estimate is consulted beside it."""
    labeled = np.asarray(labeled, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    pool = np.asarray(pool, dtype=np.int64)
    if labeled.size <= window or pool.size == 0:
        return None
    pool = _sample(pool, sample, seed)
    S = np.asarray(X[pool] @ X[labeled].T, dtype=np.float32)
    n_cls = int(labels.max()) + 1
    p_now = _probabilities(S, labels, k, n_cls)
    before = _probabilities(S[:, : labeled.size - window], labels[: labeled.size - window], k, n_cls).argmax(
        1
    )
    return _change(p_now, before)


def _sample(pool: np.ndarray, sample: int, seed: int) -> np.ndarray:
    if pool.size <= sample:
        return pool
    return np.sort(np.random.default_rng(seed).choice(pool, sample, replace=False))


def _change(p_now: np.ndarray, before: np.ndarray) -> Change:
    rows = np.arange(p_now.shape[0])
    now = p_now.argmax(axis=1)
    gain = p_now[rows, now] - p_now[rows, before]
    return Change(float((now != before).mean()), float(gain.mean()), int(rows.size))


def _probabilities(S: np.ndarray, labels: np.ndarray, k: int, n_cls: int) -> np.ndarray:
    """The k-NN's class probabilities per row of similarities ``S`` (rows x labeled): its kernel over the
    top-k and its prior, as :class:`~aldesk.core.model.knn.IncrementalKNN` computes them."""
    kk = min(k, S.shape[1])
    top = (
        np.argpartition(-S, kk - 1, axis=1)[:, :kk]
        if kk < S.shape[1]
        else np.tile(np.arange(kk), (len(S), 1))
    )
    w = weight(np.take_along_axis(S, top, axis=1))
    votes = np.zeros((S.shape[0], n_cls))
    rows = np.arange(S.shape[0])
    cls = labels[top]
    for j in range(kk):
        votes[rows, cls[:, j]] += w[:, j]
    total = w.sum(axis=1)
    return (votes + (PRIOR / n_cls) * total[:, None]) / ((1.0 + PRIOR) * total)[:, None]


def stopping_signal(
    X: np.ndarray,
    labeled: np.ndarray,
    labels: np.ndarray,
    k: int,
    pool: np.ndarray,
    audit_records: Sequence[tuple[int, bool]],
    *,
    window: int = WINDOW,
    max_change: float = MAX_CHANGE,
    sample: int = SAMPLE,
    seed: int = SEED,
    change: Callable[[], Change | None] | None = None,
) -> StoppingSignal:
    """The signal for a k-NN state: ``labeled`` items in labeling order with their class ``labels``, the
    unlabeled ``pool``, and the audit records (``Session.audit_records()``: (labels before, k-NN right)).
    ``change``, when given, measures the prediction change instead of :func:`prediction_change` (a session's
    faster reading of the same figure)."""
    n = int(np.asarray(labeled).size)
    curve = audit_curve(list(audit_records), DEFAULT_WINDOW)
    audit = curve.last
    rise = None
    if audit is not None:
        then = np.flatnonzero(curve.labels <= n - window)
        if then.size:
            rise = float(audit[0] - curve.accuracy[then[-1]])
    measured = None
    if n >= 2 * window:
        measured = (
            change()
            if change is not None
            else prediction_change(X, labeled, labels, k, pool, window, sample, seed)
        )
    if measured is None:
        return StoppingSignal(n, window, max_change, None, 0, audit, rise, False)
    sig = StoppingSignal(
        n, window, max_change, measured.share, measured.sample, audit, rise, False, measured.expected
    )
    stopped = measured.expected <= max_change and sig.audit_allows
    return replace(sig, stopped=stopped)


def session_prediction_change(
    session: Session, window: int = WINDOW, sample: int = SAMPLE, seed: int = SEED
) -> Change | None:
    """:func:`prediction_change` for a live session, from the k-NN's own top-k slots: the state now is its
    votes (no similarity work), and only the sampled rows whose top-k holds one of the last ``window`` labels
    differ in the state before (the k best of all labels, none of them recent, are also the k best of the older
    ones), so only those rows are recomputed, against the older labels. With L labels that is about
    ``window x k / L`` of the sample: the Accuracy tab runs this on the GUI thread after each pause."""
    knn = session.knn
    labeled = knn.labeled
    pool = np.flatnonzero(session.pool_mask(include_skipped=True))
    if labeled.size <= window or pool.size == 0:
        return None
    pool = _sample(pool, sample, seed)
    n_cls = max(1, len(session.classes))
    p_now = knn.probabilities(n_cls, pool)
    before = p_now.argmax(axis=1)
    hit = np.isin(knn.nbr[pool], labeled[labeled.size - window :]).any(axis=1)
    if hit.any():
        older = labeled[: labeled.size - window]
        S = np.asarray(session.X[pool[hit]] @ session.X[older].T, dtype=np.float32)
        before[hit] = _probabilities(S, knn.label[older].astype(np.int64), knn.k, n_cls).argmax(axis=1)
    return _change(p_now, before)


def session_signal(
    session: Session, *, window: int = WINDOW, max_change: float = MAX_CHANGE
) -> StoppingSignal:
    """The signal of a labeling session (the Accuracy tab, ``aldesk review``): :func:`stopping_signal` with the
    prediction change read from the session's k-NN (:func:`session_prediction_change`, the same figure)."""
    labeled = session.knn.labeled
    return stopping_signal(
        session.X,
        labeled,
        session.label_index(labeled),
        session.k,
        np.flatnonzero(session.pool_mask(include_skipped=True)),
        session.audit_records(),
        window=window,
        max_change=max_change,
        change=lambda: session_prediction_change(session, window),
    )
