"""Labeling settings of the open project: query strategy, the k-NN's k, the audit interval m.

Stored per project (``project.set_setting``) under the keys below and read back when the project opens. A typed
strategy is checked with ``aldesk.core.query.registry.parse_strategy``; its error is shown and the dialog stays open.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from aldesk.app.settings import AUDIT_SETTING, K_SETTING, STRATEGY_SETTING  # the keys live in the app layer
from aldesk.core.labeling.session import DEFAULT_AUDIT_EVERY, DEFAULT_K, DEFAULT_STRATEGY
from aldesk.core.query.registry import parse_strategy
from aldesk.ui.settings.settings_file import settings_file_line

__all__ = [
    "AUDIT_SETTING",
    "K_SETTING",
    "STRATEGY_SETTING",
    "LabelingSettings",
    "SettingsDialog",
    "checked_strategy",
]

STRATEGIES = (
    ("eer", "eer — the label that would settle the most unsure items: expected error reduction (default)"),
    ("eer-id", "eer-id — eer × √typicality × √distance from the labels"),
    ("uid", "uid — uncertainty × typicality (k-NN density) × distance from the labels"),
    ("uid-global", "uid-global — the same with a global density (no k-NN graph needed)"),
    # The field's baselines (aldesk/core/query/baselines.py), for comparison; `aldesk simulate --strategies field`
    # measures them all beside the default.
    ("margin", "margin — smallest gap between the two likeliest classes (a baseline of the field)"),
    ("entropy", "entropy — most spread-out class probabilities (a baseline of the field)"),
    ("least-confidence", "least-confidence — lowest top probability (a baseline of the field)"),
    (
        "info-density",
        "info-density — least confidence × mean similarity to all items (a baseline of the field)",
    ),
    ("kcenter", "kcenter — farthest from every labeled item, k-center greedy (a baseline of the field)"),
    (
        "typiclust",
        "typiclust — most typical item of the largest unlabeled k-means cluster (a baseline of the field)",
    ),
    (
        "probcover",
        "probcover — covers the most unlabeled items within a pure radius (a baseline of the field)",
    ),
    ("random", "random — uniform picks (a baseline)"),
)


@dataclass(frozen=True)
class LabelingSettings:
    strategy: str
    k: int
    audit_every: int


def checked_strategy(spec: str) -> str:
    """The normalised strategy text, or ValueError with parse_strategy's message."""
    spec = spec.strip()
    if not spec:
        raise ValueError("Type a strategy, for example eer, uid or entropy*knn_density*diversity.")
    return parse_strategy(spec).name


class SettingsDialog(QDialog):
    """Edits a ``LabelingSettings``; ``value()`` holds the accepted, validated settings."""

    def __init__(
        self, current: LabelingSettings, can_change_k: bool = True, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Labeling settings")
        self.setObjectName("settings_dialog")
        self._value = current
        self.strategy = QComboBox()
        self.strategy.setEditable(True)  # a typed product like entropy*knn_density*diversity is fine too
        for name, text in STRATEGIES:
            self.strategy.addItem(text, name)
        self.strategy.setEditText(current.strategy)
        self.strategy.activated.connect(lambda i: self.strategy.setEditText(self.strategy.itemData(i)))
        self.strategy.setToolTip(
            "Which unlabeled item comes next. Pick one or type a product of measures, e.g.\n"
            "entropy*knn_density*diversity or margin*diversity^0.5 (measures: eer, uncertainty, margin, entropy;\n"
            "knn_density / global_density = typical items first; diversity = far from what is labeled)."
        )
        self.k = QSpinBox()
        self.k.setRange(1, 100)
        self.k.setValue(current.k)
        self.k.setEnabled(can_change_k)
        self.k.setToolTip(
            "How many labeled neighbours vote in the k-NN classifier. Changing it re-reads the "
            "labels from the project file (a second or so on a large project)."
            if can_change_k
            else "Only a saved project can change k."
        )
        self.audit = QSpinBox()
        self.audit.setRange(0, 200)
        self.audit.setSpecialValueText("off")
        self.audit.setPrefix("every ")
        self.audit.setSuffix(" labels")
        self.audit.setValue(current.audit_every)
        self.audit.setToolTip(
            "Every m-th item you label is a uniform random pick instead of the strategy's: "
            "the model's guess on it, made before you label it, is an honest accuracy estimate."
        )
        form = QFormLayout()
        form.addRow("Query strategy:", self.strategy)
        form.addRow("k (neighbours):", self.k)
        form.addRow("Audit item:", self.audit)
        self.error = QLabel()
        self.error.setObjectName("settings_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        self.error.hide()
        self.strategy.editTextChanged.connect(lambda _: self.error.hide())
        note = QLabel(
            "<small>Saved with this project. The item on screen stays; the new settings pick the "
            "next ones.</small>"
        )
        note.setWordWrap(True)
        # Where the user's own defaults and keys live (the project's settings are in the project file).
        self.settings_file = QLabel(f"<small>{settings_file_line()}</small>")
        self.settings_file.setObjectName("settings_file")
        self.settings_file.setWordWrap(True)
        self.settings_file.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self._defaults)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(note)
        lay.addWidget(self.settings_file)
        lay.addWidget(buttons)

    def _defaults(self) -> None:
        self.strategy.setEditText(DEFAULT_STRATEGY)
        if self.k.isEnabled():
            self.k.setValue(DEFAULT_K)
        self.audit.setValue(DEFAULT_AUDIT_EVERY)

    def accept(self) -> None:
        try:
            strategy = checked_strategy(self.strategy.currentText())
        except ValueError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return  # stays open: the user fixes the text
        self._value = LabelingSettings(strategy, self.k.value(), self.audit.value())
        super().accept()

    def value(self) -> LabelingSettings:
        return self._value
