"""Reading label files for an import: CSV/TSV, Parquet, JSON Lines and Label Studio JSON, into plain records.

Every reader gives :class:`Record` s (the cell that names the item, its label, a suggestion) and refuses a file it
cannot read whole with a one-line :class:`UserError`: an import is all of the file or nothing.

Labels are class names to be: stripped and NFC-normalised (:func:`~aldesk.core.names.clean_class_name`), so a
label written on a Mac matches the class typed elsewhere. A label that cannot be a class name at all (a control
character, 10,000 characters) refuses the whole file, naming its row.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from aldesk.core.exchange.cells import unsafe_cell
from aldesk.core.names import class_name_problem, clean_class_name, shown
from aldesk.core.progress import UserError

DELIMITERS = ",;\t"
PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class Record:
    cells: tuple[str, ...]  # what may name the item, most specific first (an id, the key, a path or URL)
    label: str  # "" = no label
    suggestion: tuple[str, float | None] | None = None  # a prediction to show, never a label


def _label(value: object, where: str, name: str) -> str:
    label = clean_class_name(unsafe_cell(str(value).strip())) if value is not None else ""
    problem = class_name_problem(label) if label else None
    if problem is not None:
        raise UserError(f"Nothing was imported: the label {shown(label)} in {where} of {name} {problem}.")
    return label


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a CSV/TSV: the delimiter is read from the header line, a BOM is dropped."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # long texts are legitimate cells
    try:
        # newline="": a CR or LF inside a quoted cell is part of the text and must survive as is.
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = f.readline()
            found = [d for d in DELIMITERS if d in header]
            f.seek(0)
            rows = list(csv.reader(f, delimiter=found[0] if len(found) == 1 else ","))
    except FileNotFoundError:
        raise UserError(f"{path} does not exist.") from None
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path.name} is not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8'."
        ) from None
    except csv.Error as exc:
        raise UserError(f"{path.name} is not a readable CSV ({exc}).") from None
    except OSError as exc:
        raise UserError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if not rows:
        raise UserError(f"{path.name} is empty.")
    return rows[0], rows[1:]


def _columns(names: list[str], path: Path, id_column: str | None, label_column: str) -> tuple[int, int]:
    low = [h.strip().lower() for h in names]
    key = (id_column or "item").strip().lower()
    want = label_column.strip().lower()
    if key not in low or want not in low:
        raise UserError(
            f"{path.name} needs the columns {key!r} and {want!r}; its columns are: {', '.join(names)}."
        )
    return low.index(key), low.index(want)


def read_csv_records(path: Path, id_column: str | None = None, label_column: str = "label") -> list[Record]:
    header, rows = read_table(path)
    ii, li = _columns(header, path, id_column, label_column)
    out = []
    for n, r in enumerate(rows, start=2):
        if len(r) > max(ii, li):
            out.append(Record((r[ii],), _label(r[li], f"row {n}", path.name)))
    return out


def read_parquet_records(
    path: Path, id_column: str | None = None, label_column: str = "label"
) -> list[Record]:
    """A Parquet table with an item (or ``id_column``) and a label column, as aldesk's parquet export writes."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise UserError("Importing Parquet needs pyarrow: pip install pyarrow.") from None
    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise UserError(f"{path} does not exist.") from None
    except Exception as exc:  # pyarrow's errors (ArrowInvalid, OSError): any of them means "not readable"
        raise UserError(
            f"{path.name} is not a readable Parquet file ({' '.join(str(exc).split())[:200]})."
        ) from None
    ii, li = _columns(table.column_names, path, id_column, label_column)
    keys = table.column(ii).to_pylist()
    labels = table.column(li).to_pylist()
    out = []
    for n, (k, lab) in enumerate(zip(keys, labels, strict=True), start=1):
        if k is not None:
            out.append(Record((str(k),), _label(lab, f"row {n}", path.name) if lab is not None else ""))
    return out


def _json(path: Path) -> object:
    try:
        with open(path, encoding="utf-8-sig") as f:
            return json.load(f)
    except FileNotFoundError:
        raise UserError(f"{path} does not exist.") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path.name} is not UTF-8 text (byte {exc.start}).") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path.name} is not valid JSON (line {exc.lineno}: {exc.msg}).") from None
    except OSError as exc:
        raise UserError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def _choice(results: object) -> str | None:
    """The first class of a Label Studio ``result`` list of ``choices``."""
    for res in results if isinstance(results, list) else ():
        value = res.get("value") if isinstance(res, dict) else None
        choices = value.get("choices") if isinstance(value, dict) else None
        if isinstance(choices, list) and choices and isinstance(choices[0], str):
            return choices[0]
    return None


def _score(prediction: dict) -> float:
    score = prediction.get("score")
    return float(score) if isinstance(score, int | float) else -1.0


def _task_cells(data: dict, id_column: str | None) -> tuple[str, ...]:
    """What may name a task's item: the id field, aldesk's ``item``, then the image/text value (a local-files
    URL is turned back into its path)."""
    cells: list[str] = []
    for key in (id_column, "item"):
        if key and isinstance(data.get(key), str | int):
            cells.append(str(data[key]))
    for key in ("image", "text", *sorted(data)):
        value = data.get(key)
        if isinstance(value, str) and value not in cells:
            cells.append(value)
            url = urlparse(value)
            local = parse_qs(url.query).get("d")
            if local:
                cells.append("/" + unquote(local[0]).lstrip("/"))
            elif url.scheme in ("http", "https", "s3", "gs"):
                cells.append(unquote(url.path))
    return tuple(cells)


def read_labelstudio_records(path: Path, id_column: str | None = None) -> list[Record]:
    """Label Studio JSON export (a list of tasks): the latest annotation that was not cancelled is the label,
    the best-scored prediction a suggestion."""
    tasks = _json(path)
    if not isinstance(tasks, list) or not all(
        isinstance(t, dict) and isinstance(t.get("data"), dict) for t in tasks
    ):
        raise UserError(f"{path.name} is not a Label Studio export (a JSON list of tasks with 'data').")
    out = []
    for n, t in enumerate(tasks, start=1):
        label = ""
        for ann in reversed(t.get("annotations") or []):
            if isinstance(ann, dict) and not ann.get("was_cancelled"):
                chosen = _choice(ann.get("result"))
                if chosen is not None:
                    label = _label(chosen, f"task {n}", path.name)
                    break
        suggestion = None
        preds = [p for p in t.get("predictions") or [] if isinstance(p, dict) and _choice(p.get("result"))]
        if preds:
            best = max(preds, key=_score)
            score = best.get("score")
            cls = _label(_choice(best.get("result")), f"task {n}", path.name)
            suggestion = (cls, float(score) if isinstance(score, int | float) else None)
        out.append(Record(_task_cells(t["data"], id_column), label, suggestion))
    return out


def read_jsonl_records(path: Path, id_column: str | None = None, label_column: str = "label") -> list[Record]:
    out = []
    try:
        with open(path, encoding="utf-8-sig") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise UserError(f"{path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"Cannot read {path.name} as UTF-8 JSON Lines ({exc}).") from None
    key = id_column or "item"
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path.name} line {n} is not JSON ({exc.msg}).") from None
        if not isinstance(obj, dict) or key not in obj:
            raise UserError(f"{path.name} line {n} has no {key!r} field.")
        lab = obj.get(label_column)
        out.append(Record((str(obj[key]),), _label(lab, f"line {n}", path.name) if lab else ""))
    return out


def read_records(
    path: Path | str, *, id_column: str | None = None, label_column: str | None = None
) -> list[Record]:
    """The records of a label file, read by its suffix: .parquet/.pq, .json (Label Studio), .jsonl, else CSV."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return read_parquet_records(path, id_column, label_column or "label")
    if suffix == ".json":
        return read_labelstudio_records(path, id_column)
    if suffix == ".jsonl":
        return read_jsonl_records(path, id_column, label_column or "label")
    return read_csv_records(path, id_column, label_column or "label")
