"""The grid widget: a QListView in icon mode over one page of items, driven by keys.

Multi-selection with the keys an expert needs and nothing to hold down: arrows move the focus without touching
the selection, Space toggles the focused item (and a click toggles the clicked one), Ctrl+A selects the page;
a class number labels the selection, Enter accepts the shown predictions, PageDown/PageUp turn the page,
M shows more items like the focused one. The
window binds digits, Enter and Space as shortcuts of the labeling view: the grid claims them while it has the
focus (a ShortcutOverride it accepts arrives as a plain key press), Ctrl+Z stays the window's undo.

Only visible cells are painted (uniform item sizes: Qt lays the page out without measuring each cell).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QItemSelection, QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from aldesk.core.dataset import Dataset
from aldesk.core.labeling.session import Session
from aldesk.ui.grid.delegate import GridDelegate
from aldesk.ui.grid.model import THUMB_PX, GridModel
from aldesk.ui.shell import keys
from aldesk.ui.shell.thumbs import ThumbnailLoader

_OWN_KEYS = {
    Qt.Key.Key_Return,
    Qt.Key.Key_Enter,
    Qt.Key.Key_Space,
    Qt.Key.Key_Escape,
    Qt.Key.Key_Left,
    Qt.Key.Key_Right,
    Qt.Key.Key_Up,
    Qt.Key.Key_Down,
    Qt.Key.Key_PageUp,
    Qt.Key.Key_PageDown,
    Qt.Key.Key_M,
}


def class_number(ev: QKeyEvent) -> int | None:
    """The class a key press names: 1-9, 0 (classes 1-10), Shift+digit (11-20), Shift+Alt+digit (21-30), as in
    the labeling view (:func:`aldesk.ui.shell.keys.class_number`)."""
    return keys.class_number(ev.key(), ev.modifiers())


class GridView(QListView):
    class_key = Signal(int)  # 1-based class number pressed
    accept_key = Signal()  # Enter: accept the shown predictions of the selection
    escape_key = Signal()
    page_key = Signal(int)  # +1 PageDown, -1 PageUp
    similar_key = Signal(int)  # M on the focused item: more like it
    selection_count = Signal(int)

    def __init__(
        self,
        thumbs: ThumbnailLoader | None,
        kind: str = "text",
        thumb_px: int = THUMB_PX,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.grid_model = GridModel(thumbs, thumb_px)
        self.setModel(self.grid_model)
        self.delegate = GridDelegate(self.grid_model, kind, thumb_px)
        self.setItemDelegate(self.delegate)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setGridSize(self.delegate.cell_size())
        self.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(False)
        self.selectionModel().selectionChanged.connect(self._on_selection)

    def set_kind(self, kind: str) -> None:
        self.delegate.kind = kind
        self.setGridSize(self.delegate.cell_size())

    def show_items(
        self,
        session: Session,
        ds: Dataset,
        items: np.ndarray,
        scores: np.ndarray | None = None,
        target: str | None = None,
        select_all: bool = True,
    ) -> None:
        """A new page; every item selected (the page is confirmed by one key), the focus on the first."""
        if self.delegate.kind != ds.kind:
            self.set_kind(ds.kind)
        self.grid_model.set_page(session, ds, items, scores, target)
        if self.grid_model.rowCount():
            self.selectionModel().setCurrentIndex(
                self.grid_model.index(0), QItemSelectionModel.SelectionFlag.NoUpdate
            )
            if select_all:
                self.select_all()
        self.scrollToTop()
        self._on_selection()

    def select_all(self) -> None:
        n = self.grid_model.rowCount()
        if n:
            sel = QItemSelection(self.grid_model.index(0), self.grid_model.index(n - 1))
            self.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def selected_items(self) -> list[int]:
        """The selected items, in page order."""
        rows = sorted(ix.row() for ix in self.selectionModel().selectedIndexes())
        return [self.grid_model.cards[r].item for r in rows]

    def selected_cards(self) -> list:
        rows = sorted(ix.row() for ix in self.selectionModel().selectedIndexes())
        return [self.grid_model.cards[r] for r in rows]

    def _on_selection(self, *_: object) -> None:
        self.selection_count.emit(len(self.selectionModel().selectedIndexes()))

    # ------------------------------------------------------------------ keys
    def event(self, ev: QEvent) -> bool:
        if ev.type() == QEvent.Type.ShortcutOverride:
            k: QKeyEvent = ev  # type: ignore[assignment]
            plain = not (
                k.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
            )
            if class_number(k) is not None or (plain and k.key() in _OWN_KEYS):
                ev.accept()
                return True
        return super().event(ev)

    def keyPressEvent(self, ev: QKeyEvent) -> None:
        n = class_number(ev)
        key = ev.key()
        if n is not None:
            self.class_key.emit(n)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.accept_key.emit()
        elif key == Qt.Key.Key_Escape:
            self.escape_key.emit()
        elif key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
            self.page_key.emit(1 if key == Qt.Key.Key_PageDown else -1)
        elif key == Qt.Key.Key_A and ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.select_all()
        elif key == Qt.Key.Key_M and self.currentIndex().isValid():
            self.similar_key.emit(self.grid_model.cards[self.currentIndex().row()].item)
        else:
            super().keyPressEvent(ev)  # arrows move the focus, Space toggles (MultiSelection)
            return
        ev.accept()
