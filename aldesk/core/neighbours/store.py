"""What is costly to recompute on reopening a project, kept on disk beside the embedding cache.

k-NN density of a whole project, computed once; and the labeled neighbours of every item (the k-NN's state),
stored when a project closes so that reopening a large labeled project skips an N x L x d rebuild.

The whole-pool k-NN graph costs seconds (exact) to minutes (pynndescent's JIT + build at large N), so it is built
in the background and stored as two .npy files (indices, similarities; no pickle) keyed by the model and the
content hashes of the items: reopening a project loads it in milliseconds.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aldesk.core.neighbours import builder
from aldesk.core.progress import CancelFn, ProgressFn


def graph_key(model_id: str, hashes: list[str], eligible: np.ndarray, k: int) -> str:
    """A stable key for (model, item contents in order, which items take part, k)."""
    h = hashlib.sha1()
    h.update(f"{model_id}\0{k}\0".encode())
    for digest, ok in zip(hashes, eligible, strict=True):
        h.update(digest.encode() if ok else b"-")
        h.update(b"\0")
    return h.hexdigest()


def default_root() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("aldesk", appauthor=False)) / "graphs"


def _save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, array, allow_pickle=False)
    os.replace(tmp, path)


def _save_pair(base: Path, kind: str, idx: np.ndarray, sims: np.ndarray) -> bool:
    """Store (indices as int32, similarities) as two .npy files; False when the cache cannot be written.

    Similarities first, indices last: a reader needs both, so a kill in between leaves no half pair.
    """
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        _save(base.with_suffix(f".{kind}sim.npy"), sims)
        _save(base.with_suffix(f".{kind}idx.npy"), idx.astype(np.int32, copy=False))
    except OSError:
        return False
    return True


def _load_pair(base: Path, kind: str, n: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """A stored (indices, similarities) pair of equal 2-D shape (n rows when given), or None."""
    try:
        idx = np.load(base.with_suffix(f".{kind}idx.npy"), allow_pickle=False)
        sims = np.load(base.with_suffix(f".{kind}sim.npy"), allow_pickle=False)
    except (OSError, ValueError):
        return None
    if idx.shape != sims.shape or idx.ndim != 2 or (n is not None and idx.shape[0] != n):
        return None
    if idx.size and (int(idx.min()) < 0 or (n is not None and int(idx.max()) >= n)):
        return None
    return idx, sims


def save_graph(key: str, idx: np.ndarray, sims: np.ndarray, root: Path | None = None) -> bool:
    """Store a compact graph under ``key``; False when the cache cannot be written (a recompute next time)."""
    return _save_pair((root or default_root()) / key, "", idx, sims)


def load_graph(key: str, root: Path | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """The stored graph for ``key``, or None when there is none (or it is unreadable)."""
    return _load_pair((root or default_root()) / key, "")


@dataclass(frozen=True)
class DensityGraph:
    """The whole-pool k-NN graph of a project in item indices: density, and each item's neighbours.

    ``indices`` (N, k) int32 and ``similarities`` (N, k) float32; rows of ineligible items point at themselves with
    similarity -inf (no neighbours). ``density`` (N,) is the mean similarity to the k neighbours (0 where ineligible).
    """

    density: np.ndarray
    indices: np.ndarray
    similarities: np.ndarray


def knn_graph_cached(
    vectors: np.ndarray,
    eligible: np.ndarray,
    key: str | None,
    *,
    k: int = builder.DENSITY_K,
    root: Path | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> DensityGraph:
    """The k-NN graph over the eligible items, from the stored one when ``key`` has it (else built and stored)."""
    n = vectors.shape[0]
    idx = np.flatnonzero(eligible)
    if idx.size < 2:
        return DensityGraph(
            np.zeros(n, np.float32),
            np.arange(n, dtype=np.int32)[:, None],
            np.full((n, 1), -np.inf, np.float32),
        )
    graph = load_graph(key, root) if key else None
    if graph is None or graph[1].shape[0] != idx.size:
        # all items eligible (the usual case): no 1.5 GB copy at 1M
        sub = vectors if idx.size == n else np.ascontiguousarray(vectors[idx])
        graph = builder.knn_graph(sub, k, progress=progress, cancel=cancel)
        if key:  # a read-only cache only costs a recompute next time
            _save_pair((root or default_root()) / key, "", graph[0], graph[1])
    return expand_compact(graph, idx, n)


def expand_compact(graph: tuple[np.ndarray, np.ndarray], idx: np.ndarray, n: int) -> DensityGraph:
    """A compact graph over the eligible items ``idx`` as a DensityGraph in item numbering (n items)."""
    g_idx, g_sim = graph
    density = np.zeros(n, dtype=np.float32)
    density[idx] = g_sim.mean(axis=1)
    if idx.size == n:
        return DensityGraph(density, g_idx.astype(np.int32, copy=False), g_sim.astype(np.float32, copy=False))
    indices = np.repeat(np.arange(n, dtype=np.int32)[:, None], g_idx.shape[1], axis=1)
    sims = np.full((n, g_idx.shape[1]), -np.inf, dtype=np.float32)
    indices[idx] = idx[g_idx]
    sims[idx] = g_sim
    return DensityGraph(density, indices, sims)


def grow_graph_cached(
    vectors: np.ndarray,
    eligible: np.ndarray,
    n_old: int,
    old_key: str | None,
    new_key: str | None,
    *,
    k: int = builder.DENSITY_K,
    root: Path | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> DensityGraph:
    """The graph of all items after new ones were appended (items n_old.. are new), grown from the graph
    stored under ``old_key`` (:mod:`.grow`) and stored under ``new_key`` (the same key scheme, :func:`graph_key`
    over the grown item list). Without a usable old graph it is built as :func:`knn_graph_cached` would.
    """
    from aldesk.core.neighbours.grow import grow_joined

    n = vectors.shape[0]
    idx = np.flatnonzero(eligible)
    n_old_elig = int(np.count_nonzero(eligible[:n_old]))
    old = load_graph(old_key, root) if old_key else None
    usable = old is not None and old[0].shape[0] == n_old_elig and n_old_elig > old[0].shape[1]
    if not usable:
        return knn_graph_cached(vectors, eligible, new_key, k=k, root=root, progress=progress, cancel=cancel)
    assert old is not None
    joined = vectors if idx.size == n else vectors[idx]  # all eligible (the usual case): no copy
    graph = grow_joined(joined, old[0], old[1], progress=progress, cancel=cancel)
    if new_key:
        _save_pair((root or default_root()) / new_key, "", graph[0], graph[1])
    return expand_compact(graph, idx, n)


def knn_density_cached(vectors: np.ndarray, eligible: np.ndarray, key: str | None, **kwargs) -> np.ndarray:
    """Density (N,) over the eligible items (0 elsewhere), from the stored graph when ``key`` has one."""
    return knn_graph_cached(vectors, eligible, key, **kwargs).density


# ------------------------------------------------------------ k-NN state
def knn_state_key(vectors_key: str, labeled: np.ndarray, k: int) -> str:
    """Key of the k-NN's neighbour slots: the vectors and the SET of labeled items (order-free), and k."""
    h = hashlib.sha1(f"knn\0{vectors_key}\0{k}\0".encode())
    h.update(np.sort(np.asarray(labeled, dtype=np.int64)).tobytes())
    return h.hexdigest()


def save_knn_state(nbr: np.ndarray, sim: np.ndarray, key: str, root: Path | None = None) -> bool:
    """Store the slots (int32 indices, float32 similarities); False when the cache cannot be written."""
    return _save_pair((root or default_root()) / key, "knn", nbr, sim)


def load_knn_state(
    key: str, n: int, k: int, root: Path | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """The stored slots for ``key`` if they fit (n, k), else None."""
    pair = _load_pair((root or default_root()) / key, "knn", n)
    return pair if pair is not None and pair[0].shape[1] == k else None
