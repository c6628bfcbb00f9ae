"""From a path to a ready workspace: read the source, create or open the project, embed, open the session.

Every slow step runs in the task runner; this object only sequences them and says what the window must show.
Heavy modules (the embedder and its onnxruntime) are imported inside the task functions, in the worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from aldesk.core.dataset import Dataset
from aldesk.core.progress import CancelFn, ProgressFn, check
from aldesk.core.session import DEFAULT_K
from aldesk.ui.controller import Workspace
from aldesk.ui.tasks import TaskError, TaskRunner

PROJECT_SUFFIX = ".aldesk"


def default_project_path(data: Path) -> Path:
    """``photos/`` -> ``photos.aldesk`` beside it; ``reviews.csv`` -> ``reviews.aldesk``; a data dir if read-only."""
    data = Path(data).absolute()
    name = data.name if data.is_dir() else data.stem
    beside = data.parent / f"{name}{PROJECT_SUFFIX}"
    import os

    if os.access(data.parent, os.W_OK):
        return beside
    from platformdirs import user_data_dir

    return Path(user_data_dir("aldesk")) / "projects" / f"{name}{PROJECT_SUFFIX}"


def vectors_key(model_id: str, hashes: list[str], ok: np.ndarray) -> str:
    """Same model, same item contents, same usable items -> same embeddings -> same density."""
    import hashlib

    h = hashlib.sha1(model_id.encode())
    h.update("\n".join(hashes).encode())
    h.update(np.packbits(np.asarray(ok, dtype=bool)).tobytes())
    return h.hexdigest()


@dataclass
class SetupRequest:
    """What the new-project dialog needs: the data, and what we could guess."""

    data: Path
    dataset: Dataset
    project_path: Path
    suggested_classes: list[str]


@dataclass
class _Loaded:
    project: Any
    dataset: Dataset


class Opener(QObject):
    """Sequences load -> (set-up) -> embed -> session. Emits ``ready`` with the workspace."""

    stage = Signal(str)  # "loading", "embedding", "density"
    need_setup = Signal(object)  # SetupRequest: the window shows the new-project dialog and calls create()
    ready = Signal(object)  # Workspace
    error = Signal(object)  # TaskError
    embed_cancelled = Signal()

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.cache_dir: Path | None = None  # tests point this at a temporary folder
        self._pending_classes: list[str] | None = None
        self._pending_project: Path | None = None
        self._loaded: _Loaded | None = None
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(self._on_cancelled)

    # --------------------------------------------------------------- entry points
    def open_path(self, path: Path, project_file: Path | None = None, classes: list[str] | None = None) -> None:
        """A data folder, a CSV, or a project file. An existing project for the data is reopened."""
        path = Path(path)
        if path.suffix == PROJECT_SUFFIX and (path.is_file() or not path.exists()):
            self.open_project(path)
            return
        target = Path(project_file) if project_file else default_project_path(path)
        if target.exists():
            self.open_project(target)
            return
        self._pending_project = target
        self._pending_classes = classes
        self.stage.emit("loading")

        def load(progress: ProgressFn, cancel: CancelFn) -> Dataset:
            from aldesk.core.sources import load_source

            return load_source(path, progress=progress, cancel=cancel)

        self.runner.start("load", load)

    def open_project(self, path: Path) -> None:
        self.stage.emit("loading")

        def open_(progress: ProgressFn, cancel: CancelFn) -> _Loaded:
            from aldesk.core.project import Project

            progress(0.0, f"Opening {Path(path).name}…")
            p = Project.open(path)
            try:
                ds = p.dataset()
                check(cancel)
            except BaseException:
                p.close()  # and its writer lock: a failed or cancelled open must leave the project free
                raise
            return _Loaded(p, ds)

        self.runner.start("open", open_)

    def create(self, req: SetupRequest, classes: list[str], card_path: Path | None) -> None:
        """Called by the window once the user confirmed the set-up."""
        self.stage.emit("loading")

        def create_(progress: ProgressFn, cancel: CancelFn) -> _Loaded:
            from aldesk.core.embed import default_card, load_card
            from aldesk.core.project import Project

            card = load_card(card_path) if card_path else default_card(req.dataset.kind)
            req.project_path.parent.mkdir(parents=True, exist_ok=True)
            p = Project.create(req.project_path, req.dataset, classes, model_id=card.id,
                               card_path=str(card_path) if card_path else None)
            return _Loaded(p, req.dataset)

        self.runner.start("create", create_)

    def embed(self) -> None:
        """(Re)start embedding the loaded project; cached vectors make a rerun resume where it stopped."""
        loaded = self._loaded
        if loaded is None:
            return
        self.stage.emit("embedding")
        cache_dir = self.cache_dir

        def embed_(progress: ProgressFn, cancel: CancelFn) -> Any:
            from aldesk.core.embed import default_card, embed_dataset, load_card

            card_path = loaded.project.card_path
            card = load_card(card_path) if card_path else default_card(loaded.dataset.kind)
            result = embed_dataset(loaded.dataset, card, cache_dir=cache_dir, progress=progress, cancel=cancel)
            # Still in the worker: storing hashes and restoring the session (a k-NN rebuild when no stored state
            # fits: seconds at 1M items) must not freeze the window. Project is thread-safe (one lock).
            progress(1.0, "Restoring labels…")
            session, key = self._restore(loaded.project, result)
            return result, session, key

        self.runner.start("embed", embed_)

    def _restore(self, p: Any, result: Any) -> tuple[Any, str]:
        p.set_hashes(result.hashes)
        key = vectors_key(result.model_id, list(result.hashes), result.ok)
        settings = session_settings(p)
        k = int(settings.get("k", DEFAULT_K))
        root = self.graph_root()

        def slots(labeled: np.ndarray) -> Any:
            # the neighbour slots stored when this project last closed: no N x L x d rebuild
            from aldesk.core.density import knn_state_key, load_knn_state

            return load_knn_state(knn_state_key(key, labeled, k), len(result.ok), k, root)

        return p.open_session(result.vectors, eligible=result.ok, slots=slots, **settings), key

    def compute_density(self, ws: Workspace) -> None:
        """k-NN graph (density, and the neighbours the "eer" measure needs) in the background; kept on disk per set
        of embeddings, so a reopen is instant."""
        vectors = ws.session.X
        eligible = ws.session.eligible.copy()
        key = ws.vectors_key
        root = self.graph_root()

        def density(progress: ProgressFn, cancel: CancelFn) -> object:
            from aldesk.core.density import knn_graph_cached
            from aldesk.core.eer_kernel import kernel

            graph = knn_graph_cached(vectors, eligible, key, root=root, progress=progress, cancel=cancel)
            kernel()  # compile (or load) the eer loop here, not on the first key press
            return graph

        self.runner.start("density", density)

    # ------------------------------------------------------------------- results
    @Slot(str, object)
    def _on_finished(self, kind: str, result: object) -> None:
        if kind == "load":
            self._after_load(result)  # type: ignore[arg-type]
        elif kind in ("open", "create"):
            self._loaded = result  # type: ignore[assignment]
            self.embed()
        elif kind == "embed":
            self._after_embed(result)

    def _after_load(self, ds: Dataset) -> None:
        if len(ds) == 0:
            self.error.emit(TaskError(f"No items found in {ds.root}.", "", True))
            return
        known = sorted({lab for lab in (ds.known_labels or []) if lab})
        req = SetupRequest(Path(ds.root), ds, self._pending_project or default_project_path(Path(ds.root)),
                           known)
        if self._pending_classes is not None:
            self.create(req, self._pending_classes, None)
        else:
            self.need_setup.emit(req)

    def _after_embed(self, out: Any) -> None:
        loaded = self._loaded
        assert loaded is not None
        result, session, key = out
        p = loaded.project
        problems = list(loaded.dataset.problems) + list(result.failed)
        title = Path(p.path).name
        self._loaded = None  # the workspace owns (and closes) the project from here on
        self.ready.emit(Workspace(loaded.dataset, session, p, problems, title, key))

    def graph_root(self) -> Path | None:
        """Where density graphs and k-NN states are stored (None: the default user cache)."""
        return Path(self.cache_dir) / "graphs" if self.cache_dir is not None else None

    def save_knn_state(self, ws: Workspace) -> None:
        """Store the session's neighbour slots so the next open skips the rebuild (matters at 100k+ items)."""
        knn = ws.session.knn
        if not ws.vectors_key or knn.n_labeled < knn.k:
            return
        from aldesk.core.density import knn_state_key, save_knn_state

        save_knn_state(knn.nbr, knn.sim, knn_state_key(ws.vectors_key, knn.labeled, knn.k), self.graph_root())

    @Slot(str, object)
    def _on_failed(self, kind: str, error: object) -> None:
        if kind in ("load", "open", "create", "embed"):
            self.error.emit(error)

    @Slot(str)
    def _on_cancelled(self, kind: str) -> None:
        if kind == "embed":
            self.embed_cancelled.emit()

    def discard(self) -> None:
        """Forget a loaded project that never became a workspace (user went back to the start page)."""
        self.runner.cancel("embed")
        if self._loaded is not None:
            self._loaded.project.close()
            self._loaded = None


def session_settings(project: Any) -> dict[str, Any]:
    """The project's saved strategy and k (Settings dialog) as ``open_session`` keywords; bad values are dropped."""
    from aldesk.core.scoring import parse_strategy
    from aldesk.ui.settings_dialog import K_SETTING, STRATEGY_SETTING

    out: dict[str, Any] = {}
    strategy = project.get_setting(STRATEGY_SETTING, None)
    if isinstance(strategy, str):
        try:
            out["strategy"] = parse_strategy(strategy)
        except ValueError:
            pass  # a hand-edited value: the default strategy, rather than a project that does not open
    k = project.get_setting(K_SETTING, None)
    if isinstance(k, int) and not isinstance(k, bool) and 1 <= k <= 1000:
        out["k"] = k
    return out
