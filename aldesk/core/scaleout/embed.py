"""``aldesk embed``: a folder of images or a CSV of texts -> a vectors table, locally or on Ray Data.

One code path with the app: every batch of items becomes a small :class:`~aldesk.core.dataset.Dataset` of the
same source and goes through :func:`aldesk.core.embed.embed_dataset`, the very function the window uses, so the
vectors are the app's (same file checks, decoding, tokenising, model, pooling, normalisation). The engines differ
only in who runs the batches:

- ``local``: this process, batch after batch;
- ``ray``: a Ray Data pipeline, ``map_batches`` with an actor class that holds one ONNX Runtime session per actor
  (CUDA when the worker has a GPU and the installed onnxruntime offers it).

Whoever embeds a batch writes it as one table part before reporting it done, so a killed worker, driver or laptop
loses at most the batches in flight; a rerun reads the parts and embeds only what is missing. Items that cannot
be embedded are listed in the manifest with their reason, never fatal.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aldesk.core.dataset import Dataset
from aldesk.core.progress import CancelFn, ProgressFn, UserError, check
from aldesk.core.scaleout import table

DEFAULT_BATCH = {"image": 256, "text": 512}


@dataclass
class EmbedReport:
    """What a run did: ``embedded`` in this run, ``skipped`` (already in the table), ``failed`` with reasons."""

    table: str
    engine: str
    items: int
    embedded: int
    skipped: int
    failed: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def embed_batch(
    kind: str, root: str, keys: Sequence[str], card: Any, cache_dir: Path
) -> tuple[list[str], list[str], np.ndarray, list[dict[str, str]]]:
    """Embed ``keys`` of the source at ``root`` exactly as the app does: (items, sha1, vectors, failures)."""
    from aldesk.core.embed import embed_dataset

    ds = Dataset(kind, Path(root), list(keys))  # type: ignore[arg-type]  # "image" or "text"
    res = embed_dataset(ds, card, cache_dir=cache_dir)
    ok = np.flatnonzero(res.ok)
    items = [ds.keys[i] for i in ok]
    sha1 = [res.hashes[i] for i in ok]
    failures = [{"item": p.key, "reason": p.reason} for p in res.failed]
    return items, sha1, res.vectors[ok], failures


def _card(card_path: str | None, kind: str) -> Any:
    from aldesk.core.embed import default_card, load_card

    return load_card(card_path) if card_path else default_card(kind)  # type: ignore[arg-type]


class BatchEmbedder:
    """The Ray Data UDF: one per actor, so one ONNX Runtime session (and one private scratch cache) per actor.

    ``__call__`` embeds a batch, writes its part, and returns one row per item with what happened to it."""

    def __init__(self, kind: str, root: str, card_path: str | None, out: str, providers: str = "") -> None:
        if providers:
            os.environ.setdefault("ALDESK_PROVIDERS", providers)
        self.kind, self.root, self.out = kind, root, out
        self.card = _card(card_path, kind)
        self.scratch = Path(tempfile.mkdtemp(prefix="aldesk-embed-"))

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        keys = [str(k) for k in batch["item"]]
        items, sha1, vecs, failures = embed_batch(self.kind, self.root, keys, self.card, self.scratch)
        table.write_part(Path(self.out), items, sha1, vecs)
        why = {f["item"]: f["reason"] for f in failures}
        return {"item": keys, "reason": [why.get(k, "") for k in keys]}

    def __del__(self) -> None:
        shutil.rmtree(getattr(self, "scratch", ""), ignore_errors=True)


def run_embed(
    source: Path,
    out: Path,
    *,
    engine: str = "local",
    card_path: str | None = None,
    batch: int | None = None,
    workers: int = 2,
    gpus_per_worker: float = 0.0,
    address: str | None = None,
    text_column: str | None = None,
    protected: Sequence[Path] = (),
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> EmbedReport:
    """Embed every item of ``source`` into the vectors table ``out`` (resuming a table of the same model)."""
    from aldesk.core.sources import load_source

    t0 = time.perf_counter()
    ds = load_source(source, text_column=text_column) if text_column else load_source(source)
    if card_path:
        card = _card(card_path, ds.kind)
    else:  # as a new project of this source would: the bundled card that suits the data
        from aldesk.core.embed.choose import choose_card

        card = choose_card(ds)
        card_path = str(card.source)  # the actors load exactly this card
    manifest = table.Manifest(
        card.id, card.fingerprint, card.dim, ds.kind, source=str(Path(source).absolute())
    )
    resumed = table.prepare_folder(out, manifest, [Path(source), *protected])
    if resumed:
        table.clean_temporaries(out)
    done = table.written_items(out) if resumed else set()
    todo = [k for k in ds.keys if k not in done]
    size = int(batch or DEFAULT_BATCH[ds.kind])
    if size < 1:
        raise UserError("--batch must be at least 1.")
    root = str(ds.root)
    if engine == "local":
        failures = _run_local(ds.kind, root, todo, card, out, size, progress, cancel)
    elif engine == "ray":
        failures = _run_ray(
            ds.kind, root, todo, card_path, out, size, workers, gpus_per_worker, address, progress
        )
    else:
        raise UserError(f"Unknown engine {engine!r}: use local or ray.")
    failures += [{"item": p.key, "reason": p.reason} for p in ds.problems]
    written = table.written_items(out)
    manifest.counts = {"items": len(ds) + len(ds.problems), "vectors": len(written), "failed": len(failures)}
    manifest.failures = failures
    table.write_manifest(out, manifest)
    failed_here = sum(1 for f in failures if f["item"] in set(todo))
    return EmbedReport(
        table=str(out),
        engine=engine,
        items=len(ds),
        embedded=len(todo) - failed_here,
        skipped=len(ds) - len(todo),
        failed=failures,
        seconds=round(time.perf_counter() - t0, 2),
    )


def _run_local(
    kind: str,
    root: str,
    todo: list[str],
    card: Any,
    out: Path,
    size: int,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> list[dict[str, str]]:
    failures: list[dict[str, str]] = []
    scratch = Path(tempfile.mkdtemp(prefix="aldesk-embed-"))
    try:
        for start in range(0, len(todo), size):
            check(cancel)
            items, sha1, vecs, failed = embed_batch(kind, root, todo[start : start + size], card, scratch)
            table.write_part(out, items, sha1, vecs)
            failures += failed
            if progress is not None:
                stop = min(len(todo), start + size)
                progress(stop / max(len(todo), 1), f"Embedding {stop:,} / {len(todo):,} items")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return failures


def ray_init(address: str | None, workers: int) -> Any:
    """Join the cluster at ``address``, or start a local one sized for ``workers`` actors (no dashboard)."""
    try:
        import ray
    except ImportError:
        raise UserError("The ray engine needs Ray: pip install 'aldesk[cluster]'") from None
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(
                num_cpus=max(1, workers),
                include_dashboard=False,
                log_to_driver=False,
                object_store_memory=int(os.environ.get("ALDESK_RAY_OBJECT_STORE", 256 * 2**20)),
            )
    return ray


def _run_ray(
    kind: str,
    root: str,
    todo: list[str],
    card_path: str | None,
    out: Path,
    size: int,
    workers: int,
    gpus: float,
    address: str | None,
    progress: ProgressFn | None,
) -> list[dict[str, str]]:
    if not todo:
        return []
    ray_init(address, workers)
    import ray.data

    ds = ray.data.from_items([{"item": k} for k in todo], override_num_blocks=max(1, len(todo) // size))
    providers = "CUDAExecutionProvider,CPUExecutionProvider" if gpus > 0 else ""
    results = ds.map_batches(
        BatchEmbedder,
        fn_constructor_kwargs={
            "kind": kind,
            "root": root,
            "card_path": str(Path(card_path).absolute()) if card_path else None,
            "out": str(Path(out).absolute()),
            "providers": providers,
        },
        batch_size=size,
        concurrency=max(1, workers),
        num_cpus=1,
        # Ray Data replaces a killed actor and retries its batch by default; the parts already written are kept
        num_gpus=gpus if gpus > 0 else None,
    )
    failures: list[dict[str, str]] = []
    seen = 0
    for b in results.iter_batches(batch_size=size, batch_format="numpy"):
        for item, reason in zip(b["item"], b["reason"], strict=True):
            if reason:
                failures.append({"item": str(item), "reason": str(reason)})
        seen += len(b["item"])
        if progress is not None:
            progress(seen / len(todo), f"Embedding {seen:,} / {len(todo):,} items on Ray")
    return failures
