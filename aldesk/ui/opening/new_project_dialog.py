"""The new-project dialog: the data, the classes (editable later), the model, where the project file goes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from aldesk.ui.opening.opening import PROJECT_SUFFIX, SetupRequest


def parse_classes(text: str) -> list[str]:
    """ "cat, dog , bird" -> ["cat", "dog", "bird"] (:func:`aldesk.core.names.parse_class_list`, as the CLI)."""
    from aldesk.core.names import parse_class_list

    return parse_class_list(text)


class NewProjectDialog(QDialog):
    def __init__(self, req: SetupRequest, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.req = req
        self.setWindowTitle("New project")
        ds = req.dataset
        what = "images" if ds.kind == "image" else "texts"
        info = QLabel(
            f"<b>{len(ds):,} {what}</b> in {req.data}"
            + (f"<br>{len(ds.problems):,} item(s) skipped" if ds.problems else "")
        )
        info.setWordWrap(True)

        self.classes = QLineEdit(", ".join(req.suggested_classes))
        self.classes.setPlaceholderText("e.g. cat, dog, bird — you can add and rename classes later")

        self.bundled = QRadioButton("Bundled model (works offline)")
        self.custom = QRadioButton("Model card file…")
        self.bundled.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.bundled)
        group.addButton(self.custom)
        self.card = QLineEdit()
        self.card.setPlaceholderText("path/to/model-card.json")
        self.card.setEnabled(False)
        browse_card = QPushButton("Browse…")
        browse_card.clicked.connect(self._pick_card)
        self.custom.toggled.connect(self.card.setEnabled)
        card_row = QHBoxLayout()
        card_row.addWidget(self.custom)
        card_row.addWidget(self.card, 1)
        card_row.addWidget(browse_card)

        self.project = QLineEdit(str(req.project_path))
        pick = QPushButton("Save as…")
        pick.clicked.connect(self._pick_project)
        proj_row = QHBoxLayout()
        proj_row.addWidget(self.project, 1)
        proj_row.addWidget(pick)

        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        form = QFormLayout()
        form.addRow("Data", info)
        form.addRow("Classes", self.classes)
        form.addRow("Model", self.bundled)
        form.addRow("", card_row)
        form.addRow("Project file", proj_row)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create project")
        buttons.accepted.connect(self._check_accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.resize(620, 260)

    def _pick_card(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Model card", "", "Model card (*.json *.toml);;All files (*)"
        )
        if path:
            self.card.setText(path)
            self.custom.setChecked(True)

    def _pick_project(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Project file", self.project.text(), f"aldesk project (*{PROJECT_SUFFIX})"
        )
        if path:
            if not path.endswith(PROJECT_SUFFIX):
                path += PROJECT_SUFFIX
            self.project.setText(path)

    def _check_accept(self) -> None:
        if not self.chosen_classes():
            self.error.setText("Type at least one class (you can add more later with N).")
            return
        p = Path(self.project.text()).expanduser()
        if p.suffix != PROJECT_SUFFIX:
            self.error.setText(f"The project file must end with {PROJECT_SUFFIX}.")
            return
        if p.exists():
            self.error.setText(
                f"{p.name} exists already: choose another name, or open it from the start page."
            )
            return
        if self.custom.isChecked() and not Path(self.card.text()).is_file():
            self.error.setText("Choose an existing model card file, or the bundled model.")
            return
        self.accept()

    def chosen_classes(self) -> list[str]:
        return parse_classes(self.classes.text())

    def chosen_card(self) -> Path | None:
        return Path(self.card.text()) if self.custom.isChecked() else None

    def chosen_project(self) -> Path:
        return Path(self.project.text()).expanduser()
