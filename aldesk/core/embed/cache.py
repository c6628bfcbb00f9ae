"""On-disk embedding cache: content hash -> vector, one folder per model, append-only .npy shards.

Layout of ``<root>/<model_id>/``::

    meta.json                       model id, dim, card fingerprint, format version
    <shard>.vec.npy                 float32 (n, dim)
    <shard>.keys.npy                |S40 (n,) hex sha1 of each row's content

A shard counts only once its ``.keys.npy`` exists (written last, after the vectors), and every file is written to
a temporary name and moved into place with ``os.replace``, so a process killed mid-write leaves at worst an
orphan temporary file, never a half shard. Rows are buffered in memory and written as one shard every few
thousand rows or seconds (and on close), so 100k items make tens of files, not 100k; :meth:`compact` merges small
shards. Lookups are a dict from hash (ascii bytes) to one int (shard number << 32 | row) built from the key files
(~150 MB of Python objects at 1M items); vectors are read through memory maps, in bounded chunks whose pages are released
right after the copy, so reading 1M x 384 vectors costs the output array and not a second 1.5 GB of mapped pages.
Nothing is pickled.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import secrets
import time
from collections.abc import Iterable
from itertools import repeat
from pathlib import Path
from typing import Self

import numpy as np

FORMAT = 1
_KEY_DTYPE = "S40"
_ORPHAN_AGE_S = 3600.0  # another process may be writing a younger one
_READ_CHUNK = 16384  # rows copied per step in get_many (6 MB at d=384): bounds temporaries and mapped pages
_ROW_BITS = 32  # an index value is shard_number << 32 | row


class _Shard:
    """One shard's vectors, memory-mapped read-only (our own mmap, so pages can be released after a copy)."""

    def __init__(self, path: Path, dim: int, rows: int) -> None:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                raise ValueError(f"{path.name}: .npy format {version}")
            offset = fh.tell()
            if shape != (rows, dim) or fortran or dtype != np.dtype(np.float32):
                raise ValueError(f"{path.name}: unexpected array {shape} {dtype}")
            size = os.fstat(fh.fileno()).st_size
            if size < offset + rows * dim * 4:
                raise ValueError(f"{path.name}: truncated")
            self._mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if rows else None
        self.offset = offset
        self.row_bytes = dim * 4
        self.vecs = (
            np.frombuffer(self._mm, np.float32, rows * dim, offset).reshape(rows, dim)
            if self._mm is not None
            else np.zeros((0, dim), np.float32)
        )

    def release(self, lo: int, hi: int) -> None:
        """Drop rows [lo, hi) from this process's resident pages (they stay in the OS page cache)."""
        if self._mm is None or not hasattr(self._mm, "madvise"):
            return
        start = (self.offset + lo * self.row_bytes) // mmap.PAGESIZE * mmap.PAGESIZE
        stop = min(len(self._mm), self.offset + hi * self.row_bytes)
        if stop > start:
            try:
                self._mm.madvise(mmap.MADV_DONTNEED, start, stop - start)
            except (OSError, ValueError, AttributeError):
                pass  # only a memory optimisation


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


def _encode(digests: list[str]) -> list[bytes]:
    """ascii bytes of many hashes at once (numpy encodes in C, ~5x faster than str.encode one by one)."""
    arr = np.array(digests, dtype="S") if digests else np.zeros(0, "S1")  # UnicodeEncodeError if not ascii
    if arr.dtype.itemsize > 64:  # keys are 40 bytes: do not let one odd string size a huge array
        return [d.encode("ascii") for d in digests]
    return arr.tolist()


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
        # ascii hex digest -> shard number << 32 | row (bytes: built straight from the .keys.npy files)
        self._index: dict[bytes, int] = {}
        self._shard_rows: dict[str, int] = {}
        self._maps: dict[str, _Shard] = {}
        self._numbers: dict[str, int] = {}  # shard name -> its number in _by_number
        self._by_number: list[str | None] = []
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
                if keys.ndim != 1:
                    continue
                vecs = _Shard(vec_path, self.dim, len(keys))
            except (OSError, ValueError):
                continue  # unreadable shard: ignore it, its items will simply be embedded again
            self._add_shard(shard, vecs, keys.tolist())
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

    def _add_shard(self, shard: str, vecs: _Shard, keys: list[bytes]) -> None:
        number = len(self._by_number)
        self._by_number.append(shard)
        self._numbers[shard] = number
        self._shard_rows[shard] = len(keys)
        self._maps[shard] = vecs
        base = number << _ROW_BITS
        self._index.update(
            zip(keys, range(base, base + len(keys)), strict=True)
        )  # later shards win, like before

    def _drop_shard(self, shard: str) -> None:
        self._maps.pop(shard, None)
        self._shard_rows.pop(shard, None)
        number = self._numbers.pop(shard, None)
        if number is not None:
            self._by_number[number] = None

    # -- reading -------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._index) + sum(1 for k in self._pending_index if k not in self._index)

    def __contains__(self, digest: object) -> bool:
        if not isinstance(digest, str):
            return False
        key = digest.encode("ascii")
        return key in self._index or key in self._pending_index

    def get_many(
        self,
        digests: list[str] | Iterable[str],
        out: np.ndarray | None = None,
        rows: np.ndarray | None = None,
    ) -> np.ndarray:
        """Vectors for hashes that are all in the cache, in the given order (KeyError for one that is not).

        With ``out`` (float32 (m, dim)), vector i is written to ``out[rows[i]]`` (``out[i]`` if ``rows`` is
        None) with no intermediate copy, and ``out`` is returned: reading 1M cached vectors then costs the
        output array only.
        """
        digests = digests if isinstance(digests, list) else list(digests)
        if out is None:
            out = np.empty((len(digests), self.dim), dtype=np.float32)
        found = self.read_into(digests, out, rows)
        if not found.all():
            raise KeyError(digests[int(np.argmin(found))])
        return out

    def read_into(self, digests: list[str], out: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Write the cached vector of ``digests[i]`` to ``out[rows[i]]`` (``out[i]`` if ``rows`` is None) for
        every hash in the cache; returns bool (n,), which were. One lookup pass, chunked sequential reads."""
        n = len(digests)
        if out.dtype != np.float32 or out.ndim != 2 or out.shape[1] != self.dim:
            raise ValueError(f"out must be float32 (m, {self.dim}), got {out.dtype} {out.shape}")
        dst_rows = np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64)
        if dst_rows.shape != (n,):
            raise ValueError(f"{n} hashes but {dst_rows.shape} rows")
        keys = _encode(digests)
        codes = np.fromiter(map(self._index.get, keys, repeat(-1)), dtype=np.int64, count=n)
        found = codes >= 0
        pending = self._pending_index
        for i in np.flatnonzero(~found).tolist():
            pos = pending.get(keys[i])
            if pos is not None:
                out[dst_rows[i]] = self._pending_vecs[pos]
                found[i] = True
        order = np.argsort(codes, kind="stable")  # by shard, then row: sequential reads
        order = order[np.searchsorted(codes[order], 0) :]  # drop the -1s
        codes = codes[order]
        shard_no = codes >> _ROW_BITS
        src_all = codes & ((1 << _ROW_BITS) - 1)
        dst_all = dst_rows[order]
        bounds = (np.flatnonzero(np.diff(shard_no)) + 1).tolist()
        for lo, hi in zip([0, *bounds], [*bounds, codes.size], strict=True):
            if lo == hi:
                continue
            name = self._by_number[int(shard_no[lo])]
            assert name is not None  # an index code names a live shard
            shard = self._maps[name]
            for s in range(lo, hi, _READ_CHUNK):
                e = min(hi, s + _READ_CHUNK)
                src, dst = src_all[s:e], dst_all[s:e]
                a, b = int(src[0]), int(src[-1]) + 1
                block = shard.vecs[a:b] if b - a == e - s else shard.vecs[src]  # sorted: a run is a slice
                d0 = int(dst[0])
                if int(dst[-1]) - d0 + 1 == e - s and (e - s < 2 or bool((np.diff(dst) == 1).all())):
                    out[d0 : d0 + e - s] = block
                else:
                    out[dst] = block
                shard.release(a, b)
                self._drop_non_finite(out, dst, order[s:e], keys, found)
        return found

    def _drop_non_finite(
        self, out: np.ndarray, dst: np.ndarray, src: np.ndarray, keys: list[bytes], found: np.ndarray
    ) -> None:
        """Rows just read that hold NaN/inf (written before aldesk checked model outputs) count as misses.

        Their keys leave the index, so the caller embeds them again and :meth:`put` stores the new vector (a
        newer shard wins at the next open); a NaN never reaches a ranking.
        """
        finite = np.isfinite(out[dst]).all(axis=1)
        if finite.all():
            return
        for j in np.flatnonzero(~finite).tolist():
            found[src[j]] = False
            out[dst[j]] = 0.0
            self._index.pop(keys[int(src[j])], None)

    # -- writing -------------------------------------------------------------------------------------------
    def put(self, digests: list[str], vectors: np.ndarray) -> None:
        """Add rows; they are readable at once and written to disk at the next flush."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(digests), self.dim):
            raise ValueError(f"expected ({len(digests)}, {self.dim}) vectors, got {vectors.shape}")
        if not np.isfinite(vectors).all():
            raise ValueError("vectors with NaN or infinite values are never cached")
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
        # Names sort in the order shards were written (to the nanosecond), and the index lets later shards win:
        # a vector re-embedded to replace a damaged one must win over it at the next open.
        now = time.time_ns()
        stamp = f"{time.strftime('%Y%m%d%H%M%S', time.localtime(now / 1e9))}-{now % 10**9:09d}"
        shard = f"{stamp}-{os.getpid()}-{secrets.token_hex(4)}"
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
        self._add_shard(shard, _Shard(self.dir / f"{shard}.vec.npy", self.dim, len(keys)), keys)
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
            vecs = np.concatenate([self._maps[s].vecs for s in group])
            keys = np.concatenate(keys_parts)
            keys = keys.tolist()
            merged = self._write_shard(keys, vecs)
            del vecs
            for shard in group:
                self._drop_shard(shard)
            # after the drops: the merged shard's rows must win in the index
            self._add_shard(merged, _Shard(self.dir / f"{merged}.vec.npy", self.dim, len(keys)), keys)
            for shard in group:
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
