"""The labeling view: the candidate strip, the current item large, the class keys, the key hints."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QFrame,
    QLabel,
    QListView,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from aldesk.ui.labeling.controller import Controller
from aldesk.ui.shell.flow_layout import FlowLayout
from aldesk.ui.shell.keys import class_key_name, display
from aldesk.ui.shell.thumbs import ThumbnailLoader

THUMB = 96
LARGE = 360
BUTTON_NAME_CHARS = 20  # a longer class name is elided on its button (the tooltip has it whole)
_Index = QModelIndex | QPersistentModelIndex


def snippet(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


class CandidateModel(QAbstractListModel):
    """The ranked candidates (a few dozen rows), reset after each re-rank."""

    def __init__(self, ctl: Controller, thumbs: ThumbnailLoader) -> None:
        super().__init__()
        self.ctl = ctl
        self.thumbs = thumbs
        self.ds = ctl.ws.dataset
        self.rows: list[int] = []
        self.card_size = QSize(280, 64)
        self._placeholder = QPixmap(THUMB, THUMB)
        self._placeholder.fill(Qt.GlobalColor.lightGray)
        self._dpr: Callable[[], float] | None = None  # the strip's devicePixelRatioF, once the view exists
        thumbs.ready.connect(self._on_thumb)

    def refresh(self) -> None:
        new = [c.index for c in self.ctl.cands]
        if len(new) == len(self.rows) - 1:
            # The common case after a key: one item left the list. Removing one row keeps the view's
            # selection and layout instead of rebuilding them (a reset re-queries every row).
            gone = next((r for r, (a, b) in enumerate(zip(self.rows, new, strict=False)) if a != b), len(new))
            if self.rows[:gone] + self.rows[gone + 1 :] == new:
                self.beginRemoveRows(QModelIndex(), gone, gone)
                self.rows = new
                self.endRemoveRows()
                return
        self.beginResetModel()
        self.rows = new
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        item = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"#{index.row() + 1}" if self.ds.kind == "image" else snippet(self.ds.text(item), 140)
        if role == Qt.ItemDataRole.DecorationRole and self.ds.kind == "image":
            # A same-size placeholder until the thumbnail arrives: item sizes stay right from the start.
            # At the screen's pixel density: sharp on HiDPI (a 96 px thumbnail is 192 device pixels at 2x).
            return self.thumbs.get(self.ds.path(item), THUMB, self.dpr()) or self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.ds.keys[item] if self.ds.kind == "image" else snippet(self.ds.text(item), 600)
        if role == Qt.ItemDataRole.UserRole:
            return item
        if role == Qt.ItemDataRole.SizeHintRole and self.ds.kind == "text":
            return self.card_size  # fixed card height: the view never measures wrapped text per row
        return None

    def dpr(self) -> float:
        return self._dpr() if self._dpr is not None else 1.0

    @Slot(str)
    def _on_thumb(self, key: str) -> None:
        if self.rows and self.ds.kind == "image":
            # Cheap: a few dozen rows; the view repaints only what is visible.
            self.dataChanged.emit(
                self.index(0), self.index(len(self.rows) - 1), [Qt.ItemDataRole.DecorationRole]
            )


class LabelingView(QWidget):
    """Shows the controller's current item and candidates; user input arrives as key actions or clicks."""

    class_clicked = Signal(int)  # 1-based class number
    new_class_clicked = Signal()
    describe_clicked = Signal()  # the class row's "Describe…" (ui/labeling/zero_shot)

    def __init__(self, ctl: Controller, thumbs: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctl = ctl
        self.thumbs = thumbs
        self.ds = ctl.ws.dataset
        self.is_image = self.ds.kind == "image"
        self._key_names: dict[str, str] = {}
        self._bindings: dict[str, list[QKeySequence]] = {}

        self.model = CandidateModel(ctl, thumbs)
        self.strip = QListView()
        self.model._dpr = self.strip.devicePixelRatioF
        self.strip.setModel(self.model)
        self.strip.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the window's shortcuts
        self.strip.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.strip.setUniformItemSizes(True)
        if self.is_image:
            self.strip.setViewMode(QListView.ViewMode.IconMode)
            self.strip.setFlow(QListView.Flow.LeftToRight)
            self.strip.setWrapping(False)
            self.strip.setIconSize(QSize(THUMB, THUMB))
            self.strip.setGridSize(QSize(THUMB + 12, THUMB + 26))
            self.strip.setFixedHeight(THUMB + 48)
            self.strip.setMovement(QListView.Movement.Static)
        else:
            self.strip.setWordWrap(True)
            self.strip.setSpacing(2)
            self.strip.setAlternatingRowColors(True)
            self.strip.setMinimumWidth(220)
            self.strip.setMaximumWidth(340)
            self.strip.setTextElideMode(Qt.TextElideMode.ElideRight)
            line = self.strip.fontMetrics().lineSpacing()
            self.model.card_size = QSize(200, 4 * line + 6)  # four lines of text per card
            self.strip.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            self.strip.viewport().installEventFilter(self)
        self.strip.clicked.connect(self._on_strip_clicked)

        self.header = QLabel()
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)  # a long file name wraps; it never sets the window's width
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(200, 200)
        self.image.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.text = QTextBrowser()
        self.text.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        f = QFont(self.text.font())
        f.setPointSizeF(f.pointSizeF() * 1.5)
        self.text.setFont(f)
        self.item_stack = QStackedWidget()
        self.item_stack.addWidget(self.image)
        self.item_stack.addWidget(self.text)
        self.item_stack.setCurrentWidget(self.image if self.is_image else self.text)
        frame = QFrame()
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        fl = QVBoxLayout(frame)
        fl.addWidget(self.item_stack)
        self.suggestion = QLabel()
        self.suggestion.setTextFormat(Qt.TextFormat.RichText)
        self.suggestion.setWordWrap(True)

        # Wraps onto more rows: thirty classes must not force a window wider than the screen.
        self.class_bar = FlowLayout()
        self.class_buttons: list[QPushButton] = []
        self.new_class_button = QPushButton("New class")
        self.new_class_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.new_class_button.clicked.connect(self.new_class_clicked)
        self.hints = QLabel()
        self.hints.setTextFormat(Qt.TextFormat.RichText)
        self.hints.setWordWrap(True)

        center = QVBoxLayout()
        center.addWidget(self.header)
        center.addWidget(frame, 1)
        center.addWidget(self.suggestion)
        center.addLayout(self.class_bar)
        center.addWidget(self.hints)
        outer = QBoxLayout(
            QBoxLayout.Direction.TopToBottom if self.is_image else QBoxLayout.Direction.LeftToRight
        )
        outer.addWidget(self.strip)
        outer.addLayout(center, 1)
        outer.setContentsMargins(6, 6, 6, 6)
        self.setLayout(outer)

        ctl.current_changed.connect(self.show_current)
        ctl.ranking_changed.connect(self._on_ranking)
        ctl.labels_changed.connect(self._update_class_bar)
        ctl.classes_changed.connect(self.rebuild_class_bar)
        thumbs.ready.connect(self._on_thumb)

    # ---------------------------------------------------------------- keys
    def set_key_names(self, names: dict[str, list[QKeySequence]]) -> None:
        self._bindings = names
        self._key_names = {k: display(v) for k, v in names.items()}
        k = self._key_names
        self.hints.setText(
            f"<b>{k['accept']}</b> accept suggestion &nbsp;·&nbsp; <b>{k['skip']}</b> skip &nbsp;·&nbsp; "
            f"<b>{k['undo']}</b> undo &nbsp;·&nbsp; <b>{k['prev']}</b> / <b>{k['next']}</b> previous / next"
            f" &nbsp;·&nbsp; <b>{k['new_class']}</b> new class &nbsp;·&nbsp; <b>{k['help']}</b> all keys"
            f" &nbsp;·&nbsp; <b>{k['quit']}</b> quit"
        )
        self.new_class_button.setText(f"[{k['new_class']}]  New class…")
        self.rebuild_class_bar()

    @Slot()
    def rebuild_class_bar(self) -> None:
        """One button per class, every class (its key on it: 1…0, Shift+1…, Shift+Alt+1…, then the picker's)."""
        while self.class_bar.count():
            item = self.class_bar.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        self.class_buttons = []
        for n, _name in enumerate(self.ctl.session.classes, start=1):
            b = QPushButton()
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, n=n: self.class_clicked.emit(n))
            self.class_bar.addWidget(b)
            self.class_buttons.append(b)
        self.new_class_button = QPushButton(f"[{self._key_names.get('new_class', 'N')}]  New class…")
        self.new_class_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.new_class_button.clicked.connect(self.new_class_clicked)
        self.class_bar.addWidget(self.new_class_button)
        self.describe_button = QPushButton("Describe…")
        self.describe_button.setToolTip(
            "A short description per class guides the first candidates (zero-shot)"
        )
        self.describe_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.describe_button.clicked.connect(self.describe_clicked)
        self.class_bar.addWidget(self.describe_button)
        self._update_class_bar()

    def class_key_text(self, n: int) -> str:
        """The key of class ``n`` as its button shows it."""
        if self._bindings:
            return class_key_name(self._bindings, n)
        return str(n % 10) if n <= 10 else "/"

    @Slot()
    def _update_class_bar(self) -> None:
        counts = self.ctl.session.counts()
        for n, (b, name) in enumerate(
            zip(self.class_buttons, self.ctl.session.classes, strict=False), start=1
        ):
            short = name if len(name) <= BUTTON_NAME_CHARS else name[: BUTTON_NAME_CHARS - 1] + "…"
            b.setText(f"[{self.class_key_text(n)}]  {short}  ({counts.get(name, 0)})")
            b.setToolTip(f"{name}: {counts.get(name, 0):,} labeled")

    # --------------------------------------------------------------- views
    @Slot()
    def _on_ranking(self) -> None:
        self.model.refresh()
        self._select_current()
        self._update_header()  # the count of a fresh ranking (it was the shrunk list of the old one)

    def _select_current(self) -> None:
        pos = self.ctl.position()
        sel = self.strip.selectionModel()
        if pos < 0:
            sel.clearSelection()
            return
        idx = self.model.index(pos)
        sel.setCurrentIndex(idx, sel.SelectionFlag.ClearAndSelect)
        self.strip.scrollTo(idx)

    @Slot()
    def show_current(self) -> None:
        ctl, ds = self.ctl, self.ds
        # The strip may hold items labeled since the last re-rank: drop them cheaply.
        if [c.index for c in ctl.cands] != self.model.rows:
            self.model.refresh()
        self._select_current()
        i = ctl.current
        if i is None:
            self.header.setText("<b>Everything is labeled.</b> Browse to review, or add items.")
            self.image.clear()
            self.text.clear()
            self.suggestion.clear()
            return
        self._update_header()
        if self.is_image:
            self._show_image(i)
        else:
            self.text.setPlainText(ds.text(i))
        # Exact and fresh (< 1 ms): the candidate's own prediction may predate the last labels.
        p = ctl.session.predict(i)
        pred = p.predicted
        conf = p.probabilities.get(pred, 0.0) if pred else 0.0
        accept = self._key_names.get("accept", "Enter")
        if pred:
            self.suggestion.setText(f"Model suggests <b>{pred}</b> ({conf:.0%}) — <b>{accept}</b> to accept")
        else:
            self.suggestion.setText("No suggestion yet — press a number key to label")

    def _update_header(self) -> None:
        """Where the item on screen stands; while a re-rank is pending the count is the old ranking's, so the
        header says so (the trailing re-rank after the keys stop refreshes it)."""
        ctl = self.ctl
        i = ctl.current
        if i is None:
            return
        pos = ctl.position()
        where = f"Candidate {pos + 1} of {len(ctl.cands)}" if pos >= 0 else "Chosen item"
        if pos >= 0 and ctl.rerank_pending():
            where += " <i>(re-ranking…)</i>"
        lab = ctl.session.label_of(i)
        state = f" · labeled <b>{lab}</b>" if lab else (" · skipped" if ctl.session.skipped[i] else "")
        name = html.escape(self.ds.keys[i]) if self.is_image else f"text {i + 1:,}"
        self.header.setText(f"{where} · <b>{name}</b>{state}")

    def _show_image(self, i: int) -> None:
        side = max(128, min(LARGE, self.image.width() - 8, self.image.height() - 8))
        pm = self.thumbs.load_now(self.ds.path(i), side, self.image.devicePixelRatioF())
        if pm is None:
            self.image.setText(f"Cannot read {self.ds.keys[i]}")
        else:
            self.image.setPixmap(pm)

    @Slot(str)
    def _on_thumb(self, key: str) -> None:
        pass  # the strip model repaints itself; the large image is loaded synchronously

    @Slot(QModelIndex)
    def _on_strip_clicked(self, index: QModelIndex) -> None:
        self.ctl.jump(self.model.rows[index.row()])

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        if ev.type() == QEvent.Type.Resize and obj is self.strip.viewport():
            # Cards as wide as the strip: text wraps inside instead of running under a scroll bar.
            w = max(120, self.strip.viewport().width() - 2 * self.strip.spacing() - 2)
            if w != self.model.card_size.width():
                self.model.card_size = QSize(w, self.model.card_size.height())
                self.model.layoutChanged.emit()
        return super().eventFilter(obj, ev)

    def pixmap(self) -> QPixmap:
        return self.image.pixmap()
