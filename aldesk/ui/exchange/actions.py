"""The File menu's Export… and Import labels…: a dialog, then the work as a task (``ui/shell/tasks.py``).

Export: what the session knows (predictions, which items loaded, the embeddings) is copied on the GUI thread in
O(items) (:func:`aldesk.core.exchange.model_outputs.from_session`), so the worker never reads arrays the labeling
view is changing; the worker writes the files (the leave-one-out probabilities of ``cleanlab`` included).
Import: the worker journals the labels into the project in one transaction, then the session is rebuilt from
the project on the GUI thread (as a change of k does), so the labels, the undo stack and the file agree.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QDialog, QMessageBox

from aldesk.ui.exchange.export_dialog import ExportDialog
from aldesk.ui.exchange.import_dialog import ImportDialog

if TYPE_CHECKING:
    from aldesk.ui.shell.tasks import TaskError


def _listed(title: str, items: list[str], limit: int = 8) -> str:
    if not items:
        return ""
    more = f"\n  … and {len(items) - limit} more" if len(items) > limit else ""
    return f"\n{title} ({len(items)}):\n  " + "\n  ".join(s[:100] for s in items[:limit]) + more


class ExchangeActions(QObject):
    """Owned by the main window; ``exported(report)`` / ``imported(report)`` once a task has finished."""

    exported = Signal(object)
    imported = Signal(object)

    def __init__(self, window: Any) -> None:  # the MainWindow (not imported: it imports this module)
        super().__init__(window)
        # No Python reference back to the window, and slots are bound methods, never lambdas holding a dialog:
        # reference cycles through Qt wrappers are left to the garbage collector, which may then destroy a
        # QObject at an arbitrary moment of the event loop.
        self.dialog: QDialog | None = None
        self.handle: Any = None

    @property
    def win(self) -> Any:
        return self.parent()

    def _project(self) -> Any:
        ws = self.win.ws
        if ws is None or ws.project is None:
            self.win.statusBar().showMessage(
                "Open a project first: exports and imports work on its file.", 5000
            )
            return None
        return ws.project

    # ------------------------------------------------------------------ export
    @Slot()
    def ask_export(self) -> None:
        project = self._project()
        if project is None:
            return
        dlg = ExportDialog(project.kind, project.path, self.win)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # read in its accepted signal, deleted later
        dlg.accepted.connect(self._export_accepted)
        self.dialog = dlg
        dlg.open()

    @Slot()
    def _export_accepted(self) -> None:
        if isinstance(self.dialog, ExportDialog):
            self.start_export(self.dialog)

    @Slot()
    def _import_accepted(self) -> None:
        if isinstance(self.dialog, ImportDialog):
            self.start_import(self.dialog)

    @Slot(float, str, float)
    def _export_progress(self, fraction: float, message: str, _elapsed: float) -> None:
        self.win.statusBar().showMessage(f"Export: {message} ({fraction:.0%})")

    def start_export(self, dlg: ExportDialog) -> None:
        from aldesk.core.exchange.export import export_project
        from aldesk.core.exchange.model_outputs import from_session

        ws = self.win.ws
        if ws is None or ws.project is None:
            return
        req = dlg.request()
        index = {k: i for i, k in enumerate(ws.dataset.keys)}
        reasons = {index[p.key]: p.reason for p in ws.problems if p.key in index}
        outputs = from_session(ws.session, reasons)
        fn = partial(
            export_project,
            ws.project,
            req.fmt,
            req.out,
            mode=req.mode,
            include_predicted=req.predicted,
            min_confidence=req.min_confidence,
            split=req.split,
            excel=req.excel,
            vectors=req.vectors,
            outputs=outputs,
        )
        self.handle = h = self.win.runner.start("export", fn)
        h.progress.connect(self._export_progress)
        h.finished.connect(self._exported)
        h.failed.connect(self._failed)

    @Slot(object)
    def _exported(self, report: Any) -> None:
        n = report.n_labeled + report.n_predicted
        self.win.statusBar().showMessage(f"Exported {n} items to {report.path}", 8000)
        left_out = (
            _listed("Image files not found", report.missing)
            + _listed("Refused (not a regular file inside the data folder)", report.refused)
            + _listed("Could not be loaded", report.unusable)
        )
        if left_out:
            box = QMessageBox(QMessageBox.Icon.Information, "Export", f"Exported {n} items to {report.path}.")
            box.setInformativeText("Left out:" + left_out)
            box.setParent(self.win, box.windowFlags())
            box.open()
        self.exported.emit(report)

    # ------------------------------------------------------------------ import
    @Slot()
    def ask_import(self) -> None:
        project = self._project()
        if project is None:
            return
        from pathlib import Path

        dlg = ImportDialog(Path(project.path).parent, self.win)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(self._import_accepted)
        self.dialog = dlg
        dlg.open()

    def start_import(self, dlg: ImportDialog) -> None:
        from aldesk.core.exchange.imports import import_labels

        ws, ctl = self.win.ws, self.win.ctl
        if ws is None or ws.project is None:
            return
        if ctl is not None:
            ctl.flush()  # a label still in the controller goes to the file before the import reads it
        req = dlg.request()
        fn = partial(
            import_labels,
            ws.project,
            req.path,
            overwrite=req.overwrite,
            id_column=req.id_column,
            label_column=req.label_column,
        )
        self.handle = h = self.win.runner.start("import", fn)
        h.finished.connect(self._imported)
        h.failed.connect(self._failed)

    @Slot(object)
    def _imported(self, report: Any) -> None:
        ws = self.win.ws
        if ws is not None and report.actions:
            self.win.rebuild_session(ws.session.k)  # the session, restored from the file the import wrote
        text = f"Imported {report.labeled} labels ({report.unchanged} already so)"
        if report.suggestions:
            text += f", {report.suggestions} suggestions"
        if report.unmatched or report.conflicts:
            text += f"; {len(report.unmatched)} not in the project, {len(report.conflicts)} kept as they were"
        self.win.statusBar().showMessage(text + ".", 10000)
        self.imported.emit(report)

    @Slot(object)
    def _failed(self, err: TaskError) -> None:
        self.win.show_error(err)
