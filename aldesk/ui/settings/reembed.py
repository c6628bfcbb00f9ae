"""Settings › Re-embed with another model…: the explicit switch of a project's encoder, keeping every label.

Opening never changes a project's model (its card id keys the vectors and the stored k-NN), so a project made
with an earlier default keeps it until the user asks. The switch runs as a task: the project is closed (its
writer lock released), reopened in the worker, every item embedded with the chosen bundled card
(:func:`aldesk.app.workspace.reembed_project`: the model is switched only once every vector is computed, so a
cancel or a failure leaves the project as it was), then the window opens it again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QInputDialog

from aldesk.ui.shell.tasks import TaskError

KIND = "reembed"


def other_cards(kind: str, current: str) -> list[Any]:
    """The bundled cards of ``kind`` a project embedded with ``current`` could switch to."""
    from aldesk.core.embed.cards import bundled_cards

    return [c for c in bundled_cards(kind) if c.id != current]  # type: ignore[arg-type]


class ReembedAction(QObject):
    def __init__(self, win: Any) -> None:  # the MainWindow (not imported: it imports this module)
        super().__init__(win)
        self.win = win
        self._path: Path | None = None

    @Slot()
    def ask(self) -> None:
        win = self.win
        if win.ws is None or win.ws.project is None:
            win.statusBar().showMessage("Open a project first: re-embedding changes a project's model.", 5000)
            return
        project = win.ws.project
        cards = other_cards(project.kind, project.model_id)
        if not cards:
            win.statusBar().showMessage("No other bundled model for this kind of data.", 5000)
            return
        names = [f"{c.name} ({c.id})" for c in cards]
        choice, ok = QInputDialog.getItem(
            win,
            "Re-embed with another model",
            f"Now: {project.model_id}. Every label, skip and the undo history stay; every item is embedded again.",
            names,
            0,
            False,
        )
        if ok:
            self.reembed(cards[names.index(choice)])

    def reembed(self, card: Any) -> None:
        """Close the project, embed it with ``card`` in the task runner, then open it again."""
        win = self.win
        if win.ws is None or win.ws.project is None:
            return
        path = self._path = Path(win.ws.project.path)
        win.close_workspace()  # releases the writer lock: the worker opens the project for writing

        def task(progress: Any = None, cancel: Any = None) -> Path:
            from aldesk.app.workspace import open_project, reembed_project

            loaded = open_project(path, progress=progress, cancel=cancel)
            try:
                reembed_project(
                    loaded, card, cache_dir=win.opener.cache_dir, progress=progress, cancel=cancel
                )
            finally:
                loaded.project.close()
            return path

        handle = win.runner.start(KIND, task)
        handle.progress.connect(self._on_progress)
        handle.finished.connect(self._on_done)
        handle.failed.connect(self._on_failed)
        win.statusBar().showMessage(f"Re-embedding {path.name} with {card.id}…")

    @Slot(float, str, float)
    def _on_progress(self, fraction: float, message: str, _elapsed: float) -> None:
        self.win.statusBar().showMessage(f"Re-embedding: {message}")

    @Slot(object)
    def _on_done(self, path: Path) -> None:
        self.win.statusBar().showMessage(f"Re-embedded {path.name}; opening it.", 5000)
        self.win.open_path(path)

    @Slot(object)
    def _on_failed(self, err: TaskError) -> None:
        self.win.show_error(err)
        if self._path is not None:  # the project is as it was: open it again
            self.win.open_path(self._path)
