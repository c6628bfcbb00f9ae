"""The item list every layer shares: what the data is, independent of how it was read."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from aldesk.core.progress import UserError

Kind = Literal["image", "text"]

# What :meth:`Dataset.path` gives for a refused item: every reader (Pillow, Qt, a copy) sees an empty file that is
# not an image, nothing outside the data folder is read and nothing blocks (a FIFO would).
REFUSED = Path(os.devnull)


class UnsafeItem(UserError):
    """An item whose file is not a regular file inside the data folder: never read, copied or linked."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key, self.reason = key, reason


def resolve_under_root(root: Path | str, key: str) -> Path:
    """The real file of image item ``key`` of data folder ``root``: symlinks followed, ``..`` collapsed.

    A project file comes from anywhere (a zip, a git repository, a shared drive), so its keys and the data folder's
    links are not trusted: an absolute key, a ``..`` part, a symlink (of the file or of a parent folder) leading
    out of the resolved root, or something that is not a regular file (``/proc``, a FIFO, a device, a folder)
    raises :class:`UnsafeItem`. A file that does not exist (yet) inside the root is returned as is: the caller
    reports it as missing. The check and a later open are two steps; callers that copy re-check the opened file
    (see :mod:`aldesk.core.exchange.export`).
    """
    if (
        not key
        or "\0" in key
        or key.startswith(("/", "\\"))
        or PurePosixPath(key).is_absolute()
        or os.path.isabs(key)
        or os.path.splitdrive(key)[0]
    ):
        raise UnsafeItem(key, "not a path inside the data folder (absolute path)")
    parts = PurePosixPath(key.replace("\\", "/")).parts
    if ".." in parts:
        raise UnsafeItem(key, "not a path inside the data folder (has '..')")
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(real_root / key))
    if real != real_root and real_root not in real.parents:
        raise UnsafeItem(key, "leads outside the data folder (a symbolic link?); not read")
    try:
        st = os.stat(real)
    except FileNotFoundError:
        return real
    except OSError as exc:
        raise UnsafeItem(key, f"cannot be checked ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeItem(key, "is not a regular file; not read")
    return real


SOURCE_SEP = "//"
"""Between a source's prefix and the path of its item, in the keys of the sources added after the first one
(``aldesk add-source``): a folder listing joins path parts with single slashes, so no key of the first source
contains it and no two sources' keys can meet."""


def split_key(key: str) -> tuple[str, str]:
    """(source prefix, path in that source) of an image key; the prefix is "" for the project's first source."""
    prefix, sep, rel = key.partition(SOURCE_SEP)
    return (prefix, rel) if sep else ("", key)


_PATH_MEMO = 65_536  # resolved image paths a Dataset remembers (a few MB)


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
    sources : prefix -> folder (or CSV) of every source added after the first (``root``); an image key
        ``prefix//path`` is read from ``sources[prefix] / path``
    missing : items whose file (or CSV row) was gone at the last rescan; their labels are kept
    columns, text_column, label_column : a CSV's header and the columns read (empty for a folder)
    """

    kind: Kind
    root: Path
    keys: list[str]
    known_labels: list[str | None] | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sources: dict[str, Path] = field(default_factory=dict)
    missing: frozenset[int] = frozenset()
    columns: tuple[str, ...] = ()
    text_column: str | None = None
    label_column: str | None = None
    _paths: dict[int, Path] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.keys)

    def path(self, index: int) -> Path:
        """The file of an image item, safe to read: :meth:`safe_path`, or :data:`REFUSED` (an empty non-image)
        for an item it refuses, so that readers that cannot take an exception per item (thumbnails) never read
        outside the data folder.

        Remembered per item (up to ``_PATH_MEMO`` of them): the window asks for every row it paints, and a
        realpath + stat per row made the candidate strip's first paint a 100+ ms stall
        (benchmarks/gui_stall.py). Readers that must check at the moment they read (the embedder, exports) call
        :meth:`safe_path`, which always resolves anew."""
        memo = self._paths
        hit = memo.get(index)
        if hit is not None:
            return hit
        try:
            path = self.safe_path(index)
        except UnsafeItem:
            path = REFUSED
        if len(memo) >= _PATH_MEMO:
            memo.clear()
        memo[index] = path
        return path

    def safe_path(self, index: int) -> Path:
        """The real file of an image item, checked by :func:`resolve_under_root` (raises :class:`UnsafeItem`)."""
        if self.kind != "image":
            raise TypeError("only image items have a path")
        return self.resolve(self.keys[index])

    def resolve(self, key: str) -> Path:
        """:func:`resolve_under_root` of an image key, in the folder of the source it belongs to."""
        prefix, rel = split_key(key)
        if not prefix:
            return resolve_under_root(self.root, key)
        root = self.sources.get(prefix)
        if root is None:
            raise UnsafeItem(key, f"belongs to no source of this project ({prefix!r})")
        return resolve_under_root(root, rel)

    def text(self, index: int) -> str:
        """The text of a text item."""
        if self.kind != "text":
            raise TypeError("only text items have a text")
        return self.keys[index]

    @property
    def has_known_labels(self) -> bool:
        return self.known_labels is not None and any(lab is not None for lab in self.known_labels)
