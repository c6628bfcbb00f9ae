"""A typed query -> one vector in the project's embedding space, with the project's own text model.

The search box ranks items by meaning: the words the user types go through the same card (tokenizer, ONNX
model, pooling, normalisation) as the items did, so a dot product with the item vectors is meaningful. The
card is the caller's (``aldesk.app.workspace.card_for``): the default text model may change, this module names
none. Image cards have no text tower today, so a text query against images is refused in one line.
"""

from __future__ import annotations

import numpy as np

from aldesk.core.embed import runtime
from aldesk.core.embed import text as text_io
from aldesk.core.embed.cards import ModelCard
from aldesk.core.progress import UserError


def can_embed_text(card: ModelCard) -> bool:
    """Whether typed text can be embedded next to this card's items (a text model; no image card has a text
    tower yet)."""
    return card.kind == "text"


def embed_query(card: ModelCard, query: str) -> np.ndarray:
    """(dim,) float32, L2-normalised: ``query`` embedded as the card embeds its items."""
    if not can_embed_text(card):
        raise UserError(
            f"The image model {card.name or card.id} has no text encoder: search images by 'more like this' (M)."
        )
    if not query.strip():
        raise UserError("Type a few words to search by meaning.")
    feeds = text_io.encode(card, [query])
    try:
        out = runtime.session(card).run([card.output], feeds)[0]
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - ORT's errors are untyped; the model passed its probe
        raise UserError(f"The model {card.name or card.id} could not embed the query: {exc}") from None
    vec = runtime.pool(card, out, feeds[card.inputs["attention_mask"]])[0]
    if not np.isfinite(vec).all():
        raise UserError(f"The model {card.name or card.id} gave no usable vector for this query.")
    return vec
