"""One export being written: what every format writer gets (rows, data, classes, options, report, callbacks)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aldesk.core.dataset import Dataset
from aldesk.core.exchange.model_outputs import ModelOutputs
from aldesk.core.exchange.rows import ExportReport, ExportRow
from aldesk.core.progress import CancelFn, ProgressFn, UserError


@dataclass(frozen=True)
class ExportOptions:
    mode: str = "copy"  # image folders: copy, hardlink or symlink
    split: bool = False  # image folders: train/ and test/ (audit labels = test)
    excel: bool = False  # csv: a UTF-8 BOM first, for Excel
    vectors: bool = False  # parquet: the embedding as a fixed-size list<float32> column
    image_url_prefix: str | None = None  # labelstudio
    model_id: str = ""


@dataclass
class Job:
    rows: list[ExportRow]
    dataset: Dataset
    classes: list[str]
    out: Path  # where to write: the final file, or the temporary folder of a folder export
    options: ExportOptions
    report: ExportReport
    outputs: ModelOutputs | None = None
    progress: ProgressFn | None = None
    cancel: CancelFn | None = None

    def need_outputs(self, fmt: str) -> ModelOutputs:
        if self.outputs is None:
            raise UserError(f"The {fmt} export needs the embeddings: export it from the app or the CLI.")
        return self.outputs

    def split_of(self, r: ExportRow, test: str = "test") -> str:
        """``train`` or ``test``: the audit labels are the test split, the only uniform random sample among
        the labels (actively picked items are not; a predicted row is never a test row)."""
        return test if r.audit and r.label is not None else "train"
