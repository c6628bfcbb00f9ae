"""The main window's other dialogs: the labeling settings (and the session rebuilt for a new k), help, errors."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from aldesk.ui.settings.settings_file import settings_file_line
from aldesk.ui.shell import keys
from aldesk.ui.shell.tasks import TaskError


class WindowDialogs:
    """A part of :class:`~aldesk.ui.shell.main_window.MainWindow`: settings, help and error boxes."""

    @Slot()
    def ask_settings(self) -> None:
        """The project's labeling settings; applied on OK (a new k rebuilds the session from the project)."""
        from aldesk.app.settings import AUDIT_SETTING, K_SETTING, VERSION, VERSION_KEY
        from aldesk.ui.settings.settings_dialog import LabelingSettings, SettingsDialog

        if self.ctl is None or self.ws is None:
            self.statusBar().showMessage("Open a project first: the settings belong to a project.", 5000)
            return
        s = self.ctl.session
        current = LabelingSettings(s.strategy.name, s.k, s.audit_every)
        dlg = SettingsDialog(current, can_change_k=self.ws.project is not None, parent=self)
        self._dialogs.append(dlg)
        ctl = self.ctl

        def done(result: int) -> None:
            self._dialogs.remove(dlg)
            dlg.deleteLater()
            if result != SettingsDialog.DialogCode.Accepted or ctl is not self.ctl:
                return
            new = dlg.value()
            if new.strategy != s.strategy.name:
                ctl.set_strategy(new.strategy)
            if new.audit_every != s.audit_every:
                if self.plots is not None:
                    self.plots.accuracy.audit_spin.setValue(new.audit_every)  # saves it and updates the panel
                else:
                    s.audit_every = new.audit_every
                    ctl.set_setting(AUDIT_SETTING, new.audit_every)
            if new.k != s.k:
                ctl.set_setting(K_SETTING, new.k)
                self.rebuild_session(new.k)
            if new != current:
                ctl.set_setting(
                    VERSION_KEY, VERSION
                )  # the rows above are stored as aldesk.app.settings reads them

        dlg.finished.connect(done)
        dlg.open()

    def rebuild_session(self, k: int) -> None:
        """A new Session with k neighbours, restored from the project file (the k-NN's k is fixed per Session)."""
        import dataclasses

        ws, ctl = self.ws, self.ctl
        if ws is None or ctl is None or ws.project is None:
            return
        old = ws.session
        ctl.flush()
        ctl.save_view()
        knn_density = old.density_kind == "knn"
        try:
            new = ws.project.open_session(
                old.X,
                eligible=old.eligible,
                k=k,
                strategy=old.strategy,
                density=old.density if knn_density else None,
                audit_every=old.audit_every,
            )
        except Exception as exc:  # noqa: BLE001 - shown to the user; the old session stays usable
            self.show_error(TaskError(f"Could not apply k = {k}: {exc}", "", True, exc))
            return
        self.close_workspace(keep_project=True)
        self.set_workspace(dataclasses.replace(ws, session=new), density=not knn_density)
        self.statusBar().showMessage(f"k = {k}: the k-NN now asks {k} labeled neighbours.", 5000)

    @Slot()
    def show_help(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(keys.help_text(self.key_bindings) + settings_file_line(self.settings))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def show_error(self, err: TaskError) -> None:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning if err.user_error else QMessageBox.Icon.Critical)
        box.setWindowTitle("aldesk")
        box.setText(err.message if err.user_error else f"Something went wrong: {err.message}")
        if not err.user_error and err.details:
            box.setDetailedText(err.details)
            copy = box.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
            copy.clicked.disconnect()
            copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(err.details))
        box.addButton(QMessageBox.StandardButton.Ok)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
