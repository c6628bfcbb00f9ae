"""The start page (recent projects, open data, demo) and the progress page shown while a project opens."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aldesk.core.dataset import Problem

MAX_RECENT = 10


def recent_projects(settings: QSettings | None = None) -> list[str]:
    settings = settings or QSettings()
    raw = settings.value("recent", [])
    items = [raw] if isinstance(raw, str) else list(raw or [])
    return [p for p in items if isinstance(p, str)]


def add_recent(path: Path, settings: QSettings | None = None) -> None:
    settings = settings or QSettings()
    p = str(Path(path).absolute())
    items = [p] + [x for x in recent_projects(settings) if x != p]
    settings.setValue("recent", items[:MAX_RECENT])


class StartPage(QWidget):
    open_images = Signal()
    open_texts = Signal()
    open_project = Signal()
    open_recent = Signal(str)
    demo = Signal(str)  # "images" | "texts"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel(
            "<h1>aldesk</h1><p>Label a folder of images or a CSV of texts with as few labels as "
            "possible: the app asks about the items that teach its model the most.</p>"
        )
        title.setWordWrap(True)
        buttons = QVBoxLayout()
        for text, sig in (
            ("Open image folder…", self.open_images),
            ("Open CSV of texts…", self.open_texts),
            ("Open project…", self.open_project),
        ):
            b = QPushButton(text)
            b.setMinimumHeight(34)
            b.clicked.connect(sig)
            buttons.addWidget(b)
        d1 = QPushButton("Try the demo (images)")
        d1.clicked.connect(lambda: self.demo.emit("images"))
        d2 = QPushButton("Try the demo (texts)")
        d2.clicked.connect(lambda: self.demo.emit("texts"))
        for b in (d1, d2):
            b.setMinimumHeight(34)
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.recent = QListWidget()
        self.recent.itemActivated.connect(self._on_recent)
        self.recent.itemDoubleClicked.connect(self._on_recent)
        right = QVBoxLayout()
        right.addWidget(QLabel("<b>Recent projects</b>"))
        right.addWidget(self.recent)
        row = QHBoxLayout()
        row.addLayout(buttons, 1)
        row.addLayout(right, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(40, 30, 40, 30)
        lay.addWidget(title)
        lay.addLayout(row, 1)
        self.refresh()

    def refresh(self) -> None:
        self.recent.clear()
        for p in recent_projects():
            it = QListWidgetItem(f"{Path(p).name}   —   {Path(p).parent}")
            it.setData(Qt.ItemDataRole.UserRole, p)
            if not Path(p).exists():
                it.setText(it.text() + "   (missing)")
            self.recent.addItem(it)
        if not self.recent.count():
            self.recent.addItem("No recent projects yet: open some data or try the demo.")

    @Slot(QListWidgetItem)
    def _on_recent(self, item: QListWidgetItem) -> None:
        p = item.data(Qt.ItemDataRole.UserRole)
        if p:
            self.open_recent.emit(p)


def rate_text(done_fraction: float, elapsed: float, total_items: int | None) -> str:
    """ "123 items/s · 0:42 left" from the fraction done and the time spent."""
    if done_fraction <= 0.001 or elapsed <= 0.2:
        return ""
    left = elapsed * (1 - done_fraction) / done_fraction
    mins, secs = divmod(int(left + 0.5), 60)
    rate = f"{done_fraction * total_items / elapsed:,.0f} items/s · " if total_items else ""
    return f"{rate}{mins}:{secs:02d} left"


class ProgressPage(QWidget):
    """A real progress bar with rate and time left; cancel, resume, and the list of unreadable items."""

    cancel = Signal()
    resume = Signal()
    back = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("<h2>Preparing…</h2>")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.message = QLabel()
        self.rate = QLabel()
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.clicked.connect(self.cancel)
        self.resume_btn = QPushButton("Resume")
        self.resume_btn.clicked.connect(self.resume)
        self.back_btn = QPushButton("Back to start")
        self.back_btn.clicked.connect(self.back)
        row = QHBoxLayout()
        row.addStretch(1)
        for b in (self.back_btn, self.resume_btn, self.cancel_btn):
            row.addWidget(b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(60, 60, 60, 60)
        lay.addWidget(self.title)
        lay.addWidget(self.bar)
        lay.addWidget(self.message)
        lay.addWidget(self.rate)
        lay.addLayout(row)
        lay.addStretch(1)
        self.total_items: int | None = None
        self.running("Preparing…")

    def running(self, title: str, total_items: int | None = None) -> None:
        self.title.setText(f"<h2>{title}</h2>")
        self.total_items = total_items
        self.bar.setValue(0)
        self.message.setText("")
        self.rate.setText("")
        self.cancel_btn.setVisible(True)
        self.resume_btn.setVisible(False)
        self.back_btn.setVisible(False)

    def stopped(self, title: str, can_resume: bool) -> None:
        self.title.setText(f"<h2>{title}</h2>")
        self.cancel_btn.setVisible(False)
        self.resume_btn.setVisible(can_resume)
        self.back_btn.setVisible(True)

    def set_progress(self, fraction: float, message: str, elapsed: float) -> None:
        self.bar.setValue(int(1000 * max(0.0, min(1.0, fraction))))
        self.message.setText(message)
        # The embedder reports its own rate; then only the time left is ours to add.
        total = None if "items/s" in message else self.total_items
        self.rate.setText(rate_text(fraction, elapsed, total))


class ProblemsPanel(QWidget):
    """Items that could not be used, with the reason; dismissable."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel()
        close = QPushButton("Dismiss")
        close.clicked.connect(self.hide)
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(close)
        self.list = QListWidget()
        self.list.setMaximumHeight(110)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        lay.addLayout(top)
        lay.addWidget(self.list)
        self.hide()

    def set_problems(self, problems: list[Problem]) -> None:
        self.list.clear()
        for p in problems[:2000]:
            self.list.addItem(f"{p.key}: {p.reason}")
        self.header.setText(f"<b>{len(problems):,} item(s) could not be used</b> and are left out:")
        self.setVisible(bool(problems))
