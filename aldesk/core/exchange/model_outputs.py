"""What the k-NN knows about each item, for the exports that need more than the labels: predictions (``--predicted``),
which items loaded (``eligible``), the embeddings (``embeddings``, ``parquet --vectors``) and out-of-sample class
probabilities of the labeled items (``cleanlab``).

cleanlab's ``find_label_issues`` needs OUT-OF-SAMPLE ``pred_probs``: a model that saw an item's label predicts it
back and hides the error. :func:`loo_probabilities` is the exact leave-one-out k-NN: each labeled item's k most
similar OTHER labeled items vote with the same kernel and prior as the session (:mod:`aldesk.core.model.knn`),
so row i equals ``Session.predict(i).probabilities``. The session's stored top-k (``predictions()``) only drops
the item's own vote from its k slots; exact matters here because cleanlab ranks by these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aldesk.core.model.knn import PRIOR, weight

# Labeled rows per block of the (block x labeled) similarity matrix: bounds the temporary to ~64 MB at 8k labels.
BLOCK = 2048


@dataclass
class ModelOutputs:
    """Per item (row i = item i): the session's predictions and what they were made from."""

    classes: list[str]
    predicted: list[str | None]
    confidence: np.ndarray  # float64 (N,)
    eligible: np.ndarray  # bool (N,): False where the item failed to load
    vectors: np.ndarray  # float32 (N, d), L2-normalised; zeros where not eligible
    label_index: np.ndarray  # int (N,): class index, -1 unlabeled
    k: int
    reasons: dict[int, str] = field(default_factory=dict)  # why an item is not eligible

    def loo_probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Exact leave-one-out class probabilities (len(rows), len(classes)) of labeled ``rows``."""
        return loo_probabilities(self.vectors, self.label_index, len(self.classes), self.k, rows)


def from_session(session: object, reasons: dict[int, str] | None = None) -> ModelOutputs:
    """The outputs of a restored labeling session (:class:`aldesk.core.labeling.session.Session`)."""
    from aldesk.core.exchange.rows import session_predictions

    predicted, confidence = session_predictions(session)
    return ModelOutputs(
        classes=list(session.classes),  # type: ignore[attr-defined]
        predicted=predicted,
        confidence=confidence,
        eligible=np.array(session.eligible, dtype=np.bool_),  # type: ignore[attr-defined]
        vectors=session.X,  # type: ignore[attr-defined]
        label_index=session.label_index(),  # type: ignore[attr-defined]
        k=int(session.k),  # type: ignore[attr-defined]
        reasons=dict(reasons or {}),
    )


def loo_probabilities(
    vectors: np.ndarray, label_index: np.ndarray, n_classes: int, k: int, rows: np.ndarray
) -> np.ndarray:
    """For each labeled item in ``rows``: the weighted votes of its k most similar other labeled items plus the
    session's uniform prior (PRIOR x the row's total), normalised; uniform when it is the only label."""
    label_index = np.asarray(label_index)
    rows = np.asarray(rows, dtype=np.int64)
    lab = np.flatnonzero(label_index >= 0)
    out = np.full((rows.size, n_classes), 1.0 / max(1, n_classes), dtype=np.float64)
    if lab.size < 2 or rows.size == 0:
        return out
    pos = {int(j): n for n, j in enumerate(lab)}
    X_lab = vectors[lab]
    cls_lab = label_index[lab]
    kk = min(k, lab.size - 1)
    for start in range(0, rows.size, BLOCK):
        r = rows[start : start + BLOCK]
        s = (vectors[r] @ X_lab.T).astype(np.float64)
        for n, i in enumerate(r):  # the item itself never votes
            if int(i) in pos:
                s[n, pos[int(i)]] = -np.inf
        top = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
        w = weight(np.take_along_axis(s, top, axis=1))
        votes = np.zeros((r.size, n_classes), dtype=np.float64)
        np.add.at(votes, (np.repeat(np.arange(r.size), kk), cls_lab[top].ravel()), w.ravel())
        total = votes.sum(axis=1)
        p = votes + (PRIOR / n_classes) * total[:, None]
        denom = (1.0 + PRIOR) * total
        ok = denom > 0
        p[ok] /= denom[ok, None]
        p[~ok] = 1.0 / n_classes
        out[start : start + r.size] = p
    return out
