"""An action that could not be saved: the banner over the labeling tabs, and the window's pause and retry."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class SaveFailedBanner(QFrame):
    """Shown over the labeling tabs while an action could not be saved: the cause in one line, and Retry.

    It stays until a retry succeeds or the project is closed: a status-bar message that fades would let the
    user go on pressing keys that look like labels and are not saved.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("save_failed_banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#save_failed_banner { background: #fde2e1; border: 1px solid #c62828; }"
            "#save_failed_banner QLabel { color: #7f0000; }"
        )
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the window's shortcuts
        self.close_button = QPushButton("Close project")
        self.close_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.retry_button)
        lay.addWidget(self.close_button)
        self.hide()

    def show_failure(self, cause: str) -> None:
        self.label.setText(f"Not saved: {cause} Labeling is paused: fix the cause, then Retry.")
        self.setToolTip(cause)
        self.show()


class SaveFailedHandling:
    """A part of :class:`~aldesk.ui.shell.main_window.MainWindow`: failed commits."""

    @Slot(str)
    def _on_commit_failed(self, cause: str) -> None:
        """An action was not saved: say so at once and pause the views (every key is refused until Retry)."""
        self.save_failed.show_failure(cause)
        self.tabs.setEnabled(False)
        self.statusBar().showMessage(f"Not saved: {cause}", 8000)

    @Slot()
    def _on_commit_restored(self) -> None:
        self._clear_save_failed()
        self.statusBar().showMessage("Saved: labeling goes on.", 5000)

    def _clear_save_failed(self) -> None:
        self.save_failed.hide()
        self.tabs.setEnabled(True)

    @Slot()
    def retry_save(self) -> None:
        """The banner's Retry: the very action that failed, once more (the banner stays if it fails again)."""
        if self.ctl is not None:
            self.ctl.retry()
