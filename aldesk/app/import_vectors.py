"""``aldesk import-vectors``: put a vectors table (and optionally its graph) made elsewhere into a project's
caches, so that opening the project embeds and builds nothing it already has.

The table's manifest must name the project's own model card (id and fingerprint): vectors of another model are
refused, never mixed in. Vectors go into the embedding cache keyed by content hash, exactly where the app's own
embedding would have put them; the open then finds every item there. The graph (made by ``aldesk graph`` over the
same table) is stored under the key the app computes for the project's embeddings, when it covers exactly the
project's usable items: otherwise it is skipped with the reason, and the app builds its own. Items missing from
the table are embedded locally at the next open, with progress, as always. The project file is not written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aldesk.app.workspace import card_for, graph_root, vectors_key
from aldesk.core.progress import CancelFn, ProgressFn, UserError, check

CACHE_BATCH = 65536  # rows handed to the cache at a time: a few shards at 1M, bounded memory


@dataclass
class ImportReport:
    project: str
    items: int
    in_table: int
    cached_new: int
    missing: int
    graph: str  # "imported", "none", or why it was skipped

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _item_hashes(project: Any, ds: Any) -> list[str]:
    """The content hash of every item: stored by the last open where known, else computed as the embedder does."""
    from aldesk.core.dataset import UnsafeItem
    from aldesk.core.embed.image import BadImage, read_and_hash
    from aldesk.core.embed.pipeline import _text_hash

    stored = project.hashes()
    out: list[str] = []
    for i, key in enumerate(ds.keys):
        h = stored[i] if i < len(stored) else None
        if not h:
            if ds.kind == "text":
                h = _text_hash(key)
            else:
                try:
                    h = read_and_hash(ds.safe_path(i))[1]
                except (UnsafeItem, BadImage):
                    h = ""
        out.append(h)
    return out


def import_vectors(
    project_path: Path,
    vectors_table: Path,
    graph: Path | None = None,
    *,
    cache_dir: Path | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> ImportReport:
    from aldesk.core.embed.cache import EmbeddingCache
    from aldesk.core.project import Project
    from aldesk.core.scaleout import table

    man = table.read_manifest(vectors_table)
    p = Project.open(project_path, readonly=True)
    try:
        ds = p.dataset()
        card = card_for(p, ds.kind)
        if (man.model_id, man.fingerprint) != (card.id, card.fingerprint):
            raise UserError(
                f"{vectors_table} holds vectors of the model {man.model_id}; {Path(project_path).name} embeds with "
                f"{card.id}: make the table with the project's model card (--model-card)."
            )
        if man.dim != card.dim:
            raise UserError(f"{vectors_table}: {man.dim}-d vectors, the model card says {card.dim}.")
        wanted = {k: i for i, k in enumerate(ds.keys)}
        row_of_item = np.full(len(ds), -1, np.int64)
        table_sha: list[str] = []
        cached_new = 0
        rows = 0
        with EmbeddingCache(cache_dir, card.id, card.dim, card.fingerprint) as cache:
            for chunk in table.iter_chunks(vectors_table, man.dim):
                check(cancel)
                new = [j for j, h in enumerate(chunk.sha1) if h not in cache]
                if new:
                    cache.put([chunk.sha1[j] for j in new], chunk.vectors[new])
                    cached_new += len(new)
                for j, key in enumerate(chunk.items):
                    i = wanted.get(key)
                    if i is not None:
                        row_of_item[i] = rows + j
                table_sha += chunk.sha1
                rows += len(chunk.items)
                if progress is not None:
                    progress(0.0, f"Importing vectors: {rows:,} rows")
            cache.flush()
        in_table = int((row_of_item >= 0).sum())
        graph_note = "none"
        if graph is not None:
            graph_note = _import_graph(p, ds, card, row_of_item, table_sha, Path(graph), cache_dir)
        return ImportReport(
            project=str(project_path),
            items=len(ds),
            in_table=in_table,
            cached_new=cached_new,
            missing=len(ds) - in_table,
            graph=graph_note,
        )
    finally:
        p.close()


def _import_graph(
    project: Any,
    ds: Any,
    card: Any,
    row_of_item: np.ndarray,
    table_sha: list[str],
    graph: Path,
    cache_dir: Path | None,
) -> str:
    from aldesk.core.neighbours.builder import DENSITY_K
    from aldesk.core.neighbours.store import save_graph
    from aldesk.core.scaleout.graph import read_graph

    meta, g_sha, idx, sims = read_graph(graph)
    if (meta.get("model_id"), meta.get("fingerprint")) != (card.id, card.fingerprint):
        raise UserError(f"{graph} was built from vectors of the model {meta.get('model_id')}, not {card.id}.")
    if g_sha != table_sha:
        raise UserError(f"{graph} was built from another vectors table: build it again from this one.")
    if idx.shape[1] < DENSITY_K:
        return f"skipped: it has {idx.shape[1]} neighbours per item, the app uses {DENSITY_K} (aldesk graph --k {DENSITY_K})"
    hashes = _item_hashes(project, ds)
    ok = row_of_item >= 0
    for i in np.flatnonzero(ok):
        if hashes[i] != table_sha[row_of_item[i]]:
            ok[i] = False  # the file changed since it was embedded: its vector (and graph row) are stale
    elig = np.flatnonzero(ok)
    if elig.size != len(table_sha):
        return (
            f"skipped: it covers {len(table_sha):,} items, {elig.size:,} of them this project's usable items "
            "(the app builds its own graph)"
        )
    pos = np.full(len(table_sha), -1, np.int64)
    pos[row_of_item[elig]] = np.arange(elig.size)
    sub_idx = pos[idx[row_of_item[elig], :DENSITY_K]]
    sub_sims = sims[row_of_item[elig], :DENSITY_K]
    key = vectors_key(card.id, hashes, ok)
    if not save_graph(key, sub_idx.astype(np.int32), sub_sims.astype(np.float32), graph_root(cache_dir)):
        raise UserError("The neighbour graph could not be written into the cache folder.")
    return "imported"
