"""The confirm dialog of a merge or a delete of a class: which class (and into which), and what happens to its
labels, in words, before anything changes (issue 13.3). OK applies; Ctrl+Z undoes it afterwards."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QWidget

from aldesk.core.labeling.session import Session


def consequence(session: Session, kind: str, cls: str, into: str | None = None) -> str:
    """What the merge or delete would do, as the dialog says it (one short paragraph)."""
    counts = session.counts()
    n = counts.get(cls, 0)
    items = f"{n:,} labeled item{'s' if n != 1 else ''}"
    if kind == "merge":
        if into is None or into == cls:
            return "Choose another class to merge into."
        after = counts.get(into, 0) + n
        return (
            f"The class {cls} goes away. Its {items} get the label {into} (which then has {after:,}); "
            f"their time and origin stay. Ctrl+Z undoes the merge."
        )
    return (
        f"The class {cls} goes away. Its {items} become unlabeled and go back to the pool of items to label. "
        f"Ctrl+Z undoes the delete, labels included."
    )


class ClassOpDialog(QDialog):
    """``kind`` "merge" (class, into) or "delete" (class); the text below the choice says what happens."""

    def __init__(self, session: Session, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.kind = session, kind
        self.setObjectName(f"{kind}_class_dialog")
        self.setWindowTitle("Merge classes" if kind == "merge" else "Delete a class")
        classes = list(session.classes)
        self.cls = QComboBox()
        self.cls.addItems(classes)
        self.into = QComboBox()
        self.into.addItems(classes)
        if len(classes) > 1:
            self.into.setCurrentIndex(1)
        self.what = QLabel()
        self.what.setObjectName("consequence")
        self.what.setWordWrap(True)
        self.what.setTextFormat(Qt.TextFormat.PlainText)
        self.what.setMinimumWidth(320)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Merge" if kind == "merge" else "Delete")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Class:", self.cls)
        if kind == "merge":
            form.addRow("Merge into:", self.into)
        form.addRow(self.what)
        form.addRow(self.buttons)
        self.cls.currentIndexChanged.connect(self._update)
        self.into.currentIndexChanged.connect(self._update)
        self._update()

    def choice(self) -> tuple[str, str | None]:
        return self.cls.currentText(), (self.into.currentText() if self.kind == "merge" else None)

    def _update(self) -> None:
        cls, into = self.choice()
        self.what.setText(consequence(self.session, self.kind, cls, into))
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(cls) and (self.kind != "merge" or (into is not None and into != cls)))
