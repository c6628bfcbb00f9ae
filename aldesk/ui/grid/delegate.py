"""How one grid cell is drawn: the thumbnail (or the text, wrapped), a caption, and the selection state.

Selected cells get a thick frame and a check mark: the page is confirmed by one key, so what will be labeled
must be obvious at a glance; a deselected cell is drawn faded. A prediction that disagrees with the page's
target class (the lasso preview) is captioned in red.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from aldesk.ui.grid.model import Card, GridModel

_Index = QModelIndex | QPersistentModelIndex
SELECTED = QColor("#1f77b4")
OFF_TARGET = QColor("#c0392b")
CAPTION_PX = 34  # two lines of caption


class GridDelegate(QStyledItemDelegate):
    def __init__(self, model: GridModel, kind: str, thumb_px: int) -> None:
        super().__init__()
        # The model is read directly (its lists), not through index.data(): a QVariant round trip per role and
        # cell was a third of a 200-cell paint.
        self.model = model
        self._bold: QFont | None = None
        self.kind = kind
        self.thumb_px = thumb_px

    def cell_size(self) -> QSize:
        if self.kind == "image":
            return QSize(self.thumb_px + 12, self.thumb_px + CAPTION_PX + 12)
        return QSize(260, 120)

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return self.cell_size()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        row = index.row()
        if not 0 <= row < len(self.model.cards):
            return
        card = self.model.cards[row]
        r = option.rect.adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        current = bool(option.state & QStyle.StateFlag.State_HasFocus)
        painter.save()
        painter.fillRect(r, QColor("#eaf2fb") if selected else QColor("#f7f7f7"))
        body = QRect(r.left() + 3, r.top() + 3, r.width() - 6, r.height() - CAPTION_PX - 6)
        if not selected:
            painter.setOpacity(0.45)
        if self.kind == "image":
            pm = self.model.pixmap(row)
            if isinstance(pm, QPixmap) and not pm.isNull():
                # The loader scaled it to the cell already: drawn 1:1 (no per-paint scaling), else fitted.
                dpr = pm.devicePixelRatio() or 1.0
                w, h = pm.width() / dpr, pm.height() / dpr
                if w > body.width() or h > body.height():
                    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
                    size = pm.size().scaled(body.size(), Qt.AspectRatioMode.KeepAspectRatio)
                    w, h = size.width(), size.height()
                target = QRect(0, 0, int(w), int(h))
                target.moveCenter(body.center())
                painter.drawPixmap(target, pm)
            else:
                painter.fillRect(body, QColor("#dddddd"))
        else:
            painter.setPen(QColor("#222222"))
            flags = Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
            # Clear of the check mark, and clipped: a long text never runs into the caption below it.
            text_rect = body.adjusted(0, 0, -20, 0)
            line = max(1, painter.fontMetrics().lineSpacing())
            text_rect.setHeight(text_rect.height() // line * line)  # whole lines only, never half a line
            painter.setClipRect(text_rect)
            painter.drawText(text_rect, int(flags), self.model.text(row))
            painter.setClipping(False)
        painter.setOpacity(1.0)
        self._caption(painter, card, QRect(r.left() + 4, r.bottom() - CAPTION_PX, r.width() - 8, CAPTION_PX))
        pen = QPen(SELECTED if selected else QColor("#c8c8c8"), 3 if selected else 1)
        if current:
            pen.setStyle(Qt.PenStyle.DashLine)
            pen.setColor(QColor("#d35400"))
            pen.setWidth(3)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(r)
        if selected:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            mark = QRect(r.right() - 20, r.top() + 4, 16, 16)
            painter.setBrush(SELECTED)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(mark)
            painter.setPen(QPen(QColor("white"), 2))
            painter.drawLine(mark.left() + 4, mark.center().y(), mark.center().x() - 1, mark.bottom() - 4)
            painter.drawLine(mark.center().x() - 1, mark.bottom() - 4, mark.right() - 3, mark.top() + 4)
        painter.restore()

    def _caption(self, painter: QPainter, card: Card, rect: QRect) -> None:
        if card.label is not None:
            top = f"labeled {card.label}"
        elif card.predicted is not None:
            top = f"{card.predicted} {card.confidence:.0%}"
        else:
            top = "no prediction yet"
        bottom = f"#{card.item + 1:,}" + ("" if card.score is None else f" · {card.score:.2f}")
        plain = painter.font()
        if self._bold is None:
            self._bold = QFont(plain)
            self._bold.setBold(True)
        painter.setFont(self._bold)  # the caption: bold class line, plain number line
        painter.setPen(OFF_TARGET if card.off_target else QColor("#222222"))
        half = rect.height() // 2
        elide = Qt.TextElideMode.ElideRight
        fm = painter.fontMetrics()
        painter.drawText(
            rect.adjusted(0, 0, 0, -half),
            int(Qt.AlignmentFlag.AlignLeft),
            fm.elidedText(top, elide, rect.width()),
        )
        painter.setFont(plain)
        painter.setPen(QColor("#555555"))
        painter.drawText(
            rect.adjusted(0, half, 0, 0),
            int(Qt.AlignmentFlag.AlignLeft),
            fm.elidedText(bottom, elide, rect.width()),
        )
