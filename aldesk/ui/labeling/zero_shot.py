"""Classes › Describe the classes (zero-shot)…: a short description per class gives predictions before the first
label (:mod:`aldesk.core.query.zeroshot`).

The dialog lists every class with its description (pre-filled with the class name); OK saves them with the
project (setting :data:`aldesk.app.settings.ZERO_SHOT_SETTING`, class -> text) and *Turn off* removes them. The
descriptions are embedded with the project's own text model in the task runner, never on the GUI thread; the
prior (every item's similarity to each description) is then set on the session and the candidates re-ranked: the
first candidates are the items most like each class without a label, the suggestions use the prior, and the
labels take over as they come. Opening a project with saved descriptions, a new k, or a change of the classes
computes the prior again. Image models have no text tower, so image projects get the dialog's explanation only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aldesk.app.settings import MAX_DESCRIPTION, ZERO_SHOT_SETTING, ProjectSettings
from aldesk.ui.shell.tasks import TaskError

KIND = "zero-shot"
NO_TEXT_TOWER = (
    "Zero-shot needs a text model: this is an image project, and the bundled image models have no text tower "
    "(they cannot read a description). Label a few items of each class instead."
)


def saved_descriptions(ctl: Any) -> dict[str, str]:
    """The project's saved descriptions (class -> text), {} when zero-shot is off or the row does not read."""
    raw = ctl.setting(ZERO_SHOT_SETTING, {})
    try:
        return dict(ProjectSettings(zero_shot=raw).zero_shot)
    except Exception:  # noqa: BLE001 - a damaged row reads as off, as every unreadable setting does
        return {}


def class_texts(classes: list[str], descriptions: dict[str, str]) -> list[str]:
    """One text per class, in the session's class order: its description, else its name."""
    return [descriptions.get(c, "").strip() or c for c in classes]


class ZeroShotDialog(QDialog):
    """A description per class; ``descriptions()`` after OK, ``turned_off`` after *Turn off*."""

    def __init__(
        self, classes: list[str], current: dict[str, str], is_text: bool, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.setWindowTitle("Describe the classes (zero-shot)")
        self.turned_off = False
        self.classes = list(classes)
        self.edits: dict[str, QLineEdit] = {}
        lay = QVBoxLayout(self)
        if not is_text:
            note = NO_TEXT_TOWER
        elif len(classes) < 2:
            note = "Zero-shot needs at least two classes: add them first (Classes › New class)."
        else:
            note = (
                "A short description per class (a few words: 'a positive movie review') gives predictions "
                "before the first label: the first candidates are the items most like each class, and your "
                "labels take over as they come. Descriptions that name what tells the classes apart help most; "
                "the bare class names help less."
            )
        self.note = QLabel(note)
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        form = QFormLayout()
        for c in self.classes:
            edit = QLineEdit(current.get(c) or c)
            edit.setMaxLength(MAX_DESCRIPTION)
            edit.setEnabled(is_text)
            form.addRow(c, edit)
            self.edits[c] = edit
        lay.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setEnabled(is_text and len(classes) >= 2)
        self.off_button = QPushButton("Turn off")
        self.off_button.setEnabled(bool(current))
        buttons.addButton(self.off_button, QDialogButtonBox.ButtonRole.ResetRole)
        self.off_button.clicked.connect(self._turn_off)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def descriptions(self) -> dict[str, str]:
        return {c: e.text().strip() or c for c, e in self.edits.items()}

    @Slot()
    def _turn_off(self) -> None:
        self.turned_off = True
        self.accept()


class ZeroShotAction(QObject):
    """The menu action, the class row's button and the worker that turns descriptions into the session's prior."""

    def __init__(self, win: Any) -> None:  # the MainWindow (not imported: it imports this module)
        super().__init__(win)
        self.win = win
        self.ctl: Any = None
        self.dialog: ZeroShotDialog | None = None
        self._keep_current = True
        self._classes: list[str] = []  # the classes of the prior on the session

    def attach(self, ctl: Any, label_view: Any) -> None:
        """A project was opened (or its session rebuilt): its class row's button, and its saved descriptions."""
        self.ctl = ctl
        label_view.describe_clicked.connect(self.ask)
        ctl.classes_changed.connect(self._on_classes_changed)
        self.apply(keep_current=ctl.session.knn.n_labeled > 0)

    def is_text(self) -> bool:
        return self.ctl is not None and self.ctl.ws.dataset.kind == "text"

    @Slot()
    def ask(self) -> None:
        ctl = self.ctl
        if ctl is None or self.win.ctl is not ctl:
            self.win.statusBar().showMessage(
                "Open a project first: descriptions belong to its classes.", 5000
            )
            return
        dlg = self.dialog = ZeroShotDialog(
            list(ctl.session.classes), saved_descriptions(ctl), self.is_text(), self.win
        )
        dlg.accepted.connect(lambda: self._on_accepted(dlg))
        dlg.open()

    def _on_accepted(self, dlg: ZeroShotDialog) -> None:
        if self.ctl is None or not self.is_text():
            return
        value = {} if dlg.turned_off else dlg.descriptions()
        if self.ctl.set_setting(ZERO_SHOT_SETTING, value):
            self.apply(keep_current=self.ctl.session.knn.n_labeled > 0)

    @Slot()
    def _on_classes_changed(self) -> None:
        ctl = self.ctl
        if ctl is None or ctl.session.zero_shot is None:
            return
        descriptions = saved_descriptions(ctl)
        old, new = self._classes, list(ctl.session.classes)
        moved = [(a, b) for a, b in zip(old, new, strict=False) if a != b]
        if len(old) == len(new) and len(moved) == 1 and moved[0][0] in descriptions:
            a, b = moved[0]  # a rename: the description follows the class
            descriptions[b] = descriptions.pop(a)
            ctl.set_setting(ZERO_SHOT_SETTING, descriptions)
        self.apply(keep_current=True)  # the prior has one column per class: build it for the new classes

    def apply(self, keep_current: bool = True) -> None:
        """Compute the prior of the saved descriptions in the task runner and set it on the session (or clear it
        when there are none)."""
        ctl = self.ctl
        if ctl is None or not self.is_text():
            return
        descriptions = saved_descriptions(ctl)
        classes = list(ctl.session.classes)
        if not descriptions or len(classes) < 2:
            self.win.runner.cancel(KIND)
            if ctl.session.zero_shot is not None:
                ctl.session.set_zero_shot(None)
                self._refresh(keep_current)
            return
        texts = class_texts(classes, descriptions)
        card = self._card()
        X = ctl.session.X

        def task(progress: Any = None, cancel: Any = None) -> Any:
            from aldesk.core.query import zeroshot

            return zeroshot.prior(X, zeroshot.prototypes(card, texts))

        self._keep_current = keep_current
        handle = self.win.runner.start(KIND, task)
        handle.finished.connect(lambda prior: self._on_prior(ctl, classes, prior))
        handle.failed.connect(self._on_failed)
        self.win.statusBar().showMessage("Zero-shot: embedding the class descriptions…", 5000)

    def _card(self) -> Any:
        from aldesk.app.workspace import card_for
        from aldesk.core.embed import default_card

        ws = self.ctl.ws
        return card_for(ws.project, "text") if ws.project is not None else default_card("text")

    def _on_prior(self, ctl: Any, classes: list[str], prior: Any) -> None:
        if ctl is not self.ctl or self.win.ctl is not ctl or ctl.session.X.shape[0] != prior.shape[0]:
            return  # another project (or session) since: its own apply() runs
        if list(ctl.session.classes) != classes:
            self.apply(keep_current=True)  # the classes changed while it ran
            return
        ctl.session.set_zero_shot(prior)
        self._classes = classes
        self._refresh(self._keep_current)
        self.win.statusBar().showMessage(
            "Zero-shot: the class descriptions now guide the first candidates.", 5000
        )

    def _refresh(self, keep_current: bool) -> None:
        ctl = self.ctl
        ctl.rerank_now(keep_current=keep_current)
        ctl.current_changed.emit()  # the suggestion on screen is the prior's now
        ctl.labels_changed.emit()

    @Slot(object)
    def _on_failed(self, err: TaskError) -> None:
        self.win.show_error(err)
