"""First-run hints: a dismissable overlay over the labeling view with the keys and what S(x) = U·I·D means.

Shown the first time a project is opened (per project), unless the user chose "Don't show again" (QSettings).
It never blocks the keyboard: Esc, Enter or a click only dismiss it, and any other key dismisses it AND does
what it always does (the first "1" labels), so a user who ignores the overlay loses nothing.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, Signal, Slot
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QWindow
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from aldesk.app.settings import HINTS_SETTING as PROJECT_SETTING  # the project showed the hints

NEVER_SETTING = "hints/never"  # QSettings: the user chose "Don't show again"

_MODIFIERS = {Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta, Qt.Key.Key_AltGr}
_DISMISS_ONLY = {Qt.Key.Key_Escape, Qt.Key.Key_Return, Qt.Key.Key_Enter}


def should_show(settings: QSettings, project: Any | None) -> bool:
    """True unless the user turned the hints off, or this project has shown them already."""
    if str(settings.value(NEVER_SETTING, "false")).lower() in ("true", "1"):
        return False
    if project is None:
        return True
    try:
        return not project.get_setting(PROJECT_SETTING, False)
    except Exception:  # noqa: BLE001 - a hint must never stop a project from opening
        return False


def hint_html(k: dict[str, str]) -> str:
    """The overlay's text; ``k`` maps action names to the on-screen key names (``keys.display``)."""
    rows = [
        (
            f"{k.get('class_1', '1')} … {k.get('class_9', '9')}, {k.get('class_10', '0')}",
            "label with class 1 … 9, 10 (see the buttons)",
        ),
        ("Shift+1 … Shift+0", "classes 11 … 20 (Shift+Alt+digit: 21 … 30)"),
        (k.get("pick_class", "/ / C"), "pick any class by typing a few letters of its name"),
        (k.get("accept", "Enter"), "accept the model's suggestion"),
        (k.get("skip", "Space / S"), "skip (not sure, come back later)"),
        (k.get("undo", "Ctrl+Z"), "undo, as far back as you like"),
        (k.get("redo", "Ctrl+Shift+Z"), "redo what you undid"),
        (f"{k.get('next', 'J')} / {k.get('prev', 'K')}", "next / previous candidate"),
        (k.get("new_class", "N"), "new class"),
        (k.get("help", "?"), "all keys"),
    ]
    table = "".join(f"<tr><td align='right'><b>{a}</b></td><td>&nbsp;&nbsp;{b}</td></tr>" for a, b in rows)
    return (
        "<h3>Label with the keyboard</h3>"
        f"<table cellspacing='3'>{table}</table>"
        "<p>Items come in the order of how much your label would <i>teach</i> the model: how unsure it is "
        "about the item, and how many unsure items around it one label would settle (its expected error "
        "reduction; Settings offer S(x) = U·I·D and others). "
        "Now and then an <b>audit</b> item is a random pick instead: its guess, made before you label it, "
        "measures the accuracy honestly.</p>"
    )


class HintsOverlay(QWidget):
    """Covers its parent (the labeling view) until dismissed; ``dismissed(never_again)`` then fires once."""

    dismissed = Signal(bool)

    def __init__(self, parent: QWidget, key_names: dict[str, str]) -> None:
        super().__init__(parent)
        self.setObjectName("hints_overlay")
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self._done = False
        card = QFrame(self)
        card.setObjectName("hints_card")
        card.setFrameShape(QFrame.Shape.StyledPanel)
        card.setAutoFillBackground(True)
        card.setMaximumWidth(560)
        text = QLabel(hint_html(key_names))
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setWordWrap(True)
        self.ok_button = QPushButton("Got it (Esc)")
        self.never_button = QPushButton("Don't show again")
        for b in (self.ok_button, self.never_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the window's shortcuts
        self.ok_button.clicked.connect(lambda: self.dismiss(False))
        self.never_button.clicked.connect(lambda: self.dismiss(True))
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("<i>Any key or click closes this.</i>"), 1)
        buttons.addWidget(self.never_button)
        buttons.addWidget(self.ok_button)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(18, 12, 18, 12)
        inner.addWidget(text)
        inner.addLayout(buttons)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card, 4)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(1)
        parent.installEventFilter(self)
        self.setGeometry(parent.rect())

    def show(self) -> None:  # type: ignore[override]
        super().show()
        self.raise_()
        # An application filter, not focus: the keys reach the window's shortcuts whoever has the focus.
        QApplication.instance().installEventFilter(self)

    @Slot()
    def dismiss(self, never_again: bool = False) -> None:
        if self._done:
            return
        self._done = True
        QApplication.instance().removeEventFilter(self)
        self.hide()
        self.dismissed.emit(never_again)
        self.deleteLater()

    def _ours(self, obj: QObject) -> bool:
        win = self.window()
        if isinstance(obj, QWidget):
            return obj.window() is win
        return isinstance(obj, QWindow) and obj is win.windowHandle()

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        if obj is self.parent() and ev.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
            return False
        t = ev.type()
        if self._done or t not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) or not self._ours(obj):
            return False
        assert isinstance(ev, QKeyEvent)
        key = Qt.Key(ev.key())
        if key in _MODIFIERS:
            return False
        if key in _DISMISS_ONLY and ev.modifiers() in (
            Qt.KeyboardModifier.NoModifier,
            Qt.KeyboardModifier.KeypadModifier,
        ):
            # Accepting the override keeps Enter from also accepting a suggestion the user has not seen yet.
            ev.accept()
            if t == QEvent.Type.KeyPress:
                self.dismiss(False)
            return True
        self.dismiss(False)  # any other key: close, and let the key do its usual job
        return False

    def mousePressEvent(self, ev: QMouseEvent) -> None:
        self.dismiss(False)
        ev.accept()

    def paintEvent(self, ev: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(20, 20, 30, 120))
        p.end()
