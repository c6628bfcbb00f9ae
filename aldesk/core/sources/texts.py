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
import os
import re
import stat
import sys
from pathlib import Path

from aldesk.core.dataset import Dataset, Problem
from aldesk.core.names import clean_class_name, known_class_labels
from aldesk.core.progress import CancelFn, ProgressFn, UserError, check
from aldesk.core.sources.paths import require_utf8_path

TEXT_NAMES = ("text", "sentence", "review", "content", "body", "message", "comment", "document")
LABEL_NAMES = ("label", "labels", "class", "category", "sentiment", "target", "y")
DELIMITERS = ",;\t|"
_SNIFF_BYTES = 64 * 1024
# Single-column tables are parsed with a delimiter that cannot split anything, so unquoted commas in
# hand-made one-column files stay part of the text.
_NO_SPLIT = ("\x1f", "\x1e", "\x1d", "\x1c")


MAX_TEXT_BYTES = 4 * 2**30
"""The most aldesk reads from one text file. Far above any labeling set (a 4 GiB CSV is millions of texts), but
a bound: a file that keeps growing (a log being written) must not be read until memory runs out."""
_COMPRESSED = (  # magic bytes -> what the user should be told the file is
    (b"\x1f\x8b", "a gzip-compressed file (.gz)"),
    (b"BZh", "a bzip2-compressed file (.bz2)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file (.xz)"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file (.zst)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive (.7z)"),
    (b"Rar!\x1a\x07", "a RAR archive (.rar)"),
)


def read_text_file(path: Path) -> bytes:
    """The bytes of ``path``, refusing anything that is not a regular file, and at most :data:`MAX_TEXT_BYTES`.

    Opened non-blocking, then checked on the open descriptor: a FIFO (which would block until some writer
    appears), a device such as ``/dev/zero`` (endless) or a socket is refused in one line, and a file swapped
    for one of those between a check and the open cannot slip through.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except IsADirectoryError as exc:
        raise UserError(f"{path} is a folder, not a CSV file.") from exc
    except FileNotFoundError as exc:
        raise UserError(f"{path} does not exist.") from exc
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with open(fd, "rb", closefd=True) as f:  # buffered: read(n) loops until n bytes or the end
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise UserError(f"{path} is a folder, not a CSV file.")
        if not stat.S_ISREG(st.st_mode):
            raise UserError(
                f"{path} is {_file_kind(st.st_mode)}, not a file; aldesk reads texts from a CSV, "
                "TSV or TXT file."
            )
        if st.st_size > MAX_TEXT_BYTES:
            raise _too_big(path)
        try:
            data = f.read(MAX_TEXT_BYTES + 1)
        except OSError as exc:
            raise UserError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_TEXT_BYTES:  # it grew while being read
        raise _too_big(path)
    return data


def _too_big(path: Path) -> UserError:
    return UserError(
        f"{path.name} is larger than {MAX_TEXT_BYTES / 2**30:g} GiB, the most aldesk reads from one "
        "text file; split it into smaller files."
    )


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _raise_field_limit() -> None:
    # The default limit is 128 KiB; 1 MB+ cells are legitimate (long documents). C long is 32-bit on Windows.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def _bomless_wide(data: bytes) -> str | None:
    """The encoding of UTF-16/UTF-32 text without a byte-order mark, told by its NUL bytes, or None.

    Text in UTF-8 hardly ever has NUL bytes. UTF-16 has one in the high byte of every ASCII character (the delimiters, line
    breaks and digits of any CSV, whatever its language), so its NULs sit almost all at odd offsets (LE) or even
    ones (BE); UTF-32 has a NUL in the top byte of every character and in the next one for all of the BMP. A
    pattern that regular, confirmed by the sample decoding cleanly, is not an accident.
    """
    sample = data[:4096]
    if sample.count(0) < 4:
        return None
    sample = sample[: len(sample) // 4 * 4]

    def share(unit: int, pos: int) -> float:
        part = sample[pos::unit]
        return part.count(0) / max(1, len(part))

    candidates = []
    if share(4, 3) >= 0.95 and share(4, 2) >= 0.8 and share(4, 0) <= 0.05:
        candidates.append("utf-32-le")
    if share(4, 0) >= 0.95 and share(4, 1) >= 0.8 and share(4, 3) <= 0.05:
        candidates.append("utf-32-be")
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    # Valid UTF-8 with a few NULs (legal there) is UTF-8: far from the NUL in every other byte that ASCII gives in
    # UTF-16. Texts all in a non-Latin script have few NULs in UTF-16 too, but are not valid UTF-8.
    if not (utf8 and max(odd, even) < 0.3 * len(sample) / 2):
        if odd >= 4 and even <= odd / 20:
            candidates.append("utf-16-le")
        if even >= 4 and odd <= even / 20:
            candidates.append("utf-16-be")
    for enc in candidates:
        try:
            codecs.getincrementaldecoder(enc)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        return enc
    return None


def _decode(path: Path, data: bytes, notes: list[str]) -> str:
    for magic, what in _COMPRESSED:
        if data.startswith(magic):
            raise UserError(
                f"{path.name} is {what}, not a CSV text; unpack it first and open the file inside."
            )
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: FF FE 00 00 starts FF FE
        encoding, body = "utf-32", data
    elif data.startswith(codecs.BOM_UTF8):
        encoding, body = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, body = "utf-16", data
    elif wide := _bomless_wide(data):
        encoding, body = wide, data
        notes.append(f"read as {wide.upper()} (the file has no byte-order mark)")
    else:
        encoding, body = "utf-8", data
    if body.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # zip (xlsx) or OLE (xls)
        if body.startswith(b"PK") and b"xl/" not in body[:65536] and b"[Content_Types]" not in body[:65536]:
            raise UserError(
                f"{path.name} is a zip archive, not a CSV text; unpack it first and open the file inside."
            )
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
    require_utf8_path(path)
    data = read_text_file(path)
    check(cancel)
    if not data.strip():
        raise UserError(f"{path.name} is empty.")
    notes: list[str] = []
    text = _decode(path, data, notes)
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
            table = _read_table(text, delimiter, path)
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
        # NFC here already, so a label typed on a Mac and the same one typed elsewhere are no "conflict".
        label = (clean_class_name(row[label_idx]) or None) if label_idx is not None else None
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
    known: list[str | None] | None = None
    if label_idx is not None:
        known, note = known_class_labels(labels)
        if note:
            notes.append(note)
    if progress is not None:
        progress(1.0, f"{len(keys):,} texts read")
    return Dataset(
        kind="text",
        root=path,
        keys=keys,
        known_labels=known,
        problems=problems,
        notes=notes,
        columns=tuple(columns),
        text_column=columns[text_idx],
        label_column=None if label_idx is None else columns[label_idx],
    )
