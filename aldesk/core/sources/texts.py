"""Reading texts (and optional known labels) from a CSV/TSV table or a plain text file.

Conventions, chosen to be predictable rather than clever:

- Encoding: UTF-8 with or without BOM, or UTF-16 with a BOM. Anything else is a UserError that names the byte
  offset and suggests re-saving as UTF-8; we never guess legacy code pages (a wrong guess silently garbles text).
- Delimiter (CSV): decided by the header line when exactly one of ``,`` ``;`` tab ``|`` occurs in it outside
  quotes; a header with none of them is a single column; otherwise csv.Sniffer on a sample; else ``,``.
  ``.tsv`` is always tab. ``.txt`` is one text per line, no header, no labels.
- Text column: a header named text/sentence/review/... (see ``TEXT_NAMES``), else the column with the longest
  average value that is not mostly numeric.
- Label column, when not given: only a column named label/class/... (see ``LABEL_NAMES``), and only if it has
  between 2 and max(2, half the rows) distinct values; otherwise it is ignored with a note. Conservative on
  purpose: a wrongly guessed label column would fake a "known labels" evaluation.
- Keys are the texts exactly as written (not stripped) so exports match the source cell for cell; texts that
  are empty or whitespace-only become problems; duplicate texts keep their first row, with a note.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import sys
from pathlib import Path

from aldesk.core.dataset import Dataset, Problem
from aldesk.core.progress import CancelFn, ProgressFn, UserError, check

TEXT_NAMES = ("text", "sentence", "review", "content", "body", "message", "comment", "document")
LABEL_NAMES = ("label", "labels", "class", "category", "sentiment", "target", "y")
DELIMITERS = ",;\t|"
_SNIFF_BYTES = 64 * 1024
# Single-column tables are parsed with a delimiter that cannot split anything, so unquoted commas in
# hand-made one-column files stay part of the text.
_NO_SPLIT = ("\x1f", "\x1e", "\x1d", "\x1c")


def _raise_field_limit() -> None:
    # The default limit is 128 KiB; 1 MB+ cells are legitimate (long documents). C long is 32-bit on Windows.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def _decode(path: Path, data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        encoding, body = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, body = "utf-16", data
    else:
        encoding, body = "utf-8", data
    if body.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # zip (xlsx) or OLE (xls)
        raise UserError(
            f"{path.name} looks like an Excel/Office file, not a CSV. Save it as 'CSV UTF-8' and open that."
        )
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        offset = exc.start + (len(data) - len(body))
        bad = body[exc.start : exc.start + 1].hex()
        raise UserError(
            f"{path.name} is not valid {encoding.upper()} text (byte 0x{bad} at offset {offset:,}). "
            "Re-save it as UTF-8 (e.g. in Excel: Save As → 'CSV UTF-8'; in LibreOffice: Character set → "
            "Unicode (UTF-8)) and open it again."
        ) from exc


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


def _read_table(text: str, delimiter: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True)
    return list(reader)


def load_csv(
    path: Path,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> Dataset:
    """Read texts (and known labels) from a CSV/TSV with a header row, or a ``.txt`` with one text per line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError as exc:
        raise UserError(f"{path} is a folder, not a CSV file.") from exc
    except FileNotFoundError as exc:
        raise UserError(f"{path} does not exist.") from exc
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from exc
    check(cancel)
    if not data.strip():
        raise UserError(f"{path.name} is empty.")
    text = _decode(path, data)
    del data
    _raise_field_limit()
    if progress is not None:
        progress(0.1, f"reading {path.name}")

    suffix = path.suffix.lower()
    if suffix == ".txt":
        # One text per line: no header, no quoting, blank lines ignored.
        if text_column is not None or label_column is not None:
            raise UserError(f"{path.name} is a plain text file (one text per line); it has no columns.")
        columns = ["text"]
        # Only real line breaks split: str.splitlines would also split on \x1c, \u2028 and friends.
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        rows = [[line] for line in lines]
        text_idx, label_idx = 0, None
        first_row = 1
    else:
        delimiter = "\t" if suffix == ".tsv" else _choose_delimiter(text)
        try:
            table = _read_table(text, delimiter)
        except csv.Error as exc:
            raise UserError(f"{path.name} is not a readable CSV file: {exc}.") from exc
        check(cancel)
        header_at = next((i for i, r in enumerate(table) if any(c.strip() for c in r)), None)
        if header_at is None:
            raise UserError(f"{path.name} is empty.")
        columns = _unique_names(table[header_at])
        width = len(columns)
        # Short rows are padded, extra cells beyond the header ignored; fully empty rows dropped.
        rows = [
            (r + [""] * (width - len(r)))[:width] for r in table[header_at + 1 :] if any(c.strip() for c in r)
        ]
        del table
        if not rows:
            raise UserError(f"{path.name} has a header but no rows.")
        first_row = header_at + 2
        if text_column is not None:
            text_idx = _column_index(columns, text_column, "texts", path)
        else:
            text_idx = _detect_text_column(columns, rows, path)
        label_idx = None
        if label_column is not None:
            label_idx = _column_index(columns, label_column, "labels", path)
            if label_idx == text_idx:
                raise UserError(f"the text column and the label column are both {columns[text_idx]!r}.")

    notes: list[str] = []
    if suffix != ".txt" and label_column is None:
        candidate = _find_named(columns, LABEL_NAMES, exclude=text_idx)
        if candidate is not None:
            values = [r[candidate].strip() for r in rows]
            distinct = {v for v in values if v}
            limit = max(2, len(rows) // 2)
            if 2 <= len(distinct) <= limit:
                label_idx = candidate
                notes.append(f"known labels from column {columns[candidate]!r}: {len(distinct)} classes")
            else:
                notes.append(
                    f"column {columns[candidate]!r} not used as known labels: {len(distinct)} distinct "
                    f"values in {len(rows):,} rows (choose it explicitly to use it)"
                )
    if suffix != ".txt" and text_column is None:
        notes.append(f"texts from column {columns[text_idx]!r}")

    keys: list[str] = []
    labels: list[str | None] = []
    first_label: dict[str, str | None] = {}
    problems: list[Problem] = []
    duplicates = conflicts = 0
    for n, row in enumerate(rows):
        if n % 20000 == 0:
            check(cancel)
        item = row[text_idx]
        label = (row[label_idx].strip() or None) if label_idx is not None else None
        if not item.strip():
            if suffix != ".txt":  # blank lines in a .txt are just spacing
                problems.append(Problem(f"row {first_row + n}", "empty text"))
            continue
        if item in first_label:
            duplicates += 1
            if label is not None and first_label[item] is not None and label != first_label[item]:
                conflicts += 1
            continue
        first_label[item] = label
        keys.append(item)
        labels.append(label)

    if not keys:
        raise UserError(f"{path.name} has no non-empty texts.")
    if duplicates:
        notes.append(f"{duplicates:,} duplicate texts merged (kept the first occurrence)")
    if conflicts:
        notes.append(f"{conflicts:,} of those duplicates had a different known label; kept the first label")
    if progress is not None:
        progress(1.0, f"{len(keys):,} texts read")
    return Dataset(
        kind="text",
        root=path,
        keys=keys,
        known_labels=labels if label_idx is not None else None,
        problems=problems,
        notes=notes,
    )
