"""The k-NN's edits of many rows at once: labels stored in bulk (a reopen), several labels removed or restored
(a class deleted, its undo), items moved between classes (a merge), a class leaving or entering the list, and new
items appended (a rescan). A part of :class:`aldesk.core.model.knn.IncrementalKNN`, mixed into it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from aldesk.core.model.vote import CHUNK, weight


class BatchEdits:
    """Bulk label changes and growth of an :class:`~aldesk.core.model.knn.IncrementalKNN`."""

    if TYPE_CHECKING:  # the classifier's state (set in IncrementalKNN.__init__) and the methods used here
        X: np.ndarray
        k: int
        label: np.ndarray
        nbr: np.ndarray
        sim: np.ndarray
        worst_slot: np.ndarray
        worst_sim: np.ndarray
        best_sim: np.ndarray
        votes: np.ndarray
        total: np.ndarray
        _labeled: list[int]
        _changed: np.ndarray
        _pos: dict[int, int]

        @property
        def n(self) -> int: ...
        @property
        def n_labeled(self) -> int: ...
        def add(self, index: int, cls: int) -> None: ...
        def _ensure_classes(self, cls: int) -> None: ...
        def _recompute(self, rows: np.ndarray) -> None: ...
        def _refresh(self, r: np.ndarray) -> None: ...

    def rebuild(self) -> None:
        """Recompute every item's neighbours from scratch (used by tests and after bulk loads)."""
        self._recompute(np.arange(self.n))

    def _store_labels(self, indices: np.ndarray, classes: np.ndarray) -> None:
        """Record labels (in this order) without touching the neighbour slots."""
        for i, c in zip(indices, classes, strict=True):
            i, c = int(i), int(c)
            self._ensure_classes(c)
            if self.label[i] < 0:
                self._pos[i] = len(self._labeled)
                self._labeled.append(i)
            self.label[i] = c

    def add_many(self, indices: np.ndarray, classes: np.ndarray) -> None:
        """Store many labels at once (reopening a project): one block recomputation instead of many mat-vecs."""
        if len(indices) == 0:
            return  # nothing to store: a fresh project must not pay a pass over every row (0.4 s at 1M)
        self._store_labels(indices, classes)
        self.rebuild()

    def set_labels_with_slots(
        self, indices: np.ndarray, classes: np.ndarray, nbr: np.ndarray, sim: np.ndarray
    ) -> None:
        """Like :meth:`add_many`, but with neighbour slots computed before (a stored state): no similarity work.

        The caller guarantees ``nbr``/``sim`` are the top-k slots of exactly these labeled items.
        """
        if nbr.shape != self.nbr.shape or sim.shape != self.sim.shape:
            raise ValueError("stored neighbour slots do not fit these vectors")
        self._store_labels(indices, classes)
        self.nbr[:] = nbr
        self.sim[:] = sim
        for start in range(0, self.n, CHUNK * 4):
            self._refresh(np.arange(start, min(self.n, start + CHUNK * 4)))

    def remove_many(self, indices: np.ndarray) -> None:
        """Forget several labels at once (a class deleted): the rows that had any of them are recomputed once,
        not once per label."""
        gone = {int(i) for i in indices if self.label[int(i)] >= 0}
        if not gone:
            return
        idx = np.fromiter(gone, dtype=np.int64, count=len(gone))
        self.label[idx] = -1
        self._changed[idx] = True
        self._labeled = [j for j in self._labeled if j not in gone]
        self._pos = {j: p for p, j in enumerate(self._labeled)}
        hit = np.zeros(self.n + 1, dtype=bool)  # slot -1 (empty) reads the extra last cell, which stays False
        hit[idx] = True
        affected = np.flatnonzero(hit[self.nbr].any(axis=1))
        if affected.size:
            self._recompute(affected)

    def restore_many(self, indices: np.ndarray, cls: int) -> None:
        """Label several unlabeled items with one class (a deleted class restored by undo) in one block: the
        similarities of every row to the new items as one matrix product, merged with each row's top-k. The
        same slots as one :meth:`add` per item, at BLAS-3 speed instead of one mat-vec each."""
        items = np.array([int(i) for i in indices if self.label[int(i)] < 0], dtype=np.int64)
        if items.size == 0:
            return
        if self.n_labeled + items.size <= self.k:
            # While at most k are labeled, the slots hold them in labeling order (see _fill_column): keep that.
            for i in items:
                self.add(int(i), cls)
            return
        self._ensure_classes(cls)
        for i in items:
            self._pos[int(i)] = len(self._labeled)
            self._labeled.append(int(i))
        self.label[items] = cls
        XI = self.X[items]
        for start in range(0, self.n, CHUNK):
            r = np.arange(start, min(self.n, start + CHUNK))
            S = np.asarray(self.X[r] @ XI.T, dtype=np.float32)
            cand = np.concatenate([self.nbr[r], np.broadcast_to(items.astype(np.int32), S.shape)], axis=1)
            sims = np.concatenate([self.sim[r], S], axis=1)
            top = np.argpartition(-sims, self.k - 1, axis=1)[:, : self.k]
            self.nbr[r] = np.take_along_axis(cand, top, axis=1)
            self.sim[r] = np.take_along_axis(sims, top, axis=1)
            self._refresh(r)

    def move_items(self, indices: np.ndarray, cls: int) -> None:
        """Relabel several labeled items to ``cls`` at once (a class merged, or that merge undone): their votes
        move in every row that holds them, found in one pass over the slots (not one pass per item)."""
        items = np.asarray([int(i) for i in indices if self.label[int(i)] >= 0], dtype=np.int64)
        if items.size == 0:
            return
        self._ensure_classes(cls)
        hit = np.zeros(self.n + 1, dtype=bool)  # slot -1 (empty) reads the extra last cell, which stays False
        hit[items] = True
        rows, slots = np.nonzero(hit[self.nbr])
        w = weight(self.sim[rows, slots])
        np.add.at(self.votes, (rows, self.label[self.nbr[rows, slots]]), -w)
        np.add.at(self.votes, (rows, np.full(rows.size, cls)), w)
        self.label[items] = cls
        self._changed[rows] = True
        self._changed[items] = True

    def drop_class(self, cls: int) -> None:
        """Class ``cls`` (which no item holds any more) leaves the class list: later classes move down one."""
        if (self.label == cls).any():
            raise ValueError(f"class {cls} still has labels")
        self.label[self.label > cls] -= 1
        self.votes = np.delete(self.votes, cls, axis=1)
        self.votes = np.concatenate([self.votes, np.zeros((self.n, 1))], axis=1)  # keep the spare columns
        self._changed[:] = True

    def insert_class(self, cls: int) -> None:
        """An empty class enters the list at position ``cls`` (undo of a delete or merge): later classes move up."""
        self.label[self.label >= cls] += 1
        self.votes = np.insert(self.votes, cls, 0.0, axis=1)
        self._changed[:] = True

    def grow(self, vectors: np.ndarray) -> None:
        """Take in new items appended after the old ones: ``vectors`` is the whole grown (N + M, d) matrix, its
        first N rows the old vectors. Only the M new rows are computed (one M x L mat-mul against the labeled
        items); no old row changes, since no label was added. A rescan calls this instead of a rebuild.
        """
        n_old = self.n
        if vectors.ndim != 2 or vectors.shape[0] < n_old or vectors.shape[1] != self.X.shape[1]:
            raise ValueError("the grown vectors must keep the old rows first, with the same dimension")
        m = vectors.shape[0] - n_old
        self.X = vectors
        if m == 0:
            return

        def more(a: np.ndarray, fill: float) -> np.ndarray:
            return np.concatenate([a, np.full((m, *a.shape[1:]), fill, dtype=a.dtype)])

        self.label = more(self.label, -1)
        self.nbr = more(self.nbr, -1)
        self.sim = more(self.sim, -np.inf)
        self.worst_slot = more(self.worst_slot, 0)
        self.worst_sim = more(self.worst_sim, -np.inf)
        self.best_sim = more(self.best_sim, -np.inf)
        self.votes = more(self.votes, 0.0)
        self.total = more(self.total, 0.0)
        self._changed = more(self._changed, True)
        new_rows = np.arange(n_old, n_old + m)
        if self.n_labeled:
            self._recompute(new_rows)
        else:  # nothing labeled: the new rows stay empty, as the old ones are
            self.worst_slot[new_rows] = 0
