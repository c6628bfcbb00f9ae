"""The grid's search box: typed words embedded by the project's text model (in the task runner: the first query
loads the model, ~0.1-0.5 s), or a plain substring over the items' texts or file names.

The card comes from the caller (the project's own, ``aldesk.app.workspace.card_for``): the default text model may
change, nothing here names one. Image cards have no text tower, so an image project searches file names.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from aldesk.core.dataset import Dataset
from aldesk.core.progress import CancelFn, ProgressFn
from aldesk.ui.shell.tasks import TaskError, TaskHandle, TaskRunner

SEARCH_KIND = "grid-search"
MEANING_TIP = "Ranks the texts by meaning: your words are embedded by the project's text model."
NO_TEXT_TOWER = (
    "The image model has no text encoder, so typed words cannot be compared with images: "
    "the box searches file names; use M (more like this) to find similar images."
)


class QueryEmbedder(QObject):
    """Embeds one typed query at a time in the task runner; a newer query supersedes the older one."""

    ready = Signal(str, object)  # the query, its (dim,) float32 vector
    failed = Signal(str)  # one line for the user

    def __init__(
        self, runner: TaskRunner, card: Callable[[], object] | None, dim: int, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.runner, self._card, self.dim = runner, card, dim
        self._task: TaskHandle | None = None
        self._text = ""

    def start(self, text: str) -> None:
        card_fn = self._card

        def task(progress: ProgressFn, cancel: CancelFn) -> np.ndarray:
            from aldesk.core.embed import default_card
            from aldesk.core.embed.query_text import embed_query

            card = card_fn() if card_fn is not None else default_card("text")
            return embed_query(card, text)  # type: ignore[arg-type]

        self._text = text
        self._task = self.runner.start(SEARCH_KIND, task)
        self._task.finished.connect(self._on_done)
        self._task.failed.connect(self._on_failed)

    @Slot(object)
    def _on_done(self, vec: object) -> None:
        v = np.asarray(vec, dtype=np.float32)
        if v.shape != (self.dim,):
            self.failed.emit("The text model's vectors do not fit this project's embeddings.")
            return
        self.ready.emit(self._text, v)

    @Slot(object)
    def _on_failed(self, err: TaskError) -> None:
        self.failed.emit(err.message)


class Substring:
    """Case-insensitive substring search over the texts (or, for images, the file names); lowercased once."""

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        self._lower: list[str] | None = None

    def hits(self, text: str, pool: np.ndarray) -> np.ndarray:
        """Items of ``pool`` (a bool mask) whose text contains ``text``, in item order."""
        if self._lower is None:
            ds = self.ds
            src = ds.keys if ds.kind == "image" else [ds.text(i) for i in range(len(ds))]
            self._lower = [t.lower() for t in src]
        q = text.lower()
        return np.array([i for i, t in enumerate(self._lower) if pool[i] and q in t], np.int64)
