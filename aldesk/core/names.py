"""What a class name may be: the one set of rules every way a class comes in goes through.

A class name ends up as a Label Studio XML attribute, an ImageFolder folder name, a CSV cell, a key on screen
and a row in the project file. So it must be printable text of a sane length, and two names that look the same
must be the same name:

- Unicode NFC form. macOS writes folder names decomposed (NFD): "café" from a folder and "café" typed on a
  keyboard are different strings that look identical. Sources and imports normalise with
  :func:`clean_class_name`; the project file only ever stores NFC, so two look-alike twins cannot both exist.
- No control characters (category Cc: NUL breaks XML, a newline breaks a one-line list), no lone surrogates (Cs:
  not encodable as UTF-8), no line/paragraph separators (Zl, Zp) and no bidirectional embedding, override or
  isolate characters (U+202A-U+202E, U+2066-U+2069: they make "gpj.exe" read as "exe.jpg").
- At most :data:`MAX_CLASS_NAME` characters and :data:`MAX_CLASS_BYTES` UTF-8 bytes: a folder name may have
  255 bytes on most file systems, and the export adds a suffix when two names collide.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from aldesk.core.progress import UserError

MAX_CLASS_NAME = 100
MAX_CLASS_BYTES = 200
_BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
_BAD_CATEGORIES = {
    "Cc": "a control character",
    "Cs": "an invalid (surrogate) character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}


class ClassNameError(UserError):
    """A class name that breaks one of the rules above; the message says which, in one line."""


def shown(name: str, limit: int = 40) -> str:
    """``name`` as it may appear in a one-line message: repr (controls escaped), long names cut."""
    return repr(name) if len(name) <= limit else repr(name[:limit]) + f"… ({len(name):,} characters)"


def clean_class_name(raw: str) -> str:
    """What a class name typed, read from a folder or read from a CSV cell becomes: stripped, in NFC form."""
    return unicodedata.normalize("NFC", raw.strip())


def parse_class_list(text: str) -> list[str]:
    """ "cat, dog , bird" -> ["cat", "dog", "bird"]: the one reading of a typed class list (the CLI's --classes,
    the new-project dialog). Commas or new lines separate; names are cleaned (:func:`clean_class_name`); blanks
    and repeats are dropped, the order kept. Names that cannot be classes are left for
    :func:`check_class_names` to refuse with their reason."""
    out: list[str] = []
    for part in text.replace("\n", ",").split(","):
        name = clean_class_name(part)
        if name and name not in out:
            out.append(name)
    return out


def class_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a class name (a sentence fragment), or None when it can."""
    if not isinstance(name, str) or not name.strip():
        return "is empty"
    if name != name.strip():
        return "starts or ends with spaces"
    for ch in name:
        cat = unicodedata.category(ch)
        if cat in _BAD_CATEGORIES:
            return f"contains {_BAD_CATEGORIES[cat]} (U+{ord(ch):04X})"
        if ch in _BIDI_CONTROLS:
            return f"contains a text-direction control character (U+{ord(ch):04X})"
    if len(name) > MAX_CLASS_NAME:
        return f"is {len(name):,} characters long (at most {MAX_CLASS_NAME})"
    if len(name.encode("utf-8")) > MAX_CLASS_BYTES:
        return f"is {len(name.encode('utf-8')):,} bytes long in UTF-8 (at most {MAX_CLASS_BYTES})"
    if not unicodedata.is_normalized("NFC", name):
        # Callers normalise with clean_class_name; this only catches one that did not.
        return f"is not in composed Unicode form (NFC; it should be {unicodedata.normalize('NFC', name)!r})"
    return None


def check_class_names(names: Iterable[object]) -> None:
    """Raise :class:`ClassNameError` for the first name that breaks a rule, or a name listed twice.

    "Twice" compares the NFC forms, so a decomposed twin of an existing class is refused even if it slipped
    past normalisation.
    """
    seen: dict[str, str] = {}
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ClassNameError("A class name cannot be empty.")
        key = unicodedata.normalize("NFC", name)
        if key in seen:
            same = "" if seen[key] == name else f" (it looks the same as {shown(seen[key])})"
            raise ClassNameError(f"The class {shown(name)} is listed twice{same}.")
        seen[key] = name
        problem = class_name_problem(name)
        if problem is not None:
            raise ClassNameError(f"The class name {shown(name)} {problem}.")


def known_class_labels(labels: list[str | None]) -> tuple[list[str | None], str | None]:
    """Known labels of a source (folder names, a CSV label column) made fit to become classes.

    Each is cleaned like a typed name (NFC: a folder named on a Mac matches the class typed on Windows). One that
    still cannot be a class name becomes unknown (None) rather than failing the whole source; the note says how
    many and why, for the data-loading summary.
    """
    out: list[str | None] = []
    bad: dict[str, str] = {}
    for lab in labels:
        if lab is None:
            out.append(None)
            continue
        clean = clean_class_name(lab)
        problem = class_name_problem(clean) if clean else "is empty"
        if problem is None:
            out.append(clean)
        else:
            bad.setdefault(clean, problem)
            out.append(None)
    if not bad:
        return out, None
    name, why = next(iter(bad.items()))
    n = sum(lab is None for lab in out) - sum(lab is None for lab in labels)
    return out, (f"{n:,} known label(s) left out: they cannot be class names (e.g. {shown(name)} {why})")
