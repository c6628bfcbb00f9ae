"""File › Import labels…: a label file (CSV/TSV, Parquet, JSON Lines, Label Studio JSON) and how to read it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

FILTER = "Label files (*.csv *.tsv *.txt *.parquet *.pq *.json *.jsonl);;All files (*)"


@dataclass(frozen=True)
class ImportRequest:
    path: Path
    id_column: str | None = None
    label_column: str | None = None
    overwrite: bool = False


class ImportDialog(QDialog):
    def __init__(self, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("import_dialog")
        self.setWindowTitle("Import labels")
        self.folder = Path(folder)
        self.path = QLineEdit(objectName="path")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(choose)
        self.id_column = QLineEdit(objectName="id_column", placeholderText="item")
        self.label_column = QLineEdit(objectName="label_column", placeholderText="label")
        self.overwrite = QCheckBox("Replace labels that differ (default: keep mine)", objectName="overwrite")
        form = QFormLayout(self)
        form.addRow("File:", row)
        form.addRow("Items are named by the column:", self.id_column)
        form.addRow("Labels are in the column:", self.label_column)
        form.addRow("", self.overwrite)
        form.addRow(
            QLabel(
                "Label Studio JSON: annotations become labels, predictions suggestions. One undo reverts the "
                "whole import.",
                wordWrap=True,
            )
        )
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self._ok.setEnabled(False)
        self.path.textChanged.connect(self._path_changed)

    @Slot(str)
    def _path_changed(self, text: str) -> None:
        self._ok.setEnabled(bool(text.strip()))

    @Slot()
    def _choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import labels from", str(self.folder), FILTER)
        if path:
            self.path.setText(path)

    def request(self) -> ImportRequest:
        return ImportRequest(
            path=Path(self.path.text().strip()).expanduser(),
            id_column=self.id_column.text().strip() or None,
            label_column=self.label_column.text().strip() or None,
            overwrite=self.overwrite.isChecked(),
        )
