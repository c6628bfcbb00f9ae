"""A session's k-NN state after a rescan appended items: the neighbour slots stored for the old items take the new
rows in (``IncrementalKNN.grow``: M x L x d) instead of the N x L x d rebuild of every row.

The slots of an old row depend only on its vector and the labeled items' vectors, and a rescan adds no label, so
they stay right as long as the old items' vectors are the ones the slots were computed from. The stored key
(:func:`aldesk.core.neighbours.store.knn_state_key`) pins the labeled set; :func:`grown_slots` also recomputes the
labeled items' own rows and refuses slots that no longer match their vectors (a labeled item's file changed under
its name: every row's votes would be off). An unlabeled old item whose content changed keeps its stored row, as the
grown neighbour graph keeps it (``store.grow_graph_cached``): a rescan appends items, it does not re-embed old ones.
"""

from __future__ import annotations

import numpy as np

from aldesk.core.model.knn import IncrementalKNN

# Slack between a stored similarity and the one recomputed from today's vectors (float32 mat-mul rounding).
SIM_TOLERANCE = 1e-4


def grown_slots(
    vectors: np.ndarray, labeled: np.ndarray, nbr_old: np.ndarray, sim_old: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The (N + M, k) neighbour slots of ``vectors`` (old items first) from the slots (N, k) stored for the old
    items with exactly ``labeled`` labeled: the old rows as stored, the M new rows computed. None when the stored
    slots cannot be trusted (a labeled item is new, or a labeled item's vector changed since they were stored)."""
    labeled = np.asarray(labeled, dtype=np.int64)
    n_old, k = nbr_old.shape
    if n_old > vectors.shape[0] or (labeled.size and int(labeled.max()) >= n_old):
        return None
    if not _labeled_rows_match(vectors, labeled, nbr_old, sim_old):
        return None
    knn = IncrementalKNN(vectors[:n_old], k)
    # classes do not matter for slots (which labeled items, how similar): one placeholder class
    knn.set_labels_with_slots(labeled, np.zeros(labeled.size, np.int32), nbr_old, sim_old)
    knn.grow(vectors)
    return knn.nbr, knn.sim


def _labeled_rows_match(vectors: np.ndarray, labeled: np.ndarray, nbr: np.ndarray, sim: np.ndarray) -> bool:
    """Each labeled item's stored slots hold the similarities today's vectors give (L x k dot products)."""
    if labeled.size == 0:
        return True
    rows_nbr, rows_sim = nbr[labeled], sim[labeled]
    valid = rows_nbr >= 0
    if (rows_nbr[valid] >= vectors.shape[0]).any():
        return False
    safe = np.where(valid, rows_nbr, 0)
    now = np.einsum("ld,lkd->lk", vectors[labeled], vectors[safe], dtype=np.float32)
    return bool(np.all(np.abs(now - rows_sim)[valid] <= SIM_TOLERANCE))
