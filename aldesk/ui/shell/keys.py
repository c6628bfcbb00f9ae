"""Keyboard bindings of the labeling view: defaults, QSettings overrides, and their on-screen names.

Users change a binding in the settings file (group ``keys``, one entry per action, sequences separated by
``;`` in QKeySequence portable text, e.g. ``keys/skip=Space;S``); everything on screen reads from here.

Actions the platform has a convention for (undo, find, help, quit) take its ``QKeySequence.StandardKey``
first (what this desktop binds: ``Alt+Backspace`` too for undo on some, ``Ctrl+?`` for help on macOS), then the
keys the app documents; a platform that binds none (Quit on Windows) still has those.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSettings
from PySide6.QtGui import QKeySequence


@dataclass(frozen=True)
class KeyAction:
    name: str
    label: str
    default: tuple[str, ...]
    standard: QKeySequence.StandardKey | None = None  # the platform's convention, bound before ``default``


# Keys 1-9 label classes 1-9 and 0 labels class 10 (the demo has ten classes, like many small sets).
N_CLASS_KEYS = 10

ACTIONS: tuple[KeyAction, ...] = (
    *(KeyAction(f"class_{n}", f"Label as class {n}", (str(n % 10),)) for n in range(1, N_CLASS_KEYS + 1)),
    KeyAction("accept", "Accept the suggestion", ("Return", "Enter")),
    KeyAction("skip", "Skip", ("Space", "S")),
    KeyAction("undo", "Undo", ("Ctrl+Z",), QKeySequence.StandardKey.Undo),
    KeyAction("next", "Next candidate", ("Right", "J")),
    KeyAction("prev", "Previous candidate", ("Left", "K")),
    KeyAction("new_class", "New class", ("N",)),
    # "?" is Shift+/ on many layouts and the key event then carries Shift: bind both forms.
    KeyAction("help", "Keyboard shortcuts", ("?", "Shift+?", "F1"), QKeySequence.StandardKey.HelpContents),
    KeyAction("find", "Find an item (Browse and fix)", ("Ctrl+F",), QKeySequence.StandardKey.Find),
    KeyAction("quit", "Quit", ("Ctrl+Q",), QKeySequence.StandardKey.Quit),
)
BY_NAME = {a.name: a for a in ACTIONS}


def bindings(settings: QSettings | None = None) -> dict[str, list[QKeySequence]]:
    """Action name -> key sequences, user overrides first applied over the defaults."""
    settings = settings or QSettings()
    out: dict[str, list[QKeySequence]] = {}
    for a in ACTIONS:
        raw = settings.value(f"keys/{a.name}")
        texts = [t.strip() for t in str(raw).split(";")] if raw else []
        seqs = [s for s in (QKeySequence(t) for t in texts if t) if not s.isEmpty()]
        out[a.name] = seqs or default_keys(a)
    return out


def default_keys(a: KeyAction) -> list[QKeySequence]:
    """The platform's standard keys for the action (if any), then the documented ones, each once."""
    return standard_keys(a.standard, a.default)


def standard_keys(standard: QKeySequence.StandardKey | None, texts: tuple[str, ...]) -> list[QKeySequence]:
    """``QKeySequence.keyBindings(standard)`` (this platform's convention), then ``texts``, each once."""
    seqs = list(QKeySequence.keyBindings(standard)) if standard is not None else []
    for t in texts:
        seq = QKeySequence(t)
        if not seq.isEmpty() and seq not in seqs:
            seqs.append(seq)
    return seqs


def display(seqs: list[QKeySequence]) -> str:
    """How a binding reads on screen: "Space / S"."""
    names = []
    for s in seqs:
        name = s.toString(QKeySequence.SequenceFormat.NativeText)
        if name == "Shift+?":
            name = "?"
        if name not in names:
            names.append(name)
    # "Return" and "Enter" are one key to a user; show it once.
    if "Return" in names and "Enter" in names:
        names.remove("Enter")
    return " / ".join(n.replace("Return", "Enter") for n in names)


def help_text(b: dict[str, list[QKeySequence]]) -> str:
    """The shortcut table shown by the help key (rich text)."""
    rows = [
        f"<tr><td><b>{display(b[a.name])}</b></td><td>&nbsp;&nbsp;{a.label}</td></tr>"
        for a in ACTIONS
        if not a.name.startswith("class_")
    ]
    first, last = display(b["class_1"]), display(b[f"class_{N_CLASS_KEYS}"])
    rows.insert(0, f"<tr><td><b>{first} … {last}</b></td><td>&nbsp;&nbsp;Label as class 1 … 10</td></tr>")
    return (
        "<table>" + "".join(rows) + "</table><p>Change a key in the settings file, group <i>keys</i>: "
        "for example <code>skip=Space;S</code>.</p>"
    )
