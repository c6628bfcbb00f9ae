"""The Grid tab: pages of items chosen by a query, confirmed or labeled a page at a time.

What a page shows comes from the Qt-free queries of :mod:`aldesk.core.labeling.views`: the current candidates,
"predicted as X, most confident first" (confirm the easy ones), "least confident of X" (look at the doubtful
ones), "more like this" (an item's nearest unlabeled neighbours), and a search, by meaning (the typed words
embedded by the project's own text model, in the task runner) or by substring. A class key labels the selection
as ONE batch (origin "grid": one Ctrl+Z undoes the page); Enter accepts the shown predictions. After each label
the query runs again, so the next unlabeled items slide into the page.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from aldesk.core.labeling import views
from aldesk.ui.grid.search import MEANING_TIP, NO_TEXT_TOWER, QueryEmbedder, Substring
from aldesk.ui.grid.view import GridView
from aldesk.ui.labeling.controller import Controller
from aldesk.ui.shell.tasks import TaskRunner
from aldesk.ui.shell.thumbs import ThumbnailLoader

PAGE = 20  # a page the eye takes in at once; the spin box changes it
MODES = ("candidates", "predicted", "least", "similar", "search")
MODE_NAMES = (
    "Candidates (the ranking)",
    "Predicted as … most confident first",
    "Least confident of …",
    "More like this (M)",
    "Search results",
)


class GridPanel(QWidget):
    open_item = Signal(int)  # double-click: show the item in the labeling view
    back = Signal()  # Esc: back to the labeling view

    def __init__(
        self,
        ctl: Controller,
        thumbs: ThumbnailLoader | None,
        runner: TaskRunner,
        card: Callable[[], object] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctl, self.runner = ctl, runner
        self.ds = ctl.ws.dataset
        self.mode = "candidates"
        self.anchor: int | None = None  # the item of "more like this"
        self.query: str = ""
        self.query_vec: np.ndarray | None = None  # the typed query's embedding (None: substring search)
        self.offset = 0
        self.total = 0
        self.embedder = QueryEmbedder(runner, card, ctl.session.X.shape[1], self)
        self.embedder.ready.connect(self._on_search_done)
        self.embedder.failed.connect(self.info_text)
        self.substring = Substring(self.ds)
        self._stale = False  # labels changed while the tab was hidden

        self.mode_box = QComboBox()
        self.mode_box.addItems(MODE_NAMES)
        self.mode_box.activated.connect(self._on_mode)
        self.class_box = QComboBox()
        self.class_box.activated.connect(self._on_mode)
        self.page_size = QSpinBox()
        self.page_size.setRange(5, 500)
        self.page_size.setValue(PAGE)
        self.page_size.setPrefix("page ")
        self.page_size.valueChanged.connect(lambda _v: self.refresh())
        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(self.run_search)
        self.by_meaning = QCheckBox("by meaning")
        text = self.ds.kind == "text"
        self.by_meaning.setChecked(text)
        self.by_meaning.setEnabled(text)
        self.search.setPlaceholderText("Search by meaning… (Enter)" if text else "Search file names… (Enter)")
        tip = MEANING_TIP if text else NO_TEXT_TOWER
        self.search.setToolTip(tip)
        self.by_meaning.setToolTip(tip)
        bar = QHBoxLayout()
        for w in (self.mode_box, self.class_box, self.page_size, self.search, self.by_meaning):
            bar.addWidget(w)
        bar.setStretchFactor(self.search, 1)

        self.view = GridView(thumbs, self.ds.kind)
        self.view.class_key.connect(self.label_selection)
        self.view.accept_key.connect(self.accept_selection)
        self.view.page_key.connect(self.turn_page)
        self.view.similar_key.connect(self.show_similar)
        self.view.escape_key.connect(self.back)
        self.view.selection_count.connect(lambda _n: self._show_info())
        self.view.doubleClicked.connect(
            lambda ix: self.open_item.emit(self.view.grid_model.cards[ix.row()].item)
        )
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.info)
        lay.addWidget(self.view, 1)

        self._timer = QTimer(self)  # a burst of labels elsewhere costs one refresh
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        ctl.labels_changed.connect(self._schedule)
        ctl.classes_changed.connect(self._on_classes)
        self._on_classes()

    # ------------------------------------------------------------------ queries
    def show_candidates(self) -> None:
        self._set_mode("candidates")

    def show_predicted(self, cls: str, least_confident: bool = False) -> None:
        self.class_box.setCurrentText(cls)
        self._set_mode("least" if least_confident else "predicted")

    def show_similar(self, item: int) -> None:
        self.anchor = int(item)
        self._set_mode("similar")

    @Slot()
    def run_search(self) -> None:
        """The typed query: by meaning in the task runner (model inference), or by substring at once."""
        text = self.search.text().strip()
        if not text:
            return
        if not (self.by_meaning.isChecked() and self.ds.kind == "text"):
            self.query, self.query_vec = text, None
            self._set_mode("search")
            return
        self.info.setText(f"Embedding “{text}”…")
        self.embedder.start(text)

    @Slot(str, object)
    def _on_search_done(self, text: str, vec: object) -> None:
        if text != self.search.text().strip():
            return  # the user typed another query meanwhile: its own result follows
        self.query, self.query_vec = text, np.asarray(vec, dtype=np.float32)
        self._set_mode("search")

    @Slot(str)
    def info_text(self, text: str) -> None:
        self.info.setText(text)

    def results(self, n: int) -> tuple[np.ndarray, np.ndarray | None, int]:
        """(items, scores, how many there are in all) of the current query, the first ``n`` of them."""
        s, cls = self.ctl.session, self.class_box.currentText()
        if self.mode == "candidates":
            cands = s.candidates(n)
            return np.array([c.index for c in cands], np.int64), None, len(cands)
        if self.mode in ("predicted", "least"):
            if cls not in s.classes:
                return np.zeros(0, np.int64), None, 0
            items, conf = views.predicted_as(s, cls, least_confident=self.mode == "least")
            return items[:n], conf[:n], int(items.size)
        if self.mode == "similar" and self.anchor is not None:
            items, sims = views.unlabeled_neighbours(s, self.anchor, n)
            return items, sims, int(s.pool_mask().sum())
        if self.mode == "search" and self.query_vec is not None:
            items, sims = views.similar_to(s, self.query_vec, n)
            return items, sims, int(s.pool_mask().sum())
        if self.mode == "search" and self.query:
            hits = self.substring.hits(self.query, self.ctl.session.pool_mask())
            return hits[:n], None, int(hits.size)
        return np.zeros(0, np.int64), None, 0

    # ------------------------------------------------------------------ page
    @Slot()
    def refresh(self) -> None:
        self._timer.stop()  # this is the pending refresh: a label the grid gave itself is queried once, not twice
        self._stale = False
        size = self.page_size.value()
        items, scores, self.total = self.results(self.offset + size)
        if self.offset and self.offset >= items.size:  # the page emptied: back to the last full one
            self.offset = max(0, (max(items.size, 1) - 1) // size * size)
        page = items[self.offset : self.offset + size]
        # A similarity is worth a caption; a confidence is in the caption already (the prediction's percentage).
        shown = scores is not None and self.mode in ("similar", "search")
        sc = scores[self.offset : self.offset + size] if shown and scores is not None else None
        self.view.show_items(self.ctl.session, self.ds, page, sc)
        self._show_info()

    @Slot(int)
    def turn_page(self, delta: int) -> None:
        size = self.page_size.value()
        new = max(0, self.offset + delta * size)
        if new < self.total:
            self.offset = new
            self.refresh()

    def _set_mode(self, mode: str) -> None:
        self.mode = mode
        self.mode_box.setCurrentIndex(MODES.index(mode))
        self.class_box.setEnabled(mode in ("predicted", "least"))
        self.offset = 0
        self.refresh()
        self.view.setFocus()

    @Slot()
    def _on_mode(self, *_: object) -> None:
        mode = MODES[self.mode_box.currentIndex()]
        if mode == "similar" and self.anchor is None:
            self.anchor = self.ctl.current
        self._set_mode(mode)

    @Slot()
    def _on_classes(self) -> None:
        cur = self.class_box.currentText()
        self.class_box.clear()
        self.class_box.addItems(self.ctl.session.classes)
        if cur in self.ctl.session.classes:
            self.class_box.setCurrentText(cur)
        self._schedule()

    @Slot()
    def _schedule(self) -> None:
        # Hidden, the grid costs nothing: a key in the labeling view must not pay for a query over the pool.
        if self.isVisible():
            self._timer.start()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.refresh()

    # ------------------------------------------------------------------ actions
    @Slot(int)
    def label_selection(self, number: int) -> None:
        """Class key ``number``: the selected items get that class in ONE action (one undo)."""
        classes = self.ctl.session.classes
        if not 1 <= number <= len(classes):
            self.info.setText(f"There is no class {number}: press N in the Label tab to add one.")
            return
        items = self.view.selected_items()
        if not items:
            self.info.setText("Nothing is selected: Space selects the focused item, Ctrl+A the page.")
            return
        cls = classes[number - 1]
        if self.ctl.label_items(items, cls, origin="grid"):
            self._after_label(f"Labeled {len(items)} items as <b>{cls}</b> — Ctrl+Z undoes the page.")

    @Slot()
    def accept_selection(self) -> None:
        """Enter: each selected item gets the prediction it shows, one undo for the page (a batch per class)."""
        by_cls: dict[str, list[int]] = {}
        for card in self.view.selected_cards():
            if card.predicted is not None and card.label is None:
                by_cls.setdefault(card.predicted, []).append(card.item)
        if not by_cls:
            self.info.setText("No prediction to accept among the selected items.")
            return
        if self.ctl.label_by_class(by_cls, origin="grid"):
            done = ", ".join(f"{len(v)} as <b>{c}</b>" for c, v in by_cls.items())
            self._after_label(f"Accepted {done} — Ctrl+Z undoes the page.")

    def _after_label(self, text: str) -> None:
        ctl = self.ctl
        if ctl.current is not None and ctl.session.label_of(ctl.current) is not None:
            ctl.move(0)  # the labeling view moves on to an unlabeled candidate
        self.refresh()
        self.info.setText(text + " " + self._page_text())

    def _page_text(self) -> str:
        size = self.page_size.value()
        n_sel = len(self.view.selectionModel().selectedIndexes())
        pages = max(1, -(-self.total // size))
        return (
            f"Page {self.offset // size + 1} of {pages} ({self.total:,} items) · {n_sel} selected. "
            "Class key: label the selected · Enter: accept their predictions · Space: toggle · "
            "PgDn/PgUp: page · Esc: back to Label"
        )

    def _show_info(self) -> None:
        if self.mode == "similar" and self.anchor is not None:
            head = f"More like #{self.anchor + 1:,}: its nearest unlabeled items. "
        elif self.mode == "search":
            how = "by meaning" if self.query_vec is not None else "contains"
            head = f"“{self.query}” ({how}, unlabeled items). "
        elif self.mode in ("predicted", "least"):
            head = f"{MODE_NAMES[MODES.index(self.mode)].replace('…', self.class_box.currentText())}. "
        else:
            head = "The current candidates. "
        self.info.setText(head + self._page_text())
