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
from pathlib import Path

import numpy as np

from aldesk.core import scoring
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


def load_graph(key: str, root: Path | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """The stored graph for ``key``, or None when there is none (or it is unreadable)."""
    base = (root or default_root()) / key
    try:
        idx = np.load(base.with_suffix(".idx.npy"), allow_pickle=False)
        sims = np.load(base.with_suffix(".sim.npy"), allow_pickle=False)
    except (OSError, ValueError):
        return None
    if idx.shape != sims.shape or idx.ndim != 2:
        return None
    return idx, sims


def knn_density_cached(
    vectors: np.ndarray,
    eligible: np.ndarray,
    key: str | None,
    *,
    k: int = scoring.DENSITY_K,
    root: Path | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> np.ndarray:
    """Density (N,) over the eligible items (0 elsewhere), from the stored graph when ``key`` has one."""
    out = np.zeros(vectors.shape[0], dtype=np.float32)
    idx = np.flatnonzero(eligible)
    if idx.size < 2:
        return out
    graph = load_graph(key, root) if key else None
    if graph is None or graph[1].shape[0] != idx.size:
        # all items eligible (the usual case): no 1.5 GB copy at 1M
        sub = vectors if idx.size == vectors.shape[0] else np.ascontiguousarray(vectors[idx])
        graph = scoring.knn_graph(sub, k, progress=progress, cancel=cancel)
        if key:
            base = (root or default_root()) / key
            try:
                base.parent.mkdir(parents=True, exist_ok=True)
                # similarities first, indices last: load_graph needs both, so a kill in between leaves no half
                _save(base.with_suffix(".sim.npy"), graph[1])
                _save(base.with_suffix(".idx.npy"), graph[0].astype(np.int32))
            except OSError:
                pass  # a read-only cache only costs a recompute next time
    out[idx] = graph[1].mean(axis=1)
    return out


# ------------------------------------------------------------ k-NN state
def knn_state_key(vectors_key: str, labeled: np.ndarray, k: int) -> str:
    """Key of the k-NN's neighbour slots: the vectors and the SET of labeled items (order-free), and k."""
    h = hashlib.sha1(f"knn\0{vectors_key}\0{k}\0".encode())
    h.update(np.sort(np.asarray(labeled, dtype=np.int64)).tobytes())
    return h.hexdigest()


def save_knn_state(nbr: np.ndarray, sim: np.ndarray, key: str, root: Path | None = None) -> bool:
    """Store the slots (int32 indices, float32 similarities); False when the cache cannot be written."""
    base = (root or default_root()) / key
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        _save(base.with_suffix(".knnsim.npy"), sim)
        _save(base.with_suffix(".knnidx.npy"), nbr.astype(np.int32, copy=False))
    except OSError:
        return False
    return True


def load_knn_state(key: str, n: int, k: int, root: Path | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """The stored slots for ``key`` if they fit (n, k), else None."""
    base = (root or default_root()) / key
    try:
        nbr = np.load(base.with_suffix(".knnidx.npy"), allow_pickle=False)
        sim = np.load(base.with_suffix(".knnsim.npy"), allow_pickle=False)
    except (OSError, ValueError):
        return None
    if nbr.shape != (n, k) or sim.shape != (n, k) or (nbr.size and int(nbr.max()) >= n):
        return None
    return nbr, sim
