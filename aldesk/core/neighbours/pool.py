"""The one place a rescan calls when new items join a project: the graph, the density, the stored graph, the
k-NN's state and the map's layout take them in, each without a rebuild (:mod:`.grow`, ``IncrementalKNN.grow``,
``projection.place_new``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from aldesk.core.neighbours.grow import grow_joined
from aldesk.core.progress import CancelFn, ProgressFn

if TYPE_CHECKING:
    from aldesk.core.model.knn import IncrementalKNN
    from aldesk.core.neighbours.store import DensityGraph


@dataclass
class PoolState:
    """What a project keeps per item that new items must join: which items take part, the whole-pool graph (item
    numbering), the k-NN classifier's state and the map's 2-D layout. Any of the last three may be None (not
    built yet: nothing to grow, it will be built whole when needed)."""

    eligible: np.ndarray
    graph: DensityGraph | None = None
    knn: IncrementalKNN | None = None
    layout: np.ndarray | None = None


def take_in(
    state: PoolState,
    vectors: np.ndarray,
    n_old: int,
    *,
    new_eligible: np.ndarray | None = None,
    old_key: str | None = None,
    new_key: str | None = None,
    root: Path | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> PoolState:
    """The state after M items were appended to N old ones, without a rebuild. ``vectors`` (N + M, d) is the whole
    grown pool, old rows first (what a reopened project holds): it is not copied.

    The graph grows from the stored one under ``old_key`` when given (else from ``state.graph``) and is stored under
    ``new_key`` (store.graph_key over the grown item list); the k-NN computes only the new rows (it keeps its
    labels); the layout places the new items among their graph neighbours. ``state.knn`` is changed in place (it
    holds N x k arrays that a copy would double) and is also the returned one.
    """
    from aldesk.core.maps.projection import place_new
    from aldesk.core.neighbours import store

    n, m = n_old, vectors.shape[0] - n_old
    new_ok = np.ones(m, bool) if new_eligible is None else np.asarray(new_eligible, bool)
    eligible = np.concatenate([np.asarray(state.eligible, bool), new_ok])
    graph = None
    if state.graph is not None or old_key:
        if old_key is None and state.graph is not None:  # grow from memory: its compact form
            rows = np.flatnonzero(state.eligible)
            pos = np.full(n, -1, np.int64)
            pos[rows] = np.arange(rows.size)
            compact = (pos[state.graph.indices[rows]], state.graph.similarities[rows])
            idx = np.flatnonzero(eligible)
            joined = vectors if idx.size == n + m else vectors[idx]  # all eligible (the usual case): no copy
            g = grow_joined(joined, *compact, progress=progress, cancel=cancel)
            graph = store.expand_compact(g, idx, n + m)
            if new_key:
                store.save_graph(new_key, g[0], g[1], root)
        else:
            k = state.graph.indices.shape[1] if state.graph is not None else store.builder.DENSITY_K
            graph = store.grow_graph_cached(
                vectors, eligible, n, old_key, new_key, k=k, root=root, progress=progress, cancel=cancel
            )
    knn = state.knn
    if knn is not None:
        knn.grow(vectors)
    layout = state.layout
    if layout is not None:
        if graph is not None:
            layout = place_new(layout, graph.indices[n:], graph.similarities[n:])
        else:
            layout = np.concatenate([layout, np.repeat(np.median(layout, axis=0)[None], m, axis=0)])
    return PoolState(eligible, graph, knn, layout)
