"""Incremental k-NN classifier over L2-normalised embeddings (cosine similarity = dot product).

"Learning" a label only stores it: every item keeps its top-k most similar labeled items, and adding a label
updates all of them with ONE (N x d) mat-vec and an O(N k) merge (SCORING.md). Removing a label (undo) recomputes
only the items whose top-k contained it, against the labeled set.
"""

from __future__ import annotations

import numpy as np

# Weight of a neighbour = max(sim, 0) + EPS, so that a neighbour at similarity <= 0 still votes a little.
EPS = 1e-3
# Total smoothing mass spread evenly over the known classes (a Dirichlet-like prior).
PRIOR = 0.1
# Rows computed per chunk when a whole block of similarities is needed (bounds memory at ~64 MB per chunk).
CHUNK = 16384


class IncrementalKNN:
    """Top-k labeled neighbours of every item, kept up to date label by label.

    Parameters
    ----------
    vectors : (N, d) float32, L2-normalised rows. Not copied.
    k : number of neighbours.

    Labels are class indices (0..C-1) into a class list held by the caller; -1 means unlabeled.
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
        # Neighbour slots: item index (-1 = empty) and similarity (-inf = empty), unsorted.
        self.nbr = np.full((n, self.k), -1, dtype=np.int64)
        self.sim = np.full((n, self.k), -np.inf, dtype=np.float32)
        self._labeled: list[int] = []  # in labeling order
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

    # ---------------------------------------------------------------- update
    def add(self, index: int, cls: int) -> None:
        """Store a label; if the item was labeled already, only its class changes (no similarity work)."""
        if cls < 0:
            raise ValueError("class index must be >= 0")
        index = int(index)
        if self.label[index] >= 0:
            self.label[index] = cls
            return
        self.label[index] = cls
        self._pos[index] = len(self._labeled)
        self._labeled.append(index)
        s = self.X @ self.X[index]  # the one mat-vec
        self._merge(s.astype(np.float32, copy=False), index)

    def _merge(self, s: np.ndarray, index: int) -> None:
        # Replace each row's weakest slot when the new labeled item is closer. Empty slots hold -inf, so they
        # fill first. O(N k) for the argmin, O(#changed) for the writes.
        worst = np.argmin(self.sim, axis=1)
        rows = np.arange(self.n)
        better = s > self.sim[rows, worst]
        r = rows[better]
        c = worst[better]
        self.sim[r, c] = s[better]
        self.nbr[r, c] = index

    def remove(self, index: int) -> None:
        """Forget a label (undo). Items that had it among their neighbours are recomputed exactly."""
        index = int(index)
        if self.label[index] < 0:
            return
        self.label[index] = -1
        pos = self._pos.pop(index)
        self._labeled.pop(pos)
        for j in self._labeled[pos:]:
            self._pos[j] -= 1
        affected = np.flatnonzero((self.nbr == index).any(axis=1))
        if affected.size:
            self._recompute(affected)

    def _recompute(self, rows: np.ndarray) -> None:
        lab = self.labeled
        self.nbr[rows] = -1
        self.sim[rows] = -np.inf
        if lab.size == 0:
            return
        kk = min(self.k, lab.size)
        XL = self.X[lab]
        for start in range(0, rows.size, CHUNK):
            r = rows[start : start + CHUNK]
            S = (self.X[r] @ XL.T).astype(np.float32, copy=False)
            if kk < lab.size:
                top = np.argpartition(-S, kk - 1, axis=1)[:, :kk]
            else:
                top = np.broadcast_to(np.arange(lab.size), (r.size, lab.size))
            self.nbr[r[:, None], np.arange(kk)] = lab[top]
            self.sim[r[:, None], np.arange(kk)] = np.take_along_axis(S, top, axis=1)

    def rebuild(self) -> None:
        """Recompute every item's neighbours from scratch (used by tests and after bulk loads)."""
        self._recompute(np.arange(self.n))

    def add_many(self, indices: np.ndarray, classes: np.ndarray) -> None:
        """Store many labels at once (reopening a project): one block recomputation instead of many mat-vecs."""
        new = [(int(i), int(c)) for i, c in zip(indices, classes, strict=True)]
        for i, c in new:
            if self.label[i] < 0:
                self._pos[i] = len(self._labeled)
                self._labeled.append(i)
            self.label[i] = c
        self.rebuild()

    # ------------------------------------------------------------ prediction
    def probabilities(
        self, n_classes: int, rows: np.ndarray | None = None, *, exclude_self: bool = False
    ) -> np.ndarray:
        """Class probabilities (len(rows), n_classes): weighted votes of the top-k plus a uniform prior.

        With no labels at all every row is uniform. ``exclude_self`` drops an item's own label from its vote
        (leave-one-out for labeled items); rows then need one spare slot, so it is approximate when the item is
        among its own k neighbours and k is small — use :meth:`predict_exact` for explanations.
        """
        if n_classes < 1:
            raise ValueError("need at least one class")
        nbr = self.nbr if rows is None else self.nbr[rows]
        sim = self.sim if rows is None else self.sim[rows]
        m = nbr.shape[0]
        scores = np.full((m, n_classes), PRIOR / n_classes, dtype=np.float32)
        valid = nbr >= 0
        if exclude_self:
            own = np.arange(self.n) if rows is None else np.asarray(rows)
            valid &= nbr != own[:, None]
        w = np.where(valid, np.maximum(sim, 0.0) + EPS, 0.0).astype(np.float32)
        cls = np.where(valid, self.label[np.where(valid, nbr, 0)], 0)
        rr = np.arange(m)
        for j in range(nbr.shape[1]):  # k columns: k vector ops, no loop over items
            # Fancy-index add is safe: within one column each row appears once (no duplicate indices).
            scores[rr, cls[:, j]] += w[:, j]
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

    def max_similarity(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Similarity to the closest labeled item (-inf where nothing is labeled)."""
        sim = self.sim if rows is None else self.sim[rows]
        return sim.max(axis=1)

    def predict_exact(self, index: int, n_classes: int, k: int | None = None) -> tuple[np.ndarray, list[tuple[int, float]]]:
        """Probabilities and nearest labeled neighbours of one item, excluding the item itself.

        Returns (probabilities (n_classes,), [(labeled index, similarity), ...] most similar first).
        """
        k = self.k if k is None else k
        lab = self.labeled
        lab = lab[lab != index]
        scores = np.full(n_classes, PRIOR / n_classes, dtype=np.float64)
        if lab.size == 0:
            return scores / scores.sum(), []
        s = self.X[lab] @ self.X[index]
        kk = min(k, lab.size)
        top = np.argpartition(-s, kk - 1)[:kk] if kk < lab.size else np.arange(lab.size)
        top = top[np.argsort(-s[top], kind="stable")]
        neighbours = [(int(lab[t]), float(s[t])) for t in top]
        for j, sj in neighbours:
            scores[self.label[j]] += max(sj, 0.0) + EPS
        return scores / scores.sum(), neighbours

