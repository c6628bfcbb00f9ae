"""On-disk embedding cache: content hash -> vector, one folder per model, append-only .npy shards.

Layout of ``<root>/<model_id>/``::

    meta.json                       model id, dim, card fingerprint, format version
    <shard>.vec.npy                 float32 (n, dim)
    <shard>.keys.npy                |S40 (n,) hex sha1 of each row's content

A shard counts only once its ``.keys.npy`` exists (written last, after the vectors), and every file is written to
a temporary name and moved into place with ``os.replace``, so a process killed mid-write leaves at worst an
orphan temporary file, never a half shard. Rows are buffered in memory and written as one shard every few
thousand rows or seconds (and on close), so 100k items make tens of files, not 100k; :meth:`compact` merges small
shards. Lookups are a dict from hash to (shard, row) built from the key files (~2 MB at 100k items); vectors are
read through memory maps. Nothing is pickled.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Self

import numpy as np

FORMAT = 1
_KEY_DTYPE = "S40"
_ORPHAN_AGE_S = 3600.0  # another process may be writing a younger one


def default_root() -> Path:
    """``user_cache_dir("aldesk")/embeddings``."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("aldesk", appauthor=False)) / "embeddings"


def _safe_name(model_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("._") or "model"


def _atomic_save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        with open(tmp, "wb") as fh:
            np.save(fh, array, allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class EmbeddingCache:
    """Vectors of one model, keyed by content hash. Not thread-safe: use it from one thread.

    Parameters
    ----------
    root : folder holding one sub-folder per model (``default_root()`` if None)
    model_id, dim : the card's id and output size
    fingerprint : the card's fingerprint; a mismatch (card edited, id kept) discards the old vectors
    flush_rows, flush_seconds : write a shard when this many rows are buffered or this long has passed
    """

    def __init__(
        self,
        root: Path | None,
        model_id: str,
        dim: int,
        fingerprint: str = "",
        *,
        flush_rows: int = 4096,
        flush_seconds: float = 30.0,
    ) -> None:
        self.dir = (root if root is not None else default_root()) / _safe_name(model_id)
        self.dim = dim
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self._index: dict[bytes, tuple[str, int]] = {}
        self._shard_rows: dict[str, int] = {}
        self._maps: dict[str, np.ndarray] = {}
        self._pending_keys: list[bytes] = []
        self._pending_vecs: list[np.ndarray] = []
        self._pending_index: dict[bytes, int] = {}
        self._last_flush = time.monotonic()
        self.dir.mkdir(parents=True, exist_ok=True)
        self._check_meta(model_id, fingerprint)
        self._load_index()

    # -- opening -------------------------------------------------------------------------------------------
    def _check_meta(self, model_id: str, fingerprint: str) -> None:
        meta_path = self.dir / "meta.json"
        meta = {"format": FORMAT, "model_id": model_id, "dim": self.dim, "fingerprint": fingerprint}
        try:
            old = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = None
        if old == meta:
            return
        if old is not None:
            # Vectors from a different model under the same id would silently be wrong: start over.
            for path in self.dir.glob("*.npy"):
                path.unlink(missing_ok=True)
        tmp = meta_path.with_name(f"meta.json.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        tmp.write_text(json.dumps(meta, indent=1), encoding="utf-8")
        os.replace(tmp, meta_path)

    def _load_index(self) -> None:
        now = time.time()
        for keys_path in sorted(self.dir.glob("*.keys.npy")):
            shard = keys_path.name.removesuffix(".keys.npy")
            vec_path = self.dir / f"{shard}.vec.npy"
            try:
                keys = np.load(keys_path, allow_pickle=False)
                vecs = np.load(vec_path, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError):
                continue  # unreadable shard: ignore it, its items will simply be embedded again
            if keys.ndim != 1 or vecs.shape != (len(keys), self.dim):
                continue
            self._shard_rows[shard] = len(keys)
            self._maps[shard] = vecs
            for row, key in enumerate(keys.tolist()):
                self._index[key] = (shard, row)
        # Orphans: a kill between the two os.replace calls, or a temp file of a killed writer.
        for path in self.dir.iterdir():
            name = path.name
            orphan = ".tmp-" in name or (
                name.endswith(".vec.npy") and name.removesuffix(".vec.npy") not in self._shard_rows
            )
            if orphan:
                try:
                    if now - path.stat().st_mtime > _ORPHAN_AGE_S:
                        path.unlink()
                except OSError:
                    pass

    # -- reading -------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._index) + sum(1 for k in self._pending_index if k not in self._index)

    def __contains__(self, digest: object) -> bool:
        if not isinstance(digest, str):
            return False
        key = digest.encode("ascii")
        return key in self._index or key in self._pending_index

    def get_many(self, digests: Iterable[str]) -> np.ndarray:
        """Vectors for hashes that are all in the cache, in the given order."""
        keys = [d.encode("ascii") for d in digests]
        out = np.empty((len(keys), self.dim), dtype=np.float32)
        by_shard: dict[str, tuple[list[int], list[int]]] = {}
        for i, key in enumerate(keys):
            pos = self._pending_index.get(key)
            if pos is not None:
                out[i] = self._pending_vecs[pos]
                continue
            shard, row = self._index[key]
            dst, src = by_shard.setdefault(shard, ([], []))
            dst.append(i)
            src.append(row)
        for shard, (dst, src) in by_shard.items():
            order = np.argsort(src)  # sequential reads through the memory map
            out[np.asarray(dst)[order]] = self._maps[shard][np.asarray(src)[order]]
        return out

    # -- writing -------------------------------------------------------------------------------------------
    def put(self, digests: list[str], vectors: np.ndarray) -> None:
        """Add rows; they are readable at once and written to disk at the next flush."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(digests), self.dim):
            raise ValueError(f"expected ({len(digests)}, {self.dim}) vectors, got {vectors.shape}")
        for digest, vec in zip(digests, vectors, strict=True):
            key = digest.encode("ascii")
            if key in self._index or key in self._pending_index:
                continue
            self._pending_index[key] = len(self._pending_keys)
            self._pending_keys.append(key)
            self._pending_vecs.append(vec)
        if len(self._pending_keys) >= self.flush_rows or (
            self._pending_keys and time.monotonic() - self._last_flush >= self.flush_seconds
        ):
            self.flush()

    def _write_shard(self, keys: list[bytes], vecs: np.ndarray) -> str:
        shard = f"{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{secrets.token_hex(4)}"
        _atomic_save(self.dir / f"{shard}.vec.npy", np.ascontiguousarray(vecs, dtype=np.float32))
        _atomic_save(self.dir / f"{shard}.keys.npy", np.asarray(keys, dtype=_KEY_DTYPE))
        return shard

    def flush(self) -> None:
        """Write buffered rows as one shard (durable once this returns)."""
        self._last_flush = time.monotonic()
        if not self._pending_keys:
            return
        keys, vecs = self._pending_keys, np.stack(self._pending_vecs)
        shard = self._write_shard(keys, vecs)
        self._shard_rows[shard] = len(keys)
        self._maps[shard] = np.load(self.dir / f"{shard}.vec.npy", mmap_mode="r", allow_pickle=False)
        for row, key in enumerate(keys):
            self._index[key] = (shard, row)
        self._pending_keys, self._pending_vecs, self._pending_index = [], [], {}

    def compact(self, max_shards: int = 16, small_rows: int = 16384, target_rows: int = 65536) -> None:
        """Merge small shards when there are more than ``max_shards``; duplicates left by a crash are harmless."""
        self.flush()
        small = sorted((n, s) for s, n in self._shard_rows.items() if n < small_rows)
        if len(self._shard_rows) <= max_shards or len(small) < 2:
            return
        groups: list[list[str]] = [[]]
        rows = 0
        for n, shard in small:
            if rows + n > target_rows and groups[-1]:
                groups.append([])
                rows = 0
            groups[-1].append(shard)
            rows += n
        for group in groups:
            if len(group) < 2:
                continue
            keys_parts = [np.load(self.dir / f"{s}.keys.npy", allow_pickle=False) for s in group]
            vecs = np.concatenate([np.asarray(self._maps[s]) for s in group])
            keys = np.concatenate(keys_parts)
            merged = self._write_shard(keys.tolist(), vecs)
            self._shard_rows[merged] = len(keys)
            self._maps[merged] = np.load(self.dir / f"{merged}.vec.npy", mmap_mode="r", allow_pickle=False)
            for row, key in enumerate(keys.tolist()):
                self._index[key] = (merged, row)
            for shard in group:
                self._maps.pop(shard, None)
                self._shard_rows.pop(shard, None)
                # Keys first: without its keys file a shard no longer counts, even if the vectors linger.
                for suffix in (".keys.npy", ".vec.npy"):
                    try:
                        (self.dir / f"{shard}{suffix}").unlink(missing_ok=True)
                    except OSError:
                        pass  # e.g. memory-mapped by another process on Windows; it is only a duplicate

    def close(self) -> None:
        self.flush()
        self._maps.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
