"""File › Compare with…: the open project's labels beside another project's (a second labeler's).

Shows Cohen's kappa, the per-class agreement table and the disagreement queue; a double-click (or Enter) on a
disagreement shows that item in the labeling view, where the usual keys relabel it. Both projects are read as
read-only snapshots (:func:`aldesk.core.quality.compare.compare_files`): nothing is written to the other one. The
comparison runs in the task runner; a merge is the CLI's (``aldesk compare A B --merge OUT``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from aldesk.core.quality.compare import Comparison


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    return t


def _cell(text: str) -> QTableWidgetItem:
    return QTableWidgetItem(" ".join(text.split())[:200])


class CompareDialog(QDialog):
    """Non-modal: the user can keep it open while relabeling the disagreements."""

    open_item = Signal(int)  # an item of the OPEN project (A) to show in the labeling view

    def __init__(self, cmp: Comparison, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cmp = cmp
        self.setWindowTitle(f"Compare with {cmp.path_b.name}")
        self.resize(720, 560)
        kappa = "undefined (one class only)" if cmp.kappa is None else f"{cmp.kappa:.3f}"
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        agree = (
            f"; agreement {cmp.observed:.1%} (by chance {cmp.expected:.1%})"
            if cmp.observed is not None and cmp.expected is not None
            else ""
        )
        differs = (
            f"<br>{len(cmp.content_differs)} items have the same name but different content: not compared."
            if cmp.content_differs
            else ""
        )
        self.summary.setText(
            f"<b>Cohen's kappa: {kappa}</b> on the {len(cmp.pairs):,} items both labeled{agree}.<br>"
            f"Labeled only here: {cmp.only_a:,} · only in {cmp.path_b.name}: {cmp.only_b:,}.{differs}"
        )
        self.classes = _table(["class", "here", cmp.path_b.name, "both", "agreement"])
        for c in cmp.per_class:
            r = self.classes.rowCount()
            self.classes.insertRow(r)
            agree_c = "–" if c.agreement is None else f"{c.agreement:.0%}"
            for col, v in enumerate((c.name, str(c.n_a), str(c.n_b), str(c.both), agree_c)):
                self.classes.setItem(r, col, _cell(v))
        dis = cmp.disagreements
        self.queue_label = QLabel(
            f"<b>Disagreements: {len(dis):,}</b> — double-click one to see it in the labeling view."
            if dis
            else "<b>No disagreements.</b>"
        )
        self.queue = _table(["item", "here", cmp.path_b.name])
        for p in dis:
            r = self.queue.rowCount()
            self.queue.insertRow(r)
            for col, v in enumerate((p.key, p.label_a, p.label_b)):
                self.queue.setItem(r, col, _cell(v))
        self.queue.cellActivated.connect(self._activated)  # a double-click or Enter (the style's activation)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addWidget(self.classes, 1)
        lay.addWidget(self.queue_label)
        lay.addWidget(self.queue, 2)
        lay.addWidget(buttons)

    @Slot(int, int)
    def _activated(self, row: int, _col: int) -> None:
        self.open_item.emit(self.cmp.disagreements[row].a)
