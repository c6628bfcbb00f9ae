"""The class picker: type a few letters of a class, Enter labels the current item with it (issue 13.3).

Digits reach thirty classes; a project with more (or a user who thinks in names, not numbers) needs a way to
any class without the mouse. ``/`` or ``C`` opens this box over the window; the list narrows as one types
(names that start with the text first, then names with a word that starts with it, then names that contain
it, then names holding its letters in order), Up/Down move, Enter chooses, Esc closes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget


def rank_classes(classes: list[str], text: str) -> list[str]:
    """The classes matching ``text`` (case-insensitive), best match first; all of them for an empty text."""
    q = text.strip().casefold()
    if not q:
        return list(classes)
    scored = []
    for pos, c in enumerate(classes):
        name = c.casefold()
        if name.startswith(q):
            tier = 0
        elif any(w.startswith(q) for w in name.replace("_", " ").replace("-", " ").split()):
            tier = 1
        elif q in name:
            tier = 2
        elif _in_order(q, name):
            tier = 3
        else:
            continue
        scored.append((tier, pos, c))
    return [c for _, _, c in sorted(scored)]


def _in_order(q: str, name: str) -> bool:
    it = iter(name)
    return all(ch in it for ch in q)


class ClassPicker(QDialog):
    """A small modal box: a line edit over the filtered list of classes (each with its key)."""

    chosen = Signal(str)

    def __init__(self, classes: list[str], key_names: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("class_picker")
        self.setWindowTitle("Pick a class")
        self.classes = list(classes)
        self.key_names = dict(zip(classes, key_names, strict=False))
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Type a few letters of the class, Enter to label")
        self.list = QListWidget()
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing stays in the line edit
        self.list.itemActivated.connect(lambda it: self._choose(it.data(Qt.ItemDataRole.UserRole)))
        self.list.itemClicked.connect(lambda it: self._choose(it.data(Qt.ItemDataRole.UserRole)))
        self.status = QLabel()
        self.status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.edit)
        lay.addWidget(self.list)
        lay.addWidget(self.status)
        self.edit.textChanged.connect(self._filter)
        self.edit.returnPressed.connect(self._choose_current)
        self.edit.installEventFilter(self)
        self._filter("")
        self.resize(360, 320)

    def matches(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def _filter(self, text: str) -> None:
        self.list.clear()
        for c in rank_classes(self.classes, text):
            key = self.key_names.get(c, "")
            it = QListWidgetItem(f"{c}    [{key}]" if key else c)
            it.setData(Qt.ItemDataRole.UserRole, c)
            self.list.addItem(it)
        if self.list.count():
            self.list.setCurrentRow(0)
            self.status.setText(
                f"{self.list.count()} of {len(self.classes)} classes · Enter labels with the highlighted one"
            )
        else:
            self.status.setText("No class matches: Esc, then N adds a new one.")

    def _choose_current(self) -> None:
        it = self.list.currentItem()
        if it is not None:
            self._choose(it.data(Qt.ItemDataRole.UserRole))

    def _choose(self, name: str) -> None:
        self.chosen.emit(name)
        self.accept()

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        # Up/Down move in the list while the text keeps the focus.
        if obj is self.edit and ev.type() == QEvent.Type.KeyPress:
            key = ev.key()  # type: ignore[attr-defined]
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.list.count():
                row = self.list.currentRow() + (1 if key == Qt.Key.Key_Down else -1)
                self.list.setCurrentRow(max(0, min(self.list.count() - 1, row)))
                return True
        return super().eventFilter(obj, ev)
