"""CSV cells a spreadsheet shows as text, and the one CSV writer of aldesk.

A cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR runs as a formula in a spreadsheet (CSV injection,
OWASP): every cell aldesk writes gets a leading apostrophe then, and :func:`unsafe_cell` undoes it on import, so
export -> import round-trips. No BOM by default (Python's ``csv.DictReader(open(f))`` would see ``'\\ufeffitem'``);
``bom=True`` is for Excel, which needs it to read UTF-8.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from aldesk.core.atomic import atomic_file

# A spreadsheet runs a cell starting with these as a formula (CSV injection, OWASP); tab and CR too.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text: formula starters get a leading apostrophe."""
    s = "" if value is None else str(value)
    return "'" + s if s.startswith(FORMULA_START) else s


def unsafe_cell(s: str) -> str:
    """The inverse of :func:`safe_cell` for cells that were neutralised by it."""
    return s[1:] if s.startswith("'") and s[1:].startswith(FORMULA_START) else s


def write_csv(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], *, bom: bool = False
) -> None:
    """The only CSV writer of aldesk: every cell goes through :func:`safe_cell`; written atomically.
    ``bom``: a UTF-8 byte-order mark first, for Excel (``--excel``)."""
    with atomic_file(path, newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        w = csv.writer(f)
        w.writerow([safe_cell(h) for h in header])
        for r in rows:
            w.writerow([safe_cell(c) for c in r])
