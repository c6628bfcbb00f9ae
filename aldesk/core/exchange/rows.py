"""What an export writes, format aside: one :class:`ExportRow` per exported item, and the report.

Every format carries the item's key (image path relative to the data folder, or the text itself) as ``item``,
so an export can be imported back (:mod:`aldesk.core.exchange.imports`). Predicted labels for unlabeled items are
included only when asked, from plain ``(predicted, confidence)`` arrays.

An unusable item (its image missing, refused as outside the data folder, or failed to load: not ``eligible``) is
never a row, labeled or predicted: a trainer reading the export would choke on it or learn from a prediction
made for a file that is not an image (:func:`drop_unusable`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aldesk.core.dataset import Dataset, UnsafeItem


@dataclass(frozen=True)
class ExportRow:
    index: int
    item: str
    label: str | None  # the user's label; None for a predicted-only row
    predicted: str | None
    confidence: float | None
    origin: str  # user / batch / imported / audit / suggestion / prelabel, or "predicted"
    time: float | None = None  # when the label was given (unix seconds); None for a predicted row

    @property
    def audit(self) -> bool:
        """An audit label: the item was drawn uniformly at random, so these rows are an honest test split."""
        return self.origin == "audit"

    @property
    def target(self) -> str:
        """The class a file layout files the row under: the label, else the prediction."""
        return self.label if self.label is not None else self.predicted or ""


@dataclass
class ExportReport:
    path: Path
    n_labeled: int = 0
    n_predicted: int = 0
    missing: list[str] = field(default_factory=list)  # image files that were not found
    refused: list[str] = field(default_factory=list)  # "key: reason", never copied nor linked
    unusable: list[str] = field(default_factory=list)  # "key: reason": failed to load, not exported
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # what was written (files, or the folder)
    splits: dict[str, int] = field(default_factory=dict)  # with --split: rows per split folder

    def as_json(self) -> dict:
        """The report as ``aldesk export --json`` prints it."""
        return {
            "path": str(self.path),
            "labeled": self.n_labeled,
            "predicted": self.n_predicted,
            "files": [str(f) for f in self.files],
            "splits": self.splits,
            "missing": self.missing,
            "refused": self.refused,
            "unusable": self.unusable,
            "notes": self.notes,
        }


def export_rows(
    dataset: Dataset,
    labels: dict[int, tuple[str, str]] | dict[int, tuple[str, str, float]],
    predicted: Sequence[str | None] | None = None,
    confidence: np.ndarray | Sequence[float] | None = None,
    *,
    include_predicted: bool = False,
    min_confidence: float = 0.0,
    every_item: bool = False,
) -> list[ExportRow]:
    """Rows in item order: every labeled item, and with ``include_predicted`` unlabeled items whose prediction
    reaches ``min_confidence``; with ``every_item`` every unlabeled item too (origin "", for the embeddings).

    labels : item -> (class, origin) or (class, origin, time)
    predicted, confidence : one per item (class name or None), e.g. from :func:`session_predictions`.
    """
    if include_predicted and (predicted is None or confidence is None):
        raise ValueError("predicted labels need predicted and confidence arrays")
    if predicted is not None and len(predicted) != len(dataset):
        raise ValueError(f"{len(predicted)} predictions for {len(dataset)} items")
    rows = []
    for i, key in enumerate(dataset.keys):
        pred = predicted[i] if predicted is not None else None
        conf = float(confidence[i]) if confidence is not None and pred is not None else None
        if i in labels:
            cls, origin, *when = labels[i]
            rows.append(ExportRow(i, key, cls, pred, conf, origin, float(when[0]) if when else None))
        elif include_predicted and pred is not None and conf is not None and conf >= min_confidence:
            rows.append(ExportRow(i, key, None, pred, conf, "predicted"))
        elif every_item:
            rows.append(ExportRow(i, key, None, pred, conf, ""))
    return rows


def session_predictions(session: object) -> tuple[list[str | None], np.ndarray]:
    """Class names and confidences per item from a Session's ``predictions()`` (leave-one-out for labeled)."""
    idx, conf = session.predictions()  # type: ignore[attr-defined]
    classes = session.classes  # type: ignore[attr-defined]
    return [classes[int(c)] if c >= 0 else None for c in idx], np.asarray(conf, dtype=np.float64)


def drop_unusable(
    rows: list[ExportRow],
    dataset: Dataset,
    report: ExportReport,
    eligible: np.ndarray | None = None,
    reasons: dict[int, str] | None = None,
) -> list[ExportRow]:
    """The rows whose item is usable; the others are listed in the report (missing, refused, unusable).

    An image must be a regular file inside the data folder (checked here for every format, so a CSV export
    lists no item that a folder export would refuse); ``eligible`` (from the embedding: False for a file that
    failed to load, such as a text file named ``notes.png`` or a truncated PNG) drops the rest."""
    kept = []
    for r in rows:
        if eligible is not None and not eligible[r.index]:
            why = (reasons or {}).get(r.index, "could not be loaded")
            report.unusable.append(f"{r.item}: {why}")
            continue
        if dataset.kind == "image":
            try:
                src = dataset.resolve(r.item)
            except UnsafeItem as exc:
                report.refused.append(str(exc))
                continue
            if not src.is_file():
                report.missing.append(r.item)
                continue
        kept.append(r)
    return kept
