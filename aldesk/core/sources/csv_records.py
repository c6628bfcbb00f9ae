"""A CSV text split into records: the delimiter chosen from its header, a stray quote refused by its line (see
:mod:`aldesk.core.sources.texts`)."""

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

from aldesk.core.progress import UserError

DELIMITERS = ",;\t|"
_SNIFF_BYTES = 64 * 1024
# Single-column tables are parsed with a delimiter that cannot split anything, so unquoted commas in
# hand-made one-column files stay part of the text.
_NO_SPLIT = ("\x1f", "\x1e", "\x1d", "\x1c")


def _raise_field_limit() -> None:
    # The default limit is 128 KiB; 1 MB+ cells are legitimate (long documents). C long is 32-bit on Windows.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def _header_line(text: str) -> str:
    """The first logical line (newlines inside double quotes don't end it)."""
    quoted = False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch in "\r\n" and not quoted:
            return text[:i]
    return text


def _delimiters_outside_quotes(line: str) -> dict[str, int]:
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    return {d: n for d, n in counts.items() if n}


def _choose_delimiter(text: str) -> str:
    # Blank lines before the header are skipped by the reader too, so look past them.
    lead = re.match(r"(?:[ \t]*(?:\r\n|\r|\n))*", text)
    present = _delimiters_outside_quotes(_header_line(text[lead.end() if lead else 0 :]))
    if len(present) == 1:
        return next(iter(present))
    if not present:
        return next((d for d in _NO_SPLIT if d not in text), ",")
    try:
        return csv.Sniffer().sniff(text[:_SNIFF_BYTES], delimiters="".join(present)).delimiter
    except csv.Error:
        # Ambiguous header: the delimiter that splits it the most is the best remaining guess.
        return max(present, key=lambda d: (present[d], d == ","))


def _read_table(text: str, delimiter: str, path: Path) -> list[list[str]]:
    """The records of ``text``; a record that spans lines only because of a stray quote is a UserError.

    The csv module (lenient, as real files need) reads an opening quote that is never closed properly as one
    field running to the next quote or the end of the file: one stray ``"`` on line 7 of 10,000 rows silently
    gives 6 items, the rest glued into one text. A legitimate multi-line cell is closed by a quote followed by a
    delimiter or a line break; so every record that spans several lines is read again strictly, alone, and a
    record the strict reader refuses is reported by the line its quote opened on.
    """
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True)
    table: list[list[str]] = []
    while True:
        start_line, start_pos = reader.line_num + 1, lines.pos
        try:
            row = next(reader)
        except StopIteration:
            return table
        if reader.line_num > start_line and _badly_quoted(text[start_pos : lines.pos], delimiter):
            last = reader.line_num
            raise UserError(
                f'{path.name}: the quote (") that opens a cell on line {start_line:,} is not closed properly, so '
                f"lines {start_line:,}–{last:,} would be read as one text. Fix that quote (a quote inside a "
                'text is written twice: "") and open the file again.'
            )
        table.append(row)


class _Lines:
    """The physical lines of ``text`` for csv.reader, remembering the offset where the next one starts."""

    def __init__(self, text: str) -> None:
        self._it = io.StringIO(text, newline="")
        self.pos = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._it.readline()
        if not line:
            raise StopIteration
        self.pos += len(line)
        return line


def _badly_quoted(record: str, delimiter: str) -> bool:
    try:
        rows = list(
            csv.reader(
                io.StringIO(record, newline=""),
                delimiter=delimiter,
                quotechar='"',
                doublequote=True,
                strict=True,
            )
        )
    except csv.Error:
        return True
    return len(rows) != 1
