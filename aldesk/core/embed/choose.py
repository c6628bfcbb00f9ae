"""The bundled card for a new project, chosen from the data itself.

Texts: the default text card. Images: EfficientNet-Lite0, with the image's own grey pixels appended when the
items are small and grey (:mod:`aldesk.core.embed.pixels` measures why: +14 points of whole-pool k-NN accuracy on
Fashion-MNIST, +43 on digits, level on colour photos). The choice is made once, when the project is created, and
stored as the project's card id: reopening never re-judges, so the vectors and the cache stay the project's.
"""

from __future__ import annotations

from aldesk.core.dataset import Dataset, UnsafeItem
from aldesk.core.embed.cards import ModelCard, bundled_card_by_id, default_card
from aldesk.core.embed.pixels import SAMPLE, looks_small_grey

SMALL_GREY_CARD = "efficientnet-lite0-imagenet-pool1280-px32-v1"


def choose_card(ds: Dataset) -> ModelCard:
    """The card a new project of ``ds`` embeds with (reads at most a sample of 64 image files)."""
    if ds.kind != "image" or not len(ds):
        return default_card(ds.kind)
    step = max(1, len(ds) // SAMPLE)
    paths = []
    for i in range(0, len(ds), step):
        try:
            paths.append(ds.safe_path(i))
        except UnsafeItem:
            continue
        if len(paths) >= SAMPLE:
            break
    if looks_small_grey(paths):
        card = bundled_card_by_id(SMALL_GREY_CARD, "image")
        if card is not None:
            return card
    return default_card("image")
