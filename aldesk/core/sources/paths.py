"""Paths the project file can hold: a data folder or file whose own path is not UTF-8 is refused up front."""

from __future__ import annotations

import os
from pathlib import Path

from aldesk.core.progress import UserError


def printable(path: Path | str) -> str:
    """``path`` for a message: bytes that are not UTF-8 (surrogate escapes from the OS) shown as ``\\xe9``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def require_utf8_path(path: Path) -> None:
    """Raise a one-line UserError when the absolute path of ``path`` is not valid UTF-8.

    The project stores its data root as text (SQLite, UTF-8) and exports write it; a Latin-1 folder name in the
    path would fail there with an encoding traceback, after the user chose everything. Names *inside* the folder
    are handled per item (skipped and listed) by the image lister.
    """
    text = str(Path(path).absolute())
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UserError(
            f"The path {printable(text)} is not valid UTF-8 text; rename the folder or file (e.g. to plain "
            "letters) and open it again."
        ) from None
