"""Keyboard bindings of the labeling view: defaults, QSettings overrides, and their on-screen names.

Users change a binding in the settings file (group ``keys``, one entry per action, sequences separated by
``;`` in QKeySequence portable text, e.g. ``keys/skip=Space;S``); everything on screen reads from here.

Every class has a key (as Prodigy binds them): 1-9, 0 for classes 1-10, Shift+digit for 11-20, Shift+Alt+digit
for 21-30; beyond 30, and for any class by name, the class picker (``/`` or ``C``: type a few letters, Enter).

Actions the platform has a convention for (undo, find, help, quit) take its ``QKeySequence.StandardKey``
first (what this desktop binds: ``Alt+Backspace`` too for undo on some, ``Ctrl+?`` for help on macOS), then the
keys the app documents; a platform that binds none (Quit on Windows) still has those.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence


@dataclass(frozen=True)
class KeyAction:
    name: str
    label: str
    default: tuple[str, ...]
    standard: QKeySequence.StandardKey | None = None  # the platform's convention, bound before ``default``


# Keys 1-9 label classes 1-9 and 0 labels class 10 (the demo has ten classes, like many small sets); Shift and
# Shift+Alt give two more rows of ten. Classes past N_CLASS_KEYS are reached with the picker.
N_DIGIT_KEYS = 10
N_CLASS_KEYS = 30
# What Shift+digit types on a US layout: a key event for Shift+1 may arrive as "!" (with Shift held), so both
# spellings are bound (as "?" and "Shift+?" are for help).
_SHIFTED = dict(zip("1234567890", "!@#$%^&*()", strict=True))
_ROWS = ("", "Shift+", "Shift+Alt+")


def class_key_defaults(n: int) -> tuple[str, ...]:
    """Default keys of class ``n`` (1-based): its digit in row (n - 1) // 10 of the scheme above."""
    row, digit = divmod(n - 1, N_DIGIT_KEYS)
    d = str((digit + 1) % 10)
    if row == 0:
        return (d,)
    return (f"{_ROWS[row]}{d}", f"{_ROWS[row]}{_SHIFTED[d]}")


_DIGIT_OF_KEY = {
    **{int(Qt.Key.Key_0) + d: d for d in range(10)},
    **{
        int(getattr(Qt.Key, f"Key_{name}")): int(d)
        for d, name in zip(
            "1234567890",
            (
                "Exclam",
                "At",
                "NumberSign",
                "Dollar",
                "Percent",
                "AsciiCircum",
                "Ampersand",
                "Asterisk",
                "ParenLeft",
                "ParenRight",
            ),
            strict=True,
        )
    },
}


def class_number(key: int, modifiers: Qt.KeyboardModifier) -> int | None:
    """The class (1-30) a key press names in the default scheme, for views that take class keys themselves
    (the grid, Browse, a map selection): a digit, Shift+digit (11-20; the key may arrive as "!"), Shift+Alt+digit
    (21-30). Ctrl, or Alt without Shift, is no class key."""
    mods = modifiers & ~Qt.KeyboardModifier.KeypadModifier
    shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
    alt = bool(mods & Qt.KeyboardModifier.AltModifier)
    if mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.MetaModifier) or (alt and not shift):
        return None
    digit = _DIGIT_OF_KEY.get(int(key))
    if digit is None:
        return None
    row = 2 if alt else 1 if shift else 0
    return row * N_DIGIT_KEYS + (digit or 10)


ACTIONS: tuple[KeyAction, ...] = (
    *(
        KeyAction(f"class_{n}", f"Label as class {n}", class_key_defaults(n))
        for n in range(1, N_CLASS_KEYS + 1)
    ),
    KeyAction("pick_class", "Pick a class by name (type a few letters, Enter)", ("/", "C")),
    KeyAction("accept", "Accept the suggestion", ("Return", "Enter")),
    KeyAction("skip", "Skip", ("Space", "S")),
    KeyAction("undo", "Undo", ("Ctrl+Z",), QKeySequence.StandardKey.Undo),
    # Ctrl+Shift+Z everywhere, after the platform's own Redo (e.g. Ctrl+Y)
    KeyAction("redo", "Redo", ("Ctrl+Shift+Z",), QKeySequence.StandardKey.Redo),
    KeyAction("next", "Next candidate", ("Right", "J")),
    KeyAction("prev", "Previous candidate", ("Left", "K")),
    KeyAction("new_class", "New class", ("N",)),
    KeyAction("grid", "Grid: label the candidates a page at a time", ("G",)),
    KeyAction("more_like_this", "More like this: the item's nearest unlabeled items in the grid", ("M",)),
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


def class_key_name(b: dict[str, list[QKeySequence]], n: int) -> str:
    """The key of class ``n`` as its button shows it (the first binding: "Shift+1", not "!"); the picker's key
    past the keyed classes."""
    seqs = b.get(f"class_{n}")
    if not seqs:
        return display(b["pick_class"][:1]) if "pick_class" in b else "/"
    return display(seqs[:1])


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


# Keys that live outside this table (menus, the map), named in the help so that it lists every key.
OTHER_KEYS: tuple[tuple[str, str], ...] = (
    ("Ctrl+M", "Show or hide the Plots dock (View › Plots)"),
    ("Ctrl+,", "Labeling settings: strategy, k, audit"),
    ("Shift+drag", "Map: lasso a group of points, then a class key labels them all"),
    ("Ctrl+drag", "Map: select a rectangle"),
    ("Click / right-click", "Map: open a point / export the selection"),
    ("Space / click", "Grid: deselect (or select) an item; a new page comes all selected"),
    ("Class key", "Grid: the selected items get that class (one Ctrl+Z undoes the page)"),
    ("Enter", "Grid: each selected item gets the prediction it shows (one Ctrl+Z undoes the page)"),
    ("PgDn / PgUp, Ctrl+A", "Grid: turn the page, select the whole page"),
)


def help_text(b: dict[str, list[QKeySequence]], settings_file: str = "") -> str:
    """The shortcut table shown by the help key (rich text); ``settings_file``: where the key overrides live."""
    import html

    def row(keys: str, what: str) -> str:
        return f"<tr><td><b>{html.escape(keys)}</b></td><td>&nbsp;&nbsp;{html.escape(what)}</td></tr>"

    rows = [row(display(b[a.name]), a.label) for a in ACTIONS if not a.name.startswith("class_")]
    for r in range(N_CLASS_KEYS // N_DIGIT_KEYS - 1, -1, -1):
        lo, hi = r * N_DIGIT_KEYS + 1, (r + 1) * N_DIGIT_KEYS
        first, last = class_key_name(b, lo), class_key_name(b, hi)
        rows.insert(0, row(f"{first} … {last}", f"Label as class {lo} … {hi}"))
    rows += [row(k, what) for k, what in OTHER_KEYS]
    where = f" It is <code>{html.escape(settings_file)}</code>." if settings_file else ""
    return (
        "<table>" + "".join(rows) + "</table><p>Classes past 30, or any class by name: the picker "
        f"({html.escape(display(b['pick_class']))}). Change a key in the settings file, group <i>keys</i>: "
        f"for example <code>skip=Space;S</code>.{where}</p>"
    )
