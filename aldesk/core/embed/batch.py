"""One batch of items -> vectors, exactly as :func:`aldesk.core.embed.embed_dataset` computes them, no cache.

The one public function for code that embeds outside a project: the zero-shot class prototypes
(:mod:`aldesk.core.query.zeroshot`) and engines that spread a dataset's batches over workers. The pipeline's own
model calls go through :func:`infer` too, so a vector made here equals the app's for the same item.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from aldesk.core.embed import runtime
from aldesk.core.embed import text as text_io
from aldesk.core.embed.cards import ModelCard
from aldesk.core.progress import UserError


def infer(
    card: ModelCard, sess: Any, feeds: dict[str, np.ndarray], mask: np.ndarray | None = None
) -> np.ndarray:
    """One model call on prepared inputs -> (n, dim) L2-normalised vectors (the card's pooling)."""
    try:
        out = sess.run([card.output], feeds)[0]
    except Exception as exc:  # noqa: BLE001 - ORT's errors are untyped; the model passed its probe
        raise UserError(
            f"The model {card.name or card.id} failed on a batch of "
            f"{len(next(iter(feeds.values())))} items: {' '.join(str(exc).split())[:300]}"
        ) from None
    return runtime.pool(card, out, mask)


def embed_batch(card: ModelCard, items: list[str] | list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """Texts (for a text card) or image files (an image card) -> ((n, dim) float32 vectors, (n,) ok).

    ``ok`` is False for an image that cannot be read or decoded and for any item whose vector is not finite;
    those rows are zeros. The caller chooses the batch size (the pipeline uses 64 texts or 32 images).
    """
    n = len(items)
    vecs = np.zeros((n, card.dim), dtype=np.float32)
    ok = np.zeros(n, dtype=bool)
    if n == 0:
        return vecs, ok
    sess = runtime.session(card)
    if card.kind == "text":
        feeds = text_io.encode(card, [str(t) for t in items])
        rows = np.arange(n)
        out = infer(card, sess, feeds, feeds[card.inputs["attention_mask"]])
    else:
        from aldesk.core.embed import image as image_io
        from aldesk.core.embed import pixels

        loaded = [image_io.load(Path(p), card) for p in items]
        rows = np.array([i for i, x in enumerate(loaded) if x.array is not None], dtype=np.int64)
        if not rows.size:
            return vecs, ok
        arrays = [a for x in loaded if (a := x.array) is not None]
        out = infer(card, sess, {card.inputs["image"]: np.stack(arrays)})
        if card.pixels:
            blocks = [b for i in rows if (b := loaded[i].block) is not None]
            out = pixels.combine(out, np.stack(blocks))
    good = runtime.finite_rows(out)
    vecs[rows[good]] = out[good]
    ok[rows[good]] = True
    return vecs, ok


def embed_texts(card: ModelCard, texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Texts -> (n, dim) vectors, in batches; a text whose vector is not finite raises :class:`UserError`."""
    parts = []
    for s in range(0, len(texts), batch_size):
        vecs, ok = embed_batch(card, texts[s : s + batch_size])
        if not ok.all():
            bad = texts[s + int(np.flatnonzero(~ok)[0])]
            raise UserError(f"The model {card.name or card.id} gives no finite vector for {bad[:60]!r}.")
        parts.append(vecs)
    return np.concatenate(parts) if parts else np.zeros((0, card.dim), np.float32)
