"""Bundled ONNX encoders (images, texts), model cards and the on-disk embedding cache.

The one entry point is :func:`embed_dataset`; the UI and CLI call nothing else here except to pick a card.
onnxruntime is never imported at module level (DESIGN.md, convention 4).
"""

from aldesk.core.embed.cards import ModelCard, default_card, load_card
from aldesk.core.embed.pipeline import EmbedResult, embed_dataset

__all__ = ["EmbedResult", "ModelCard", "default_card", "embed_dataset", "load_card"]
