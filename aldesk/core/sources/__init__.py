"""Data sources: a folder of images or a CSV of texts -> a :class:`~aldesk.core.dataset.Dataset`.

Nothing here decodes images or embeds texts; the embedder does that and reports its own failures. These
readers only list items, attach known labels when the source carries them, and turn every problem a user can
fix into a :class:`~aldesk.core.progress.UserError` with a plain message.
"""

from __future__ import annotations

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
    """Read a folder as images, a file as a table of texts (CSV/TSV, or TXT with one text per line)."""
    path = Path(path)
    if path.is_dir():
        return load_images(path, progress=progress, cancel=cancel)
    if not path.exists():
        raise UserError(f"{path} does not exist.")
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        # A common slip: picking one image instead of its folder.
        raise UserError(f"{path.name} is an image; open the folder that contains your images instead.")
    return load_csv(
        path, text_column=text_column, label_column=label_column, progress=progress, cancel=cancel
    )
