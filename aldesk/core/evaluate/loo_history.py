"""The leave-one-out curve of a reopened project: what the accuracy chart drew while labeling, rebuilt from the
labeling order (issue 13 "after a reopen the leave-one-out curve is drawn").

While labeling, the chart records the leave-one-out accuracy after each label (``LooTrace``): it is not stored,
and a reopened project showed one point, i.e. no line. The k-NN's state after the first m labels is a function
of those m items alone, so the curve can be recomputed: one L x L similarity block among the labeled items, then
per checkpoint m each of the first m items votes with its k - 1 most similar others among them (the k-NN's own
leave-one-out: its top-k slots minus the item itself). Labels are the current ones (an item relabeled later
counts with its last class), which is what the log's materialised state holds.
"""

from __future__ import annotations

import numpy as np

from aldesk.core.model.knn import weight

MAX_LABELS = (
    1000  # the block is L x L: past this the curve starts at the reopen, as before (cost, not memory)
)
N_POINTS = 30


def loo_history(
    vectors: np.ndarray, order: np.ndarray, labels: np.ndarray, k: int, n_points: int = N_POINTS
) -> tuple[list[int], list[float]]:
    """(label counts, leave-one-out accuracy) at up to ``n_points`` prefixes of the labeling ``order`` (item
    indices, first labeled first) with their class indices ``labels``; the full prefix excluded (the chart adds
    the current figure itself). Empty when there are too few or too many labels."""
    L = len(order)
    if L < 3 or L > MAX_LABELS:
        return [], []
    XL = np.asarray(vectors[np.asarray(order)], dtype=np.float32)
    S = XL @ XL.T
    np.fill_diagonal(S, -np.inf)  # never one's own vote
    y = np.asarray(labels, dtype=np.int64)
    n_cls = int(y.max()) + 1
    marks = sorted({int(m) for m in np.linspace(2, L - 1, num=min(n_points, L - 2))})
    xs, accs = [], []
    for m in marks:
        kk = min(k - 1, m - 1)
        if kk < 1:
            continue
        sub = S[:m, :m]
        top = np.argpartition(-sub, kk - 1, axis=1)[:, :kk]
        w = weight(np.take_along_axis(sub, top, axis=1))
        votes = np.zeros((m, n_cls), dtype=np.float64)
        rows = np.repeat(np.arange(m), kk)
        np.add.at(votes, (rows, y[:m][top].ravel()), w.ravel())
        xs.append(m)
        accs.append(float((votes.argmax(axis=1) == y[:m]).mean()))
    return xs, accs
