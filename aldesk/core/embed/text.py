"""Texts -> model inputs: the card's tokenizer, truncation, padding to the longest text of each batch.

The tokenizer reads a whole text before it truncates to ``max_length`` tokens, and needs ~60 bytes per
character on the way: a 200 MB cell took 11.4 GB to give the model its 256 tokens. So a text is first cut to a
character budget (:func:`fit`) that holds far more than ``max_length`` tokens of any real text; the cut is only
kept when the cut text still fills the model's window, so the tokens the model sees never change for it.
"""

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
    # The pad token: the one the file declares (XLM-R's "<pad>" is id 1, where id 0 is "<s>"), else BERT's
    # "[PAD]", else id 0. Shipped files often fix the length (128 for MiniLM); pad to each batch's longest.
    declared = tok.padding
    pad_id, pad_token = None, None
    if declared:
        pad_id, pad_token = declared.get("pad_id"), declared.get("pad_token")
    for name in ("[PAD]", "<pad>"):
        if pad_id is None and tok.token_to_id(name) is not None:
            pad_id, pad_token = tok.token_to_id(name), name
    if pad_id is None:
        pad_id, pad_token = 0, tok.id_to_token(0) or "[PAD]"
    tok.enable_truncation(max_length=max_length)
    tok.enable_padding(pad_id=pad_id, pad_token=pad_token, length=None)
    return tok


def tokenizer(card: ModelCard) -> Any:
    """The card's ``tokenizers.Tokenizer``, configured for truncation and per-batch padding (cached)."""
    if card.tokenizer is None:
        raise UserError(f"Model card {card.source}: a text model needs a 'tokenizer'.")
    path = Path(card.tokenizer)
    return _tokenizer(str(path), card.max_length, path.stat().st_mtime_ns)


# Characters per model token of the first cut: English averages ~4.5 characters a token, code and URLs ~3; a
# 256-token window is then cut at 4,096 characters, ~4x more than it reads.
CHARS_PER_TOKEN = 16
# The widest budget tried (256k characters for 256 tokens, ~16 MB of tokenizer memory): a text whose first
# max_length * this characters hold fewer than max_length tokens (megabytes of blanks, say) is read that far.
MAX_CHARS_PER_TOKEN = 1024


def _cut(text: str, budget: int, at_word: bool) -> str:
    if len(text) <= budget:
        return text
    cut = text[:budget]
    if at_word:
        # End on a blank, so no word is split: the tokens of a cut text are then a prefix of the full text's.
        parts = cut.rsplit(None, 1)  # [] when the cut is all blanks
        head = parts[0] if len(parts) == 2 else ""
        cut = head if len(head) > budget // 2 else cut
    return cut


def fit(card: ModelCard, text: str) -> str:
    """``text`` cut to what the card's model can read, without changing the tokens it gets.

    A text within the first budget is returned whole. A longer one is cut at a blank within the budget and
    tokenised: if the cut text already fills ``max_length`` tokens, the full text's first ``max_length`` tokens
    are the same ones (the cut dropped only whole words after them) and the cut is kept; else the budget grows
    4x and the test repeats, up to ``MAX_CHARS_PER_TOKEN`` characters per token, where the text is cut as is.
    """
    budget = card.max_length * CHARS_PER_TOKEN
    if len(text) <= budget:
        return text
    cap = card.max_length * MAX_CHARS_PER_TOKEN
    tok = tokenizer(card)
    while budget < cap:
        cut = _cut(text, budget, at_word=True)
        if len(cut) == len(text) or sum(tok.encode(cut).attention_mask) >= card.max_length:
            return cut
        budget *= 4
    return _cut(text, cap, at_word=False)


def encode(card: ModelCard, texts: list[str]) -> dict[str, np.ndarray]:
    """A batch of texts -> the feed dict for the card's model (int64 arrays, padded to the longest).

    Each text is first cut to what the model reads (:func:`fit`), so memory is bounded by the card, not by the
    longest cell of a CSV; then the card's ``prefix`` is put before it.
    """
    # The card's prefix ("query: " for e5) goes before the cut text: fit() keeps far more than the window.
    encodings = tokenizer(card).encode_batch([card.prefix + fit(card, t) for t in texts])
    feeds: dict[str, np.ndarray] = {}
    feeds[card.inputs["input_ids"]] = np.array([e.ids for e in encodings], dtype=np.int64)
    feeds[card.inputs["attention_mask"]] = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    if "token_type_ids" in card.inputs:
        feeds[card.inputs["token_type_ids"]] = np.array([e.type_ids for e in encodings], dtype=np.int64)
    return feeds


def length_order(texts: list[str]) -> np.ndarray:
    """Indices that sort texts by length (characters, a cheap proxy for tokens), so batches pad little."""
    return np.argsort(np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts)), kind="stable")
