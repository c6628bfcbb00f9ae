"""The window's label-quality entries: Review › Review suspicious labels and File › Compare with….

Kept out of the main window (which only adds the two menu entries): each entry starts its work in the task
runner and shows the result, the review queue as a tab beside Label / Browse, the comparison as a non-modal
dialog. ``win`` is the main window (its ``ctl``, ``ws``, ``runner``, ``thumbs``, ``tabs``, ``show_error``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog

from aldesk.core.quality.compare import Comparison, compare_files
from aldesk.ui.quality.compare_dialog import CompareDialog
from aldesk.ui.quality.review_view import ReviewView, compute_queue


class QualityMenu(QObject):
    def __init__(self, win: Any) -> None:
        super().__init__(win)
        self.win = win
        self.review_view: ReviewView | None = None
        self.compare_dialog: CompareDialog | None = None
        self._review_session: object = None

    # ---------------------------------------------------------------- review
    @Slot()
    def review_labels(self) -> None:
        """Review › Review suspicious labels: the queue is computed in the runner, then shown as its own tab."""
        win = self.win
        if win.ctl is None:
            win.statusBar().showMessage("Open a project first: the review looks at its labels.", 5000)
            return
        self._review_session = win.ctl.session
        task = win.runner.start("review", compute_queue(win.ctl.session))
        task.finished.connect(self._on_review_ready)
        task.failed.connect(win.show_error)
        win.statusBar().showMessage("Looking for labels the model disagrees with…", 3000)

    @Slot(object)
    def _on_review_ready(self, queue: list) -> None:
        win = self.win
        if win.ctl is None or win.ctl.session is not self._review_session:
            return  # computed for a project (or a k) that is gone
        view = self.review_view
        if view is None or view.ctl is not win.ctl or win.tabs.indexOf(view) < 0:
            view = self.review_view = ReviewView(win.ctl, win.thumbs)
            view.finished.connect(self._leave_review)
            win.tabs.addTab(view, "Review")
        view.show_queue(queue)
        win.tabs.setCurrentWidget(view)
        view.setFocus()

    @Slot()
    def _leave_review(self) -> None:
        self.win.tabs.setCurrentIndex(0)

    # ---------------------------------------------------------------- compare
    @Slot()
    def ask_compare(self) -> None:
        """File › Compare with…: another project's labels beside this one's (both read-only)."""
        win = self.win
        if win.ws is None or win.ws.project is None:
            win.statusBar().showMessage(
                "Open a project first: Compare puts another one's labels beside it.", 5000
            )
            return
        path, _ = QFileDialog.getOpenFileName(
            win,
            "Compare with another project",
            str(Path(win.ws.project.path).parent),
            "aldesk projects (*.aldesk)",
        )
        if path:
            self.compare_with(Path(path))

    def compare_with(self, other: Path) -> None:
        win = self.win
        if win.ws is None or win.ws.project is None:
            return
        mine = Path(win.ws.project.path)

        def task(progress: object = None, cancel: object = None) -> Comparison:
            return compare_files(mine, Path(other))

        handle = win.runner.start("compare", task)
        handle.finished.connect(self._on_compare_ready)
        handle.failed.connect(win.show_error)

    @Slot(object)
    def _on_compare_ready(self, cmp: Comparison) -> None:
        win = self.win
        if win.ctl is None:
            return
        if self.compare_dialog is not None:
            self.compare_dialog.close()
        dlg = self.compare_dialog = CompareDialog(cmp, win)
        dlg.open_item.connect(self._show_item)
        dlg.show()

    @Slot(int)
    def _show_item(self, index: int) -> None:
        if self.win.ctl is not None:
            self.win.tabs.setCurrentIndex(0)
            self.win.ctl.jump(index)
