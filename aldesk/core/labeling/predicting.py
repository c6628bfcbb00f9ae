"""The session's predictions: for one item (with its neighbours), for every item, leave-one-out accuracy, the audit
record, the zero-shot prior blended in, and the read API the window uses instead of the classifier's arrays.

A part of :class:`aldesk.core.labeling.session.Session` (which it is mixed into).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from aldesk.core.query import zeroshot

if TYPE_CHECKING:
    from aldesk.core.labeling.actions import Action
    from aldesk.core.labeling.ranking import Candidate
    from aldesk.core.model.knn import IncrementalKNN


@dataclass(frozen=True)
class Prediction:
    index: int
    predicted: str | None
    probabilities: dict[str, float]
    neighbours: list[tuple[int, float, str]]  # (item, similarity, its label), most similar first


class Predicting:
    """Predictions, accuracy estimates, the zero-shot prior and the read API of a
    :class:`~aldesk.core.labeling.session.Session`."""

    if TYPE_CHECKING:  # the session's state this part reads (set in Session.__init__)
        classes: list[str]
        knn: IncrementalKNN
        history: list[Action]
        zero_shot: np.ndarray | None
        _ranking: list[Candidate] | None

        @property
        def n(self) -> int: ...

    def _predict_row(self, index: int) -> tuple[str | None, float]:
        zs = self._zero_shot()
        if (self.knn.n_labeled == 0 and zs is None) or not self.classes:
            return None, 0.0
        p = self.knn.probabilities(len(self.classes), np.array([index]))[0]
        if zs is not None:
            p = zeroshot.blend(p[None], zs[[index]], self.knn.n_labeled, self._zs_weight(zs))[0]
        best = int(p.argmax())
        return self.classes[best], float(p[best])

    def audit_records(self) -> list[tuple[int, bool]]:
        """(labels before the audit item was labeled, was the k-NN right) for the audit labels in force."""
        out = []
        n = 0
        for a in self.history:
            if a.op != "label":
                continue
            if a.origin == "audit" and a.predicted is not None:
                out.append((n, a.predicted == a.cls))
            n += sum(1 for p in a.prev if p is None)
        return out

    def loo_accuracy_labeled(self) -> float | None:
        """The same figure as :meth:`loo_accuracy`, computed on the labeled rows only (O(labels), not O(pool)):
        the accuracy chart asks after every label."""
        from aldesk.core.evaluate.curves import loo_accuracy

        return loo_accuracy(self.knn, len(self.classes))

    def loo_accuracy(self) -> float | None:
        """Leave-one-out accuracy over all labels: optimistic, since active picks are not a random sample."""
        lab = self.knn.labeled
        if lab.size < 2:
            return None
        pred, _ = self.predictions()
        return float((pred[lab] == self.knn.label[lab]).mean())

    def predict(self, index: int, n_neighbours: int | None = None) -> Prediction:
        """Prediction and explanation for any item; a labeled item is predicted without its own label. With a
        zero-shot prior it is blended in as everywhere else (before the first label the prior alone predicts, as
        the candidates' suggestions show)."""
        n_cls = max(1, len(self.classes))
        p, nbrs = self.knn.predict_exact(index, n_cls, n_neighbours)
        zs = self._zero_shot()
        if zs is not None:
            p = zeroshot.blend(p[None], zs[[index]], self.knn.n_labeled, self._zs_weight(zs))[0]
        has = (bool(nbrs) or zs is not None) and bool(self.classes)
        return Prediction(
            index=index,
            predicted=self.classes[int(p.argmax())] if has else None,
            probabilities={c: float(p[i]) for i, c in enumerate(self.classes)},
            neighbours=[(j, s, self.classes[self.knn.label[j]]) for j, s in nbrs],
        )

    def predictions(self) -> tuple[np.ndarray, np.ndarray]:
        """Predicted class index and confidence for every item (from the stored top-k; -1 with no labels).

        For labeled items this is leave-one-out: their own label does not vote.
        """
        n_cls = max(1, len(self.classes))
        p = self.knn.probabilities(n_cls, exclude_self=True)
        zs = self._zero_shot()
        if zs is not None:
            p = zeroshot.blend(p, zs, self.knn.n_labeled, self._zs_weight(zs))
        pred = p.argmax(axis=1).astype(np.int32)
        conf = p.max(axis=1)
        if self.knn.n_labeled == 0 and zs is None:
            pred[:] = -1
        return pred, conf

    # ------------------------------------------------------------- zero-shot
    def set_zero_shot(self, zs_prior: np.ndarray | None) -> None:
        """Class probabilities before any label (:mod:`aldesk.core.query.zeroshot`), one column per class, or None.

        They order the first candidates (an item most like each class without a label) and are blended into
        every prediction with a weight that shrinks as labels arrive. A class added later has no column: the
        prior is then ignored (the k-NN alone predicts), never mis-assigned.
        """
        if zs_prior is not None and zs_prior.shape[0] != self.n:
            raise ValueError(f"the zero-shot prior has {zs_prior.shape[0]} rows for {self.n} items")
        self.zero_shot = None if zs_prior is None else np.asarray(zs_prior, dtype=np.float32)
        self._ranking = None

    def _zs_weight(self, zs: np.ndarray) -> float:
        labeled = self.knn.labeled
        return zeroshot.prior_weight(zs[labeled], self.knn.label[labeled])

    def _zero_shot(self) -> np.ndarray | None:
        zs = self.zero_shot
        return zs if zs is not None and zs.shape[1] == len(self.classes) and len(self.classes) > 1 else None

    # ------------------------------------------------------- read API (for the UI)
    # What the window reads of the classifier, by name, so that UI code never reaches into ``self.knn`` (its
    # arrays are the session's state: one stray write would desynchronise labels, votes and the log). Everything
    # returned is a fresh array or a read-only view.
    @property
    def k(self) -> int:
        """Neighbours per vote (the project's saved k, or the default)."""
        return self.knn.k

    def labeled_items(self) -> np.ndarray:
        """The labeled items in the order they were labeled (a reopen keeps the log's order). A copy."""
        return self.knn.labeled

    def label_index(self, items: np.ndarray | None = None) -> np.ndarray:
        """Class index (into :attr:`classes`) of each of ``items`` (indices or a bool mask; all items when None),
        -1 where unlabeled. A copy."""
        return self.knn.label.copy() if items is None else self.knn.label[np.asarray(items)]

    def probabilities(self, items: np.ndarray | None = None) -> np.ndarray:
        """(len(items), len(classes)) class probabilities from the stored top-k votes: no mat-vec, so cheap
        enough for a hover or a restyle of the map. Uniform while nothing is labeled. A labeled item's own vote
        counts; :meth:`predictions` is the leave-one-out reading, :meth:`predict` the exact one."""
        rows = None if items is None else np.asarray(items)
        return self.knn.probabilities(max(1, len(self.classes)), rows)

    def neighbour_slots(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(labeled items, neighbour slots (N, k), their similarities (N, k)): what a project stores on close so
        that the next open skips the N x L x d rebuild (``aldesk.core.neighbours.store.save_knn_state``). Read-only views:
        no copy of two N x k arrays at 1M items."""
        nbr, sim = self.knn.nbr.view(), self.knn.sim.view()
        nbr.flags.writeable = False
        sim.flags.writeable = False
        return self.knn.labeled, nbr, sim
