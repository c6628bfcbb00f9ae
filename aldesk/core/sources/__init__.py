"""Data sources: a folder of images or a CSV of texts -> a :class:`~aldesk.core.dataset.Dataset`.

Nothing here decodes images or embeds texts; the embedder does that and reports its own failures. These
readers only list items, attach known labels when the source carries them, and turn every problem a user can
fix into a :class:`~aldesk.core.progress.UserError` with a plain message.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from aldesk.core.dataset import Dataset
from aldesk.core.progress import CancelFn, ProgressFn, UserError
from aldesk.core.sources.images import IMAGE_EXTENSIONS, load_images
from aldesk.core.sources.texts import load_csv

__all__ = ["IMAGE_EXTENSIONS", "load_csv", "load_images", "load_source"]


def load_source(
    path: Path,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> Dataset:
    """Read a folder as images, a file as a table of texts (CSV/TSV, or TXT with one text per line).

    Anything else (``/dev/zero``, a FIFO, a socket) is refused from its ``stat`` alone, without opening it."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode  # a stat, never an open: opening a FIFO would block
    except FileNotFoundError:
        raise UserError(f"{path} does not exist.") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        return load_images(path, progress=progress, cancel=cancel)
    if not stat.S_ISREG(mode):
        raise UserError(
            f"{path} is neither a folder nor a regular file (a pipe, a device or a socket); aldesk "
            "reads a folder of images or a CSV, TSV or TXT file."
        )
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        # A common slip: picking one image instead of its folder.
        raise UserError(f"{path.name} is an image; open the folder that contains your images instead.")
    return load_csv(
        path, text_column=text_column, label_column=label_column, progress=progress, cancel=cancel
    )
