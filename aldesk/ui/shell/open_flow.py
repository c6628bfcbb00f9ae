"""Opening data or a project from the main window: the start and progress pages, the file dialogs, rescan and
added sources, the new-project dialog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFileDialog

from aldesk.ui.opening.new_project_dialog import NewProjectDialog
from aldesk.ui.opening.opening import SetupRequest
from aldesk.ui.shell.tasks import TaskError

STAGE_TITLES = {"loading": "Reading the data…", "embedding": "Embedding items…", "density": "Density…"}


class OpenFlow:
    """A part of :class:`~aldesk.ui.shell.main_window.MainWindow`: from the start page to a workspace."""

    @Slot()
    def show_start(self) -> None:
        self.opener.discard()
        self.start_page.refresh()
        self.stack.setCurrentWidget(self.start_page)
        self.setWindowTitle("aldesk")
        self._update_action_state()

    @Slot(str)
    def _on_stage(self, stage: str) -> None:
        total = None
        if stage == "embedding" and self.opener._loaded is not None:
            total = len(self.opener._loaded.dataset)
        self.progress_page.running(STAGE_TITLES.get(stage, stage), total)
        self.stack.setCurrentWidget(self.progress_page)
        self._update_action_state()

    @Slot(float, str, float)
    def _on_open_progress(self, fraction: float, message: str, elapsed: float) -> None:
        self.progress_page.set_progress(fraction, message, elapsed)

    @Slot()
    def _cancel_open(self) -> None:
        embedding = self.runner.is_running("embed")
        for kind in ("load", "open", "create", "embed"):
            self.runner.cancel(kind)
        if embedding:
            # Resume is offered once the worker has really stopped (embed_cancelled): its batch in flight is
            # cached by then, so a resume starts from every vector computed, and never runs beside the old one.
            self.progress_page.stopped("Cancelling…", can_resume=False)
        else:
            self.progress_page.stopped("Cancelled", can_resume=self.opener._loaded is not None)

    @Slot()
    def _on_embed_cancelled(self) -> None:
        self.progress_page.stopped(
            "Embedding cancelled — the vectors computed so far are cached; Resume continues from there.",
            can_resume=True,
        )

    def open_path(
        self,
        path: str | Path,
        project_file: Path | None = None,
        classes: list[str] | None = None,
        **source: Any,
    ) -> None:
        """``source``: ``text_column``, ``label_column``, ``model_card`` for a new project (Opener.open_path)."""
        self.close_workspace()
        self.opener.open_path(Path(path), project_file, classes, **source)

    @Slot(str)
    def open_demo(self, which: str = "images") -> None:
        from aldesk.app.paths import demo_paths  # the app layer, not the CLI: no cycle back into the window

        data, project, classes = demo_paths(which)
        self.open_path(data, project, classes)

    @Slot()
    def ask_open_images(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open image folder")
        if path:
            self.open_path(path)

    @Slot()
    def ask_open_texts(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open CSV of texts", "", "Texts (*.csv *.tsv *.txt);;All files (*)"
        )
        if path:
            self.open_path(path)

    @Slot()
    def ask_open_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", "aldesk project (*.aldesk)")
        if path:
            self.open_path(path)

    @Slot()
    def rescan_project(self) -> None:
        """File › Rescan: reopen the project with its item list brought up to date (new files join, gone ones are
        marked missing); the status bar says what changed."""
        self.add_source(None)

    def add_source(self, add_source: Path | None) -> None:
        """Reopen the project with ``add_source`` added to its sources (None: rescanned)."""
        if self.ws is None or self.ws.project is None:
            self.statusBar().showMessage("Open a project to rescan its data.", 5000)
            return
        path = Path(self.ws.project.path)
        self.close_workspace()
        self.opener.open_project(path, rescan=add_source is None, add_source=add_source)

    @Slot()
    def ask_add_source(self) -> None:
        """File › Add a source: a second folder (image projects) or CSV (text projects) joins the project."""
        if self.ws is None or self.ws.project is None:
            self.statusBar().showMessage("Open a project to add a source to it.", 5000)
            return
        if self.ws.project.kind == "image":
            path = QFileDialog.getExistingDirectory(self, "Add a folder of images")
        else:
            path, _ = QFileDialog.getOpenFileName(
                self, "Add a CSV of texts", "", "Texts (*.csv *.tsv *.txt);;All files (*)"
            )
        if path:
            self.add_source(Path(path))

    @Slot(object)
    def _on_need_setup(self, req: SetupRequest) -> None:
        dlg = NewProjectDialog(req, self)
        if req.card is not None:  # `aldesk open --model-card`: start with it chosen
            dlg.custom.setChecked(True)
            dlg.card.setText(str(req.card))
        self._dialogs.append(dlg)

        def done(result: int) -> None:
            self._dialogs.remove(dlg)
            if result != NewProjectDialog.DialogCode.Accepted:
                self.show_start()
                return
            req.project_path = dlg.chosen_project()
            self.opener.create(req, dlg.chosen_classes(), dlg.chosen_card())

        dlg.finished.connect(done)
        dlg.open()

    @Slot(object)
    def _on_open_error(self, err: TaskError) -> None:
        self.show_start()
        self.show_error(err)
