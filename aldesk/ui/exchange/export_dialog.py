"""File › Export…: a format, its options and where to write, as one :class:`ExportRequest`.

Only the options that fit the chosen format are enabled (``--split`` for the image folder formats, ``--excel``
for csv, ``--vectors`` for parquet); the image formats are disabled for a project of texts. The core checks the
output again when the export runs (never the project, its companions or the source).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from aldesk.core.exchange.formats import (
    DESCRIPTIONS,
    FOLDER_FORMATS,
    FORMATS,
    IMAGE_FORMATS,
    MODEL_FORMATS,
    SPLIT_FORMATS,
)

SUFFIXES = {"csv": ".csv", "jsonl": ".jsonl", "parquet": ".parquet", "labelstudio": ".json"}


@dataclass(frozen=True)
class ExportRequest:
    fmt: str
    out: Path
    predicted: bool = False
    min_confidence: float = 0.0
    split: bool = False
    excel: bool = False
    vectors: bool = False
    mode: str = "copy"


class ExportDialog(QDialog):
    def __init__(self, kind: str, project: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("export_dialog")
        self.setWindowTitle("Export labels")
        self.kind = kind
        self.project = Path(project)
        self.format = QComboBox(objectName="format")
        for fmt in FORMATS:
            self.format.addItem(f"{fmt} — {DESCRIPTIONS[fmt]}", fmt)
        model = self.format.model()
        if kind != "image" and isinstance(model, QStandardItemModel):
            for n, fmt in enumerate(FORMATS):
                if fmt in IMAGE_FORMATS:
                    model.item(n).setEnabled(False)  # an image layout of texts: not offered
        self.predicted = QCheckBox("Also export predicted labels of unlabeled items", objectName="predicted")
        self.min_confidence = QDoubleSpinBox(objectName="min_confidence")
        self.min_confidence.setRange(0.0, 1.0)
        self.min_confidence.setSingleStep(0.05)
        self.min_confidence.setDecimals(2)
        self.split = QCheckBox("Split: train/ and test/ (test = the audit labels)", objectName="split")
        self.excel = QCheckBox("For Excel (a UTF-8 byte-order mark first)", objectName="excel")
        self.vectors = QCheckBox("Add each item's embedding", objectName="vectors")
        self.mode = QComboBox(objectName="mode")
        self.mode.addItems(["copy", "hardlink", "symlink"])
        self.out = QLineEdit(objectName="out")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose)
        row = QHBoxLayout()
        row.addWidget(self.out, 1)
        row.addWidget(choose)
        self.hint = QLabel(wordWrap=True)
        form = QFormLayout(self)
        form.addRow("Format:", self.format)
        form.addRow("", self.predicted)
        form.addRow("Lowest confidence:", self.min_confidence)
        form.addRow("", self.split)
        form.addRow("", self.excel)
        form.addRow("", self.vectors)
        form.addRow("Image files:", self.mode)
        form.addRow("Write to:", row)
        form.addRow(self.hint)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.out.textChanged.connect(self._out_changed)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.predicted.toggled.connect(self._format_changed)
        self._format_changed()

    @Slot(str)
    def _out_changed(self, text: str) -> None:
        self._ok.setEnabled(bool(text.strip()))

    def fmt(self) -> str:
        return str(self.format.currentData())

    def default_out(self, fmt: str) -> Path:
        """Beside the project: ``<project stem>-<format>`` (+ the file suffix for a file format)."""
        return self.project.with_name(f"{self.project.stem}-{fmt}{SUFFIXES.get(fmt, '')}")

    @Slot()
    def _format_changed(self, *_: object) -> None:
        fmt = self.fmt()
        previous = {str(self.default_out(f)) for f in FORMATS}
        if not self.out.text().strip() or self.out.text() in previous:
            self.out.setText(str(self.default_out(fmt)))
        self.split.setEnabled(fmt in SPLIT_FORMATS and fmt != "yolo-cls")
        self.split.setChecked(self.split.isChecked() and self.split.isEnabled())
        self.excel.setEnabled(fmt == "csv")
        self.excel.setChecked(self.excel.isChecked() and fmt == "csv")
        self.vectors.setEnabled(fmt == "parquet")
        self.vectors.setChecked(self.vectors.isChecked() and fmt == "parquet")
        self.predicted.setEnabled(fmt not in MODEL_FORMATS)
        self.min_confidence.setEnabled(self.predicted.isEnabled() and self.predicted.isChecked())
        self.mode.setEnabled(fmt in IMAGE_FORMATS)
        self.hint.setText(
            "A folder (new, empty, or an earlier aldesk export)." if fmt in FOLDER_FORMATS else "A file."
        )

    @Slot()
    def _choose(self) -> None:
        fmt = self.fmt()
        start = self.out.text() or str(self.default_out(fmt))
        if fmt in FOLDER_FORMATS:
            folder = QFileDialog.getExistingDirectory(self, "Put the export in", str(Path(start).parent))
            if folder:
                self.out.setText(str(Path(folder) / Path(start).name))
        else:
            path, _ = QFileDialog.getSaveFileName(self, "Export to", start)
            if path:
                self.out.setText(path)

    def request(self) -> ExportRequest:
        fmt = self.fmt()
        return ExportRequest(
            fmt=fmt,
            out=Path(self.out.text().strip()).expanduser(),
            predicted=self.predicted.isEnabled() and self.predicted.isChecked(),
            min_confidence=float(self.min_confidence.value()),
            split=self.split.isEnabled() and self.split.isChecked(),
            excel=self.excel.isChecked(),
            vectors=self.vectors.isChecked(),
            mode=self.mode.currentText() if fmt in IMAGE_FORMATS else "copy",
        )


__all__ = ["ExportDialog", "ExportRequest"]
