"""Texts -> model inputs: the card's tokenizer, truncation, padding to the longest text of each batch."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from aldesk.core.embed.cards import ModelCard
from aldesk.core.progress import UserError


@functools.lru_cache(maxsize=4)
def _tokenizer(path: str, max_length: int, mtime_ns: int) -> Any:  # mtime_ns: a changed file misses the cache
    from tokenizers import Tokenizer

    try:
        tok = Tokenizer.from_file(path)
    except Exception as exc:  # noqa: BLE001 - tokenizers raises plain Exception
        raise UserError(f"The tokenizer {path} cannot be read: {exc}") from None
    tok.enable_truncation(max_length=max_length)
    # Shipped tokenizer.json files often fix the length (128 for MiniLM); pad to the batch's longest instead.
    pad_id = tok.token_to_id("[PAD]")
    pad_token = "[PAD]" if pad_id is not None else (tok.id_to_token(0) or "[PAD]")
    tok.enable_padding(pad_id=pad_id or 0, pad_token=pad_token, length=None)
    return tok


def tokenizer(card: ModelCard) -> Any:
    """The card's ``tokenizers.Tokenizer``, configured for truncation and per-batch padding (cached)."""
    if card.tokenizer is None:
        raise UserError(f"Model card {card.source}: a text model needs a 'tokenizer'.")
    path = Path(card.tokenizer)
    return _tokenizer(str(path), card.max_length, path.stat().st_mtime_ns)


def encode(card: ModelCard, texts: list[str]) -> dict[str, np.ndarray]:
    """A batch of texts -> the feed dict for the card's model (int64 arrays, padded to the longest)."""
    encodings = tokenizer(card).encode_batch(texts)
    feeds: dict[str, np.ndarray] = {}
    feeds[card.inputs["input_ids"]] = np.array([e.ids for e in encodings], dtype=np.int64)
    feeds[card.inputs["attention_mask"]] = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    if "token_type_ids" in card.inputs:
        feeds[card.inputs["token_type_ids"]] = np.array([e.type_ids for e in encodings], dtype=np.int64)
    return feeds


def length_order(texts: list[str]) -> np.ndarray:
    """Indices that sort texts by length (characters, a cheap proxy for tokens), so batches pad little."""
    return np.argsort(np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts)), kind="stable")
