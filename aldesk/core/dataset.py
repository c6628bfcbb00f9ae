"""The item list every layer shares: what the data is, independent of how it was read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Kind = Literal["image", "text"]


@dataclass(frozen=True)
class Problem:
    """An item that could not be used, with a reason a user understands."""

    key: str
    reason: str


@dataclass
class Dataset:
    """Items of one source, in a stable order; an item's index in this order is its id everywhere.

    Attributes
    ----------
    kind : "image" or "text"
    root : the image folder, or the CSV file
    keys : one per item; for images the path relative to ``root`` in POSIX form, for texts the text itself.
        Keys are unique within a dataset; exports and imports use them as the ``item`` column.
    known_labels : one per item (None where unknown), from an ImageFolder layout or a CSV label column
    problems : items that were skipped, with the reason
    """

    kind: Kind
    root: Path
    keys: list[str]
    known_labels: list[str | None] | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)

    def path(self, index: int) -> Path:
        """The file of an image item."""
        if self.kind != "image":
            raise TypeError("only image items have a path")
        return self.root / self.keys[index]

    def text(self, index: int) -> str:
        """The text of a text item."""
        if self.kind != "text":
            raise TypeError("only text items have a text")
        return self.keys[index]

    @property
    def has_known_labels(self) -> bool:
        return self.known_labels is not None and any(lab is not None for lab in self.known_labels)
