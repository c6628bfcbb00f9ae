"""The grid's list model: one page of items (a few dozen to a few hundred), with what each card shows.

The page is computed once per change of the items or the labels (one ``probabilities`` call for the page),
so painting a card reads Python lists only. Image thumbnails come from the window's ThumbnailLoader (decoded
off the GUI thread, cached); a card whose thumbnail arrives is repainted alone, never the whole page.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Slot

from aldesk.core.dataset import Dataset
from aldesk.core.labeling.session import Session
from aldesk.ui.shell.thumbs import ThumbnailLoader

_Index = QModelIndex | QPersistentModelIndex
ITEM_ROLE = Qt.ItemDataRole.UserRole  # the item number (dataset index)
CARD_ROLE = Qt.ItemDataRole.UserRole + 1  # the Card of a row
THUMB_PX = 128


@dataclass(frozen=True)
class Card:
    """What one cell shows: the item, its label or the k-NN's prediction, and the page's own score."""

    item: int
    label: str | None
    predicted: str | None
    confidence: float
    score: float | None  # the query's number (similarity, confidence); None for a plain list
    off_target: bool  # predicted as another class than the page's target (the lasso preview marks those)


class GridModel(QAbstractListModel):
    def __init__(self, thumbs: ThumbnailLoader | None, thumb_px: int = THUMB_PX) -> None:
        super().__init__()
        self.thumbs = thumbs
        self.thumb_px = thumb_px
        self.ds: Dataset | None = None
        self.cards: list[Card] = []
        self._row_of_key: dict[str, int] = {}
        if thumbs is not None:
            thumbs.ready.connect(self._on_thumb)

    def set_page(
        self,
        session: Session,
        ds: Dataset,
        items: np.ndarray,
        scores: np.ndarray | None = None,
        target: str | None = None,
    ) -> None:
        """Show ``items`` (in this order); ``target``: the class a lasso would give, to mark disagreements."""
        items = np.asarray(items, dtype=np.int64)
        lab = session.label_index(items) if items.size else np.zeros(0, np.int32)
        pred = np.full(items.size, -1, np.int64)
        conf = np.zeros(items.size, np.float64)
        if session.n_labeled and session.classes and items.size:
            p = session.probabilities(items)
            pred, conf = p.argmax(axis=1), p.max(axis=1)
        classes = session.classes
        cards = []
        for r, i in enumerate(items.tolist()):
            predicted = classes[int(pred[r])] if pred[r] >= 0 else None
            cards.append(
                Card(
                    item=i,
                    label=classes[int(lab[r])] if lab[r] >= 0 else None,
                    predicted=predicted,
                    confidence=float(conf[r]),
                    score=None if scores is None else float(scores[r]),
                    off_target=target is not None and predicted is not None and predicted != target,
                )
            )
        self.beginResetModel()
        self.ds = ds
        self.cards = cards
        self._row_of_key = {}
        if ds.kind == "image" and self.thumbs is not None:
            self._row_of_key = {
                self.thumbs.key(ds.path(c.item), self.thumb_px): r for r, c in enumerate(cards)
            }
        self.endResetModel()

    def pixmap(self, row: int) -> object:
        """The row's thumbnail (None until decoded, or for texts): what the delegate paints, without a QVariant."""
        if self.ds is None or self.ds.kind != "image" or self.thumbs is None:
            return None
        return self.thumbs.get(self.ds.path(self.cards[row].item), self.thumb_px)

    def text(self, row: int) -> str:
        """The row's text as the card shows it (the first 400 characters, blanks collapsed)."""
        if self.ds is None or self.ds.kind != "text":
            return ""
        return " ".join(self.ds.text(self.cards[row].item)[:400].split())

    def items(self) -> list[int]:
        return [c.item for c in self.cards]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.cards)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or self.ds is None:
            return None
        card = self.cards[index.row()]
        if role == ITEM_ROLE:
            return card.item
        if role == CARD_ROLE:
            return card
        if role == Qt.ItemDataRole.DecorationRole:
            return self.pixmap(index.row())
        if role == Qt.ItemDataRole.DisplayRole and self.ds.kind == "text":
            return self.text(index.row())
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.ds.keys[card.item] if self.ds.kind == "image" else self.ds.text(card.item)[:600]
        return None

    @Slot(str)
    def _on_thumb(self, key: str) -> None:
        row = self._row_of_key.get(key)
        if row is not None:
            ix = self.index(row)
            self.dataChanged.emit(ix, ix, [Qt.ItemDataRole.DecorationRole])
