"""embed_dataset: items -> L2-normalised vectors, through the cache, with progress, cancel and bad-item reports.

Images: a small thread pool reads, hashes and decodes files ahead of the model while ONNX Runtime (which releases
the GIL) runs the current batch, so decoding hides behind inference. Texts: hashed, sorted by length (little
padding), tokenised one batch ahead in a worker thread. Vectors reach the cache after every batch, so a
cancelled run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import time
from collections import deque
from collections.abc import Container, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aldesk.core.dataset import Dataset, Problem, UnsafeItem
from aldesk.core.embed import batch as batch_io
from aldesk.core.embed import image as image_io
from aldesk.core.embed import pixels, runtime
from aldesk.core.embed import text as text_io
from aldesk.core.embed.cache import EmbeddingCache
from aldesk.core.embed.cards import ModelCard, default_card
from aldesk.core.progress import CancelFn, ProgressFn, UserError, check

DEFAULT_BATCH = {"image": 32, "text": 64}
NON_FINITE = "the model gave NaN or infinite values for this item, so it has no vector"
DAMAGED_CACHE = "its cached vector holds NaN values and could not be replaced; delete the embedding cache"


@dataclass
class EmbedResult:
    """Vectors of a dataset, row i for item i.

    Attributes
    ----------
    vectors : float32 (n, dim), L2-normalised; all zeros where ``ok`` is False
    ok : bool (n,)
    failed : the items that could not be embedded, with the reason
    hashes : sha1 of each item's content (file bytes or UTF-8 text); "" for a file that could not be read
    model_id : the card id the vectors belong to
    n_computed, n_cached : how many distinct items ran through the model / came from the cache in this call
    """

    vectors: np.ndarray
    ok: np.ndarray
    failed: list[Problem]
    hashes: list[str]
    model_id: str
    n_computed: int = 0
    n_cached: int = 0
    seconds: float = field(default=0.0, repr=False)


def _zeros_f32(n: int, dim: int) -> np.ndarray:
    """A zero float32 (n, dim) array; a large one on anonymous mmap memory, pre-faulted where the OS can.

    numpy asks for transparent huge pages on big arrays, and with the common THP setting ``defrag=madvise``
    the kernel compacts memory synchronously on the first touch: filling a 1M x 384 array (1.5 GB) took
    2.2-3.5 s on the test VM against 0.55 s on plain pre-faulted pages; mat-vecs over both run at the same
    speed (benchmarks/README.md).
    """
    nbytes = n * dim * 4
    if nbytes < 64 << 20:
        return np.zeros((n, dim), dtype=np.float32)
    flags = (
        getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0) | getattr(mmap, "MAP_POPULATE", 0)
    )
    try:
        buf = mmap.mmap(-1, nbytes, flags=flags) if flags else mmap.mmap(-1, nbytes)
    except (OSError, ValueError, OverflowError):
        return np.zeros((n, dim), dtype=np.float32)
    return np.frombuffer(buf, dtype=np.float32).reshape(n, dim)  # zero-filled, writable, freed with the array


class _Run:
    """Book-keeping shared by both pipelines: result arrays, cache, progress and model calls."""

    def __init__(
        self,
        ds: Dataset,
        card: ModelCard,
        cache: EmbeddingCache,
        progress: ProgressFn | None,
        cancel: CancelFn | None,
    ) -> None:
        n = len(ds)
        self.card, self.cache, self.progress, self.cancel = card, cache, progress, cancel
        self.keys = ds.keys
        try:
            self.vectors = _zeros_f32(n, card.dim)
        except (MemoryError, ValueError):
            raise UserError(
                f"{n:,} items x {card.dim:,} values per item ({n * card.dim * 4 / 2**30:,.1f} GiB) do not fit "
                f"in memory; use a model card with a smaller 'dim'."
            ) from None
        self.ok = np.zeros(n, dtype=bool)
        self.hashes = [""] * n
        self.failed: list[Problem] = []
        self.cached_rows: list[int] | np.ndarray = []
        self.n_computed = 0
        self.n_cached = 0
        self.done = 0
        self.total = n
        self.t0 = time.perf_counter()
        self._session: object | None = None

    @property
    def session(self) -> Any:
        # Created on first use: reopening a project whose items are all cached never loads the model.
        if self._session is None:
            self._session = runtime.session(self.card)
        return self._session

    def report(self) -> None:
        check(self.cancel)
        if self.progress is not None:
            rate = self.done / max(time.perf_counter() - self.t0, 1e-6)
            self.progress(
                self.done / max(self.total, 1),
                f"Embedding {self.done:,} / {self.total:,} items — {rate:,.0f} items/s",
            )

    def infer(self, feeds: dict[str, np.ndarray], mask: np.ndarray | None = None) -> np.ndarray:
        return batch_io.infer(self.card, self.session, feeds, mask)

    def store(self, rows_per_item: list[list[int]], digests: list[str], vecs: np.ndarray) -> None:
        """Keep and cache the finite vectors; an item whose vector holds NaN/inf is reported, never used."""
        good = runtime.finite_rows(vecs)
        if not good.all():
            for rows in (r for r, g in zip(rows_per_item, good.tolist(), strict=True) if not g):
                self.failed.extend(Problem(self.keys[r], NON_FINITE) for r in rows)
            keep = np.flatnonzero(good).tolist()
            rows_per_item = [rows_per_item[j] for j in keep]
            digests = [digests[j] for j in keep]
            vecs = vecs[good]
        self.cache.put(digests, vecs)
        for rows, vec in zip(rows_per_item, vecs, strict=True):
            self.vectors[rows] = vec
            self.ok[rows] = True
        self.n_computed += len(digests)

    def finish_cached(self) -> list[int]:
        """Read the cached rows' vectors; returns the rows whose cached vector was damaged (NaN), now misses."""
        rows = np.asarray(self.cached_rows, dtype=np.int64)
        self.cached_rows = []
        if not rows.size:
            return []
        digests = [self.hashes[r] for r in rows.tolist()]
        # In place: no second N x d array. A miss here is a non-finite vector an older aldesk cached.
        found = self.cache.read_into(digests, self.vectors, rows)
        self.ok[rows[found]] = True
        self.n_cached += len({d for d, f in zip(digests, found.tolist(), strict=True) if f})
        return rows[~found].tolist()


BATCH_BYTES = 256 << 20  # the largest model input (images) or token-level output (texts) of one batch


def max_batch(card: ModelCard) -> int:
    """Items per model call that keep one batch's largest array under ``BATCH_BYTES``.

    The card's limits allow 2048² images and 8192-token texts, where the default batch alone would take gigabytes
    (32 x 50 MB of pixels; 64 x 8192 x dim floats of token states); the bundled models are far below the bound
    and keep their default batch.
    """
    if card.kind == "image":
        per_item = 3 * card.image_size * card.image_size * 4
    else:
        per_item = card.max_length * card.dim * 4
    return max(1, BATCH_BYTES // per_item)


def _embed_images(ds: Dataset, run: _Run, batch_size: int, only: list[int] | None = None) -> None:
    card = run.card
    # Half the cores: ONNX Runtime already runs one thread per core, and more decoders than that made the
    # pipeline ~25 % slower on 2 cores (measured: 1 decoder kept up with the model, 2 oversubscribed it).
    workers = max(1, min(4, (os.cpu_count() or 2) // 2))
    window = max(2 * batch_size, 4 * workers)  # decoded-ahead items: bounded memory (~0.6 MB each at 224²)
    # Items whose content is already pending in this run (duplicate files): decoded once, filled at the end.
    pending: dict[str, list[int]] = {}
    batch_rows: list[list[int]] = []
    batch_digests: list[str] = []
    batch_arrays: list[np.ndarray] = []
    batch_blocks: list[np.ndarray] = []
    since_report = 0

    def run_batch() -> None:
        nonlocal since_report
        if batch_arrays:
            vecs = run.infer({card.inputs["image"]: np.stack(batch_arrays)})
            if card.pixels:
                vecs = pixels.combine(vecs, np.stack(batch_blocks))
            run.store(batch_rows, batch_digests, vecs)
            for d in batch_digests:
                pending.pop(d, None)
            batch_rows.clear()
            batch_digests.clear()
            batch_arrays.clear()
            batch_blocks.clear()
        since_report = 0
        run.report()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aldesk-decode") as pool:
        futures: deque[tuple[int, Future[image_io.Loaded]]] = deque()
        indices: Iterator[int] = iter(range(len(ds)) if only is None else only)
        try:
            while True:
                while len(futures) < window:
                    i = next(indices, None)
                    if i is None:
                        break
                    # The membership test reads the cache's dicts from worker threads; the main thread only
                    # adds keys between batches, and a stale "not cached" merely decodes an image again.
                    futures.append((i, pool.submit(_load_image, ds, i, card, run.cache)))
                if not futures:
                    break
                i, fut = futures.popleft()
                loaded = fut.result()
                run.hashes[i] = loaded.digest
                run.done += 1
                since_report += 1
                if loaded.reason is not None:
                    run.failed.append(Problem(ds.keys[i], loaded.reason))
                elif loaded.digest in pending:
                    pending[loaded.digest].append(i)
                elif loaded.array is None or loaded.digest in run.cache:
                    run.cached_rows.append(i)  # type: ignore[union-attr]  # a list while images are read
                else:
                    rows = [i]
                    pending[loaded.digest] = rows
                    batch_rows.append(rows)
                    batch_digests.append(loaded.digest)
                    batch_arrays.append(loaded.array)
                    if loaded.block is not None:
                        batch_blocks.append(loaded.block)
                if len(batch_arrays) >= batch_size or since_report >= 4 * batch_size:
                    run_batch()
            run_batch()
        finally:
            for _, fut in futures:
                fut.cancel()


_HASH_CHUNK = 1 << 20  # characters encoded at a time: a 200 MB cell is hashed without a 200-800 MB bytes copy


def _text_hash(text: str) -> str:
    # surrogatepass: a lone surrogate from a badly decoded CSV must not crash hashing.
    if len(text) <= _HASH_CHUNK:
        return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
    # UTF-8 encodes each code point on its own, so the chunks' bytes joined are the whole text's: same digest.
    h = hashlib.sha1()
    for start in range(0, len(text), _HASH_CHUNK):
        h.update(text[start : start + _HASH_CHUNK].encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _embed_texts(ds: Dataset, run: _Run, batch_size: int) -> None:
    card = run.card
    first_row: dict[str, list[int]] = {}
    todo_texts: list[str] = []
    run.hashes = hashes = list(map(_text_hash, ds.keys))
    # Cached vectors go straight into the result, in one lookup pass: a 1M-item reopen is all hits.
    cached = run.cache.read_into(hashes, run.vectors)
    run.ok |= cached
    n_hits = int(cached.sum())
    run.n_cached += n_hits  # the keys of a Dataset are unique, so are their texts' hashes
    keys = ds.keys
    for i in np.flatnonzero(~cached).tolist():
        digest = hashes[i]
        if digest in first_row:
            first_row[digest].append(i)
        else:
            first_row[digest] = [i]
            todo_texts.append(keys[i])
    todo = [(rows, run.hashes[rows[0]]) for rows in first_row.values()]
    run.done = len(ds) - sum(len(rows) for rows, _ in todo)
    run.report()
    if not todo:
        return
    order = text_io.length_order(todo_texts)
    batches = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    text_io.tokenizer(card)  # load it here so a bad tokenizer is a UserError, not a worker-thread failure

    def encode(b: np.ndarray) -> dict[str, np.ndarray]:
        return text_io.encode(card, [todo_texts[j] for j in b])

    mask_name = card.inputs["attention_mask"]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aldesk-tokenize") as pool:
        ahead: deque[Future[dict[str, np.ndarray]]] = deque(pool.submit(encode, b) for b in batches[:2])
        try:
            for k, b in enumerate(batches):
                feeds = ahead.popleft().result()
                if k + 2 < len(batches):
                    ahead.append(pool.submit(encode, batches[k + 2]))
                vecs = run.infer(feeds, feeds[mask_name])
                picked = [todo[j] for j in b]
                run.store([rows for rows, _ in picked], [d for _, d in picked], vecs)
                run.done += sum(len(rows) for rows, _ in picked)
                run.report()
        finally:
            for fut in ahead:
                fut.cancel()


def embed_dataset(
    ds: Dataset,
    card: ModelCard | None = None,
    *,
    cache_dir: Path | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    batch_size: int | None = None,
) -> EmbedResult:
    """Embed every item of ``ds`` with ``card`` (the bundled model of ``ds.kind`` if None).

    Parameters
    ----------
    cache_dir : folder holding one cache sub-folder per model id; default
        ``platformdirs.user_cache_dir("aldesk")/embeddings``
    progress : called with (fraction, message) after every batch
    cancel : checked after every batch; vectors computed so far stay cached, so a rerun resumes
    batch_size : items per model call (default 32 for images, 64 for texts)

    Raises
    ------
    Cancelled
        ``cancel()`` turned true.
    UserError
        The card does not fit the dataset or the model (bad files are reported in ``failed`` instead).
    """
    card = card if card is not None else default_card(ds.kind)
    if card.kind != ds.kind:
        raise UserError(
            f"The model {card.name or card.id} embeds {card.kind}s, but these items are {ds.kind}s."
        )
    batch_size = int(batch_size or DEFAULT_BATCH[ds.kind])
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    batch_size = min(batch_size, max_batch(card))
    t0 = time.perf_counter()
    with EmbeddingCache(cache_dir, card.id, card.dim, card.fingerprint) as cache:
        run = _Run(ds, card, cache, progress, cancel)
        if ds.kind == "image":
            _embed_images(ds, run, batch_size)
            damaged = run.finish_cached()
            if damaged:
                # Their keys left the cache's index, so this pass decodes and embeds them afresh.
                run.done -= len(damaged)
                _embed_images(ds, run, batch_size, only=damaged)
                left = run.finish_cached()
                run.failed.extend(Problem(ds.keys[r], DAMAGED_CACHE) for r in left)
        else:
            _embed_texts(ds, run, batch_size)
        run.finish_cached()
        cache.compact()
    return EmbedResult(
        vectors=run.vectors,
        ok=run.ok,
        failed=run.failed,
        hashes=run.hashes,
        model_id=card.id,
        n_computed=run.n_computed,
        n_cached=run.n_cached,
        seconds=time.perf_counter() - t0,
    )


def _load_image(ds: Dataset, i: int, card: ModelCard, cached: Container[str]) -> image_io.Loaded:
    """One item's file, read only if it is safely inside the data folder; a refused one fails with its reason
    ("leads outside the data folder", "is not a regular file"), not as the empty file it is replaced by."""
    try:
        path = ds.safe_path(i)
    except UnsafeItem as exc:
        return image_io.Loaded("", None, exc.reason)
    return image_io.load(path, card, cached)
