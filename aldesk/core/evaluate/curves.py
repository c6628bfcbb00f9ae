"""Accuracy estimates while labeling: the honest audit estimate and the optimistic leave-one-out figure.

Active picks are not a random sample of the pool, so the k-NN's accuracy on the labels it asked for says little
about its accuracy on the rest. Audit items are uniform random draws whose prediction was stored before the label
was given; the share of correct predictions among the last few audits is an unbiased (if noisy) estimate of the
accuracy on the pool at that time. The Wilson score interval gives the noise: it stays inside [0, 1] and behaves
at 0 % and 100 %, where the normal approximation collapses to a zero-width band.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_WINDOW = 20
Z95 = 1.959963984540054  # two-sided 95 % normal quantile


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion; (0, 1) when there is no observation."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # At p = 0 or 1 the matching end is exactly 0 or 1; rounding would leave it a hair inside.
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return lo, hi


@dataclass(frozen=True)
class AuditCurve:
    """One point per audit label: labels given before it, and the trailing-window estimate at that time."""

    labels: np.ndarray  # (n,) int, number of labels before the audit item was labeled
    accuracy: np.ndarray  # (n,) trailing-window mean of "the k-NN was right"
    low: np.ndarray  # (n,) Wilson 95 % lower bound
    high: np.ndarray  # (n,) Wilson 95 % upper bound
    window_size: np.ndarray  # (n,) audits inside the window (grows to ``window`` and stays there)

    def __len__(self) -> int:
        return int(self.labels.size)

    @property
    def last(self) -> tuple[float, float, float] | None:
        """The current estimate (accuracy, low, high), or None before the first audit."""
        if not len(self):
            return None
        return float(self.accuracy[-1]), float(self.low[-1]), float(self.high[-1])


def audit_curve(
    records: Sequence[tuple[int, bool]], window: int = DEFAULT_WINDOW, z: float = Z95
) -> AuditCurve:
    """Trailing-window audit estimate from ``Session.audit_records()`` ((labels before, correct) pairs).

    A window, not the running mean over all audits: the k-NN improves as labels arrive, so old audits describe
    an older, worse classifier. The window trades that bias against noise (20 audits: a band of about ±0.2).
    """
    if window < 1:
        raise ValueError("window must be at least 1")
    recs = sorted(records, key=lambda r: r[0])
    n = len(recs)
    labels = np.array([r[0] for r in recs], dtype=np.int64)
    ok = np.array([bool(r[1]) for r in recs], dtype=np.float64)
    csum = np.concatenate([[0.0], np.cumsum(ok)])
    idx = np.arange(n)
    start = np.maximum(0, idx - window + 1)
    succ = csum[idx + 1] - csum[start]
    size = (idx + 1 - start).astype(np.int64)
    acc = succ / np.maximum(size, 1)
    bands = [wilson_interval(s, m, z) for s, m in zip(succ, size, strict=True)]
    low = np.array([b[0] for b in bands], dtype=np.float64)
    high = np.array([b[1] for b in bands], dtype=np.float64)
    return AuditCurve(labels, acc, low, high, size)


def loo_accuracy(knn: object, n_classes: int) -> float | None:
    """Leave-one-out accuracy of the k-NN over its labeled items (None with fewer than two labels).

    Same figure as ``Session.loo_accuracy`` but computed on the labeled rows only, so it costs O(labels), not
    O(pool): it runs after every label. Optimistic: the labeled items are the ones the strategy chose.
    """
    lab = knn.labeled  # type: ignore[attr-defined]
    if lab.size < 2 or n_classes < 1:
        return None
    p = knn.probabilities(n_classes, lab, exclude_self=True)  # type: ignore[attr-defined]
    return float((p.argmax(axis=1) == knn.label[lab]).mean())  # type: ignore[attr-defined]


@dataclass
class LooTrace:
    """Leave-one-out accuracy recorded as labels arrive (it cannot be recomputed for past states cheaply).

    Undo shrinks the label count: points past the current count are dropped so the trace never shows a
    state that no longer exists.
    """

    labels: list[int]
    accuracy: list[float]

    def __init__(self) -> None:
        self.labels = []
        self.accuracy = []

    def update(self, n_labeled: int, accuracy: float | None) -> None:
        while self.labels and self.labels[-1] >= n_labeled:
            self.labels.pop()
            self.accuracy.pop()
        if accuracy is not None:
            self.labels.append(int(n_labeled))
            self.accuracy.append(float(accuracy))
