"""The plain records a project hands out: a label row, a source of items, a relink's report."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aldesk.core.dataset import Dataset


@dataclass(frozen=True)
class LabelRow:
    item: int
    cls: str
    time: float
    origin: str


@dataclass(frozen=True)
class SourceRow:
    """One source of a project's items: its key prefix ("" for the first), folder or CSV, CSV header (JSON)."""

    prefix: str
    root: Path
    columns: str = ""


def source_columns(ds: Dataset) -> str:
    """What is recorded of a CSV source: its header and the text and label columns read (JSON)."""
    if not ds.columns:
        return ""
    return json.dumps({"columns": list(ds.columns), "text": ds.text_column, "label": ds.label_column})


@dataclass(frozen=True)
class RelinkReport:
    found: int
    missing: list[str]
