"""Incremental k-NN classifier over L2-normalised embeddings (cosine similarity = dot product).

"Learning" a label only stores it: every item keeps its top-k most similar labeled items, their class votes and
its similarity to the closest labeled item. Adding a label updates all of them with ONE (N x d) mat-vec and work
proportional to the rows whose top-k changed (SCORING.md). Removing a label (undo) recomputes only the rows whose
top-k contained it, against the labeled set. A relabel moves votes between classes; no similarity is recomputed.
"""

from __future__ import annotations

import numpy as np

from aldesk.core.model.knn_batch import BatchEdits
from aldesk.core.model.vote import CHUNK, PRIOR, TAU, weight

__all__ = ["CHUNK", "PRIOR", "TAU", "IncrementalKNN", "weight"]  # the vote's constants live in .vote


class IncrementalKNN(BatchEdits):
    """Top-k labeled neighbours of every item, kept up to date label by label.

    Parameters
    ----------
    vectors : (N, d) float32, L2-normalised rows. Not copied.
    k : number of neighbours.

    Labels are class indices (0, 1, …) into a class list held by the caller; -1 means unlabeled.
    Per item it keeps: neighbour slots (unsorted), the weakest slot, class votes (sum of weights per class),
    their total, and the similarity to the closest labeled item.
    """

    def __init__(self, vectors: np.ndarray, k: int = 10) -> None:
        if vectors.ndim != 2:
            raise ValueError("vectors must be a 2-D array")
        if k < 1:
            raise ValueError("k must be at least 1")
        self.X = vectors
        self.k = int(k)
        n = vectors.shape[0]
        self.label = np.full(n, -1, dtype=np.int32)
        self.nbr = np.full((n, self.k), -1, dtype=np.int32)
        self.sim = np.full((n, self.k), -np.inf, dtype=np.float32)
        self.worst_slot = np.zeros(n, dtype=np.int32)
        self.worst_sim = np.full(n, -np.inf, dtype=np.float32)
        self.best_sim = np.full(n, -np.inf, dtype=np.float32)
        # float64 votes: incremental +/- of weights must not drift from a from-scratch sum.
        self.votes = np.zeros((n, 4), dtype=np.float64)
        self.total = np.zeros(n, dtype=np.float64)
        self._labeled: list[int] = []  # in labeling order
        # Rows whose neighbour slots, votes or label changed since the last take_changed() (for caches of
        # per-row measures, such as the expected error reduction).
        self._changed = np.ones(n, dtype=bool)
        self._pos: dict[int, int] = {}

    # ----------------------------------------------------------------- state
    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def labeled(self) -> np.ndarray:
        """Indices of labeled items, in the order they were labeled."""
        return np.fromiter(self._labeled, dtype=np.int64, count=len(self._labeled))

    @property
    def n_labeled(self) -> int:
        return len(self._labeled)

    def _ensure_classes(self, cls: int) -> None:
        if cls >= self.votes.shape[1]:
            grown = np.zeros((self.n, max(cls + 1, 2 * self.votes.shape[1])), dtype=np.float64)
            grown[:, : self.votes.shape[1]] = self.votes
            self.votes = grown

    # ---------------------------------------------------------------- update
    def add(self, index: int, cls: int) -> None:
        """Store a label; if the item was labeled already, only its votes move to the new class."""
        if cls < 0:
            raise ValueError("class index must be >= 0")
        index = int(index)
        self._ensure_classes(cls)
        old = int(self.label[index])
        if old >= 0:
            if old != cls:
                rows, slots = np.nonzero(self.nbr == index)
                self._changed[rows] = True
                self._changed[index] = True
                w = weight(self.sim[rows, slots])
                self.votes[rows, old] -= w
                self.votes[rows, cls] += w
            self.label[index] = cls
            return
        self.label[index] = cls
        self._changed[index] = True
        self._pos[index] = len(self._labeled)
        self._labeled.append(index)
        s = self.X @ self.X[index]  # the one mat-vec
        self._merge(np.asarray(s, dtype=np.float32), index, cls)

    def _merge(self, s: np.ndarray, index: int, cls: int) -> None:
        filled = self.n_labeled - 1  # labeled items before this one
        if filled < self.k:
            self._fill_column(s, index, cls, filled)
            return
        # Each row whose weakest slot is weaker than the new labeled item replaces it.
        r = np.flatnonzero(s > self.worst_sim)
        if r.size == 0:
            return
        self._changed[r] = True
        slot = self.worst_slot[r]
        old_nbr = self.nbr[r, slot]
        had = old_nbr >= 0
        if had.any():
            rh = r[had]
            w_old = weight(self.sim[rh, slot[had]])
            self.votes[rh, self.label[old_nbr[had]]] -= w_old
            self.total[rh] -= w_old
        sr = s[r]
        w_new = weight(sr)
        self.votes[r, cls] += w_new
        self.total[r] += w_new
        self.nbr[r, slot] = index
        self.sim[r, slot] = sr
        np.maximum(self.best_sim[r], sr, out=sr)
        self.best_sim[r] = sr
        sub = self.sim[r]
        ws = np.argmin(sub, axis=1)
        self.worst_slot[r] = ws
        self.worst_sim[r] = sub[np.arange(r.size), ws]

    def _fill_column(self, s: np.ndarray, index: int, cls: int, col: int) -> None:
        """While fewer than k items are labeled, every row holds all of them in columns 0..col-1 (in labeling
        order), so the new one goes to column ``col`` of EVERY row: whole-column writes, no fancy indexing
        (at 1M rows this is ~20x cheaper than the general merge, and it is what the first k labels cost)."""
        self._changed[:] = True
        self.nbr[:, col] = index
        self.sim[:, col] = s
        w = weight(s)
        self.votes[:, cls] += w
        self.total += w
        np.maximum(self.best_sim, s, out=self.best_sim)
        if col + 1 < self.k:
            self.worst_slot[:] = col + 1  # the next empty column (-inf) is the weakest slot
        else:
            ws = np.argmin(self.sim, axis=1)
            self.worst_slot[:] = ws
            self.worst_sim[:] = np.take_along_axis(self.sim, ws[:, None], axis=1)[:, 0]

    def remove(self, index: int) -> None:
        """Forget a label (undo). Rows that had it among their neighbours are recomputed exactly."""
        index = int(index)
        if self.label[index] < 0:
            return
        self.label[index] = -1
        self._changed[index] = True
        pos = self._pos.pop(index)
        self._labeled.pop(pos)
        for j in self._labeled[pos:]:
            self._pos[j] -= 1
        affected = np.flatnonzero((self.nbr == index).any(axis=1))
        if affected.size:
            self._recompute(affected)

    def _recompute(self, rows: np.ndarray) -> None:
        lab = self.labeled
        kk = min(self.k, lab.size)
        XL = self.X[lab] if lab.size else None
        for start in range(0, rows.size, CHUNK):
            r = rows[start : start + CHUNK]
            self.nbr[r] = -1
            self.sim[r] = -np.inf
            if kk:
                assert XL is not None  # kk > 0 only when there are labels
                S = np.asarray(self.X[r] @ XL.T, dtype=np.float32)
                if kk < lab.size:
                    top = np.argpartition(-S, kk - 1, axis=1)[:, :kk]
                else:
                    top = np.broadcast_to(np.arange(lab.size), (r.size, lab.size))
                self.nbr[r, :kk] = lab[top]
                self.sim[r, :kk] = np.take_along_axis(S, top, axis=1)
            self._refresh(r)

    def _refresh(self, r: np.ndarray) -> None:
        """Votes, totals, weakest and best slot of rows ``r`` from their neighbour slots."""
        self._changed[r] = True
        nbr = self.nbr[r]
        sim = self.sim[r]
        valid = nbr >= 0
        w = np.where(valid, weight(sim), 0.0)
        cls = np.where(valid, self.label[np.where(valid, nbr, 0)], 0)
        self.votes[r] = 0.0
        rr = np.arange(r.size)
        block = np.zeros((r.size, self.votes.shape[1]), dtype=np.float64)
        for j in range(self.k):  # k vector ops; within one column each row appears once, so += is safe
            block[rr, cls[:, j]] += w[:, j]
        self.votes[r] = block
        self.total[r] = w.sum(axis=1)
        ws = np.argmin(sim, axis=1)
        self.worst_slot[r] = ws
        self.worst_sim[r] = sim[rr, ws]
        self.best_sim[r] = sim.max(axis=1)

    def take_changed(self) -> np.ndarray:
        """Which rows changed (neighbours, votes or own label) since the last call; resets the record."""
        out = self._changed
        self._changed = np.zeros(self.n, dtype=bool)
        return out

    # ------------------------------------------------------------ prediction
    def probabilities(
        self, n_classes: int, rows: np.ndarray | None = None, *, exclude_self: bool = False
    ) -> np.ndarray:
        """Class probabilities (len(rows), n_classes): weighted votes of the top-k plus a uniform prior.

        With no labels every row is uniform. ``exclude_self`` removes a labeled item's own vote (leave-one-out
        over its remaining k-1 neighbours); use :meth:`predict_exact` for an exact explanation.
        """
        if n_classes < 1:
            raise ValueError("need at least one class")
        self._ensure_classes(n_classes - 1)
        if rows is None:
            v = self.votes[:, :n_classes].copy()
            t = self.total.copy()
        else:
            v = self.votes[rows, :n_classes]
            t = self.total[rows]
        if exclude_self:
            own = np.arange(self.n) if rows is None else np.asarray(rows)
            lab = self.label[own]
            hit = np.flatnonzero(lab >= 0)
            if hit.size:
                slots = self.nbr[own[hit]] == own[hit, None]
                w_self = np.where(slots, weight(self.sim[own[hit]]), 0.0).sum(axis=1)
                v[hit, lab[hit]] -= w_self
                t[hit] -= w_self
        return _normalise(v, t, n_classes)

    def max_similarity(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Similarity to the closest labeled item (-inf where nothing is labeled)."""
        return self.best_sim if rows is None else self.best_sim[rows]

    def predict_exact(
        self, index: int, n_classes: int, k: int | None = None
    ) -> tuple[np.ndarray, list[tuple[int, float]]]:
        """Probabilities and nearest labeled neighbours of one item, excluding the item itself.

        Returns (probabilities (n_classes,), [(labeled index, similarity), ...] most similar first).
        """
        k = self.k if k is None else k
        lab = self.labeled
        lab = lab[lab != index]
        if lab.size == 0:
            return np.full(n_classes, 1.0 / n_classes), []
        s = self.X[lab] @ self.X[index]
        kk = min(k, lab.size)
        top = np.argpartition(-s, kk - 1)[:kk] if kk < lab.size else np.arange(lab.size)
        top = top[np.argsort(-s[top], kind="stable")]
        neighbours = [(int(lab[t]), float(s[t])) for t in top]
        votes = np.zeros((1, n_classes), dtype=np.float64)
        for j, sj in neighbours:
            votes[0, self.label[j]] += float(weight(sj))
        return _normalise(votes, votes.sum(axis=1), n_classes)[0], neighbours


def _normalise(votes: np.ndarray, total: np.ndarray, n_classes: int) -> np.ndarray:
    """(votes + prior) / (total + prior mass), the prior being PRIOR x the row's total; uniform where empty."""
    p = votes + (PRIOR / n_classes) * total[:, None]
    denom = (1.0 + PRIOR) * total
    empty = denom <= 0
    p /= np.where(empty, 1.0, denom)[:, None]
    if empty.any():
        p[empty] = 1.0 / n_classes
    return p
