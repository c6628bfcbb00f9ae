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

import csv
from pathlib import Path

from aldesk.core.dataset import Dataset, Problem
from aldesk.core.names import clean_class_name, known_class_labels
from aldesk.core.progress import CancelFn, ProgressFn, UserError, check
from aldesk.core.sources.csv_records import _choose_delimiter, _raise_field_limit, _read_table
from aldesk.core.sources.paths import require_utf8_path
from aldesk.core.sources.text_bytes import _decode, read_text_file
from aldesk.core.sources.text_columns import (
    LABEL_NAMES,
    _column_index,
    _detect_text_column,
    _find_named,
    _unique_names,
)


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
