"""The main window's class dialogs: new class, rename, the type-ahead picker, merge and delete."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QInputDialog


class ClassDialogs:
    """A part of :class:`~aldesk.ui.shell.main_window.MainWindow`: the dialogs that change classes."""

    @Slot()
    def ask_new_class(self) -> None:
        if self.ctl is None:
            return
        dlg = QInputDialog(self)
        dlg.setWindowTitle("New class")
        dlg.setLabelText("Name of the new class:")
        dlg.setObjectName("new_class_dialog")
        self._dialogs.append(dlg)
        ctl = self.ctl

        def done(result: int) -> None:
            self._dialogs.remove(dlg)
            if result == QInputDialog.DialogCode.Accepted and dlg.textValue().strip():
                ctl.add_class(dlg.textValue())
            dlg.deleteLater()

        dlg.finished.connect(done)
        dlg.open()

    @Slot()
    def ask_rename_class(self) -> None:
        if self.ctl is None or not self.ctl.session.classes:
            return
        classes = list(self.ctl.session.classes)
        old, ok = QInputDialog.getItem(self, "Rename class", "Class:", classes, 0, False)
        if not ok:
            return
        new, ok = QInputDialog.getText(self, "Rename class", f"New name for {old}:", text=old)
        if ok and new.strip() and new.strip() != old:
            self.ctl.rename_class(old, new)

    @Slot()
    def ask_pick_class(self) -> None:
        """The type-ahead class picker (``/`` or ``C``): Enter labels the item on screen with the chosen class."""
        from aldesk.ui.labeling.picker import ClassPicker

        if self.ctl is None or not self.ctl.session.classes:
            return
        ctl = self.ctl
        names = [self.label_view.class_key_text(n) for n in range(1, len(ctl.session.classes) + 1)]
        dlg = ClassPicker(list(ctl.session.classes), names, self)
        self._dialogs.append(dlg)
        dlg.chosen.connect(lambda name: ctl is self.ctl and ctl.label_current(name))

        def done(_result: int) -> None:
            self._dialogs.remove(dlg)
            dlg.deleteLater()
            # The keys go on at once: without a window manager nobody hands the focus back to this window.
            self.activateWindow()

        dlg.finished.connect(done)
        dlg.open()

    def ask_class_op(self, kind: str) -> None:
        """Merge or delete a class, after a dialog that says what happens to its labels (issue 13.3)."""
        from aldesk.ui.labeling.class_dialog import ClassOpDialog

        if (
            self.ctl is None
            or not self.ctl.session.classes
            or (kind == "merge" and len(self.ctl.session.classes) < 2)
        ):
            self.statusBar().showMessage(
                "A merge needs two classes." if self.ctl else "Open a project first.", 5000
            )
            return
        ctl = self.ctl
        dlg = ClassOpDialog(ctl.session, kind, self)
        self._dialogs.append(dlg)

        def done(result: int) -> None:
            self._dialogs.remove(dlg)
            dlg.deleteLater()
            self.activateWindow()
            if result != ClassOpDialog.DialogCode.Accepted or ctl is not self.ctl:
                return
            cls, into = dlg.choice()
            if kind == "merge" and into is not None:
                ctl.merge_class(cls, into)
            elif kind == "delete":
                ctl.delete_class(cls)

        dlg.finished.connect(done)
        dlg.open()
