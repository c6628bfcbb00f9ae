"""Which column of a table holds the texts and which the labels: by name, else the longest non-numeric column
(see :mod:`aldesk.core.sources.texts`)."""

from __future__ import annotations

from pathlib import Path

from aldesk.core.progress import UserError

TEXT_NAMES = ("text", "sentence", "review", "content", "body", "message", "comment", "document")
LABEL_NAMES = ("label", "labels", "class", "category", "sentiment", "target", "y")


def _mostly_numeric(values: list[str]) -> bool:
    def numeric(v: str) -> bool:
        try:
            float(v.replace(",", "."))
        except ValueError:
            return False
        return True

    filled = [v for v in values if v.strip()]
    return bool(filled) and sum(numeric(v) for v in filled) > len(filled) / 2


def _unique_names(header: list[str]) -> list[str]:
    names: list[str] = []
    for i, raw in enumerate(header):
        name = raw.strip() or f"column {i + 1}"
        base, n = name, 2
        while name in names:
            name, n = f"{base} ({n})", n + 1
        names.append(name)
    return names


def _find_named(columns: list[str], wanted: tuple[str, ...], exclude: int | None = None) -> int | None:
    lowered = [c.strip().casefold() for c in columns]
    for name in wanted:
        for i, c in enumerate(lowered):
            if c == name and i != exclude:
                return i
    return None


def _column_index(columns: list[str], name: str, role: str, path: Path) -> int:
    if name in columns:
        return columns.index(name)
    folded = [c.casefold() for c in columns]
    if name.strip().casefold() in folded:
        return folded.index(name.strip().casefold())
    listing = ", ".join(repr(c) for c in columns)
    raise UserError(f"{path.name} has no column {name!r} for the {role}. Available columns: {listing}.")


def _detect_text_column(columns: list[str], rows: list[list[str]], path: Path) -> int:
    named = _find_named(columns, TEXT_NAMES)
    if named is not None:
        return named
    if len(columns) == 1:
        return 0
    best, best_len = None, -1.0
    for i in range(len(columns)):
        values = [r[i] for r in rows[:5000]]
        if _mostly_numeric(values):
            continue
        avg = sum(len(v) for v in values) / max(1, len(values))
        if avg > best_len:
            best, best_len = i, avg
    if best is None:
        listing = ", ".join(repr(c) for c in columns)
        raise UserError(
            f"{path.name}: could not tell which column holds the texts (all look numeric). "
            f"Choose the text column among: {listing}."
        )
    return best
