"""From a path to a ready workspace: read the source, create or open the project, embed, open the session.

Every slow step runs in the task runner; this object only sequences them and says what the window must show.
Heavy modules (the embedder and its onnxruntime) are imported inside the task functions, in the worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from aldesk.app import workspace as app_ws
from aldesk.app.paths import PROJECT_SUFFIX, default_project_path
from aldesk.app.settings import read_settings
from aldesk.app.workspace import Loaded as _Loaded
from aldesk.app.workspace import vectors_key
from aldesk.core.dataset import Dataset
from aldesk.core.progress import CancelFn, ProgressFn
from aldesk.ui.labeling.controller import Workspace
from aldesk.ui.shell.tasks import TaskError, TaskHandle, TaskRunner

# The path rules and the steps of an open live in aldesk.app (shared with the CLI); re-exported here.
__all__ = [
    "PROJECT_SUFFIX",
    "Opener",
    "SetupRequest",
    "default_project_path",
    "session_settings",
    "vectors_key",
]


@dataclass
class SetupRequest:
    """What the new-project dialog needs: the data, and what we could guess."""

    data: Path
    dataset: Dataset
    project_path: Path
    suggested_classes: list[str]
    card: Path | None = None  # `aldesk open --model-card`: the dialog starts with it chosen


class Opener(QObject):
    """Sequences load -> (set-up) -> embed -> session. Emits ``ready`` with the workspace."""

    stage = Signal(str)  # "loading", "embedding", "density"
    need_setup = Signal(object)  # SetupRequest: the window shows the new-project dialog and calls create()
    ready = Signal(object)  # Workspace
    error = Signal(object)  # TaskError
    embed_cancelled = Signal()
    notice = Signal(str)  # one line for the status bar: what a rescan changed, or why it changed nothing
    progress = Signal(
        float, str, float
    )  # fraction, message, elapsed seconds of the current load/open/embed step

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.cache_dir: Path | None = None  # tests point this at a temporary folder
        self._pending_classes: list[str] | None = None
        self._pending_project: Path | None = None
        self._pending_card: Path | None = None
        self._loaded: _Loaded | None = None
        self._rescan: tuple[bool, Path | None] = (False, None)
        self.prompt: Any = None  # the "data changed" question while it is shown

    # --------------------------------------------------------------- entry points
    def open_path(
        self,
        path: Path,
        project_file: Path | None = None,
        classes: list[str] | None = None,
        *,
        text_column: str | None = None,
        label_column: str | None = None,
        model_card: Path | None = None,
    ) -> None:
        """A data folder, a CSV, or a project file. An existing project for the data is reopened.

        ``text_column``, ``label_column``, ``model_card``: how a new project reads its data and embeds it (the
        options of ``aldesk init``/``aldesk open``); an existing project keeps its own."""
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
        self._pending_card = model_card
        self.stage.emit("loading")

        def load(progress: ProgressFn, cancel: CancelFn) -> Dataset:
            from aldesk.core.sources import load_source

            return load_source(
                path, text_column=text_column, label_column=label_column, progress=progress, cancel=cancel
            )

        self._start("load", load, self._after_load)

    def open_project(self, path: Path, *, rescan: bool = False, add_source: Path | None = None) -> None:
        """Open a project; with ``rescan`` (File › Rescan) or ``add_source`` (File › Add source) its item list is
        brought up to date first, and ``notice`` says what changed (or why nothing did)."""
        self.stage.emit("loading")

        def open_(progress: ProgressFn, cancel: CancelFn) -> _Loaded:
            return app_ws.open_project(path, progress=progress, cancel=cancel)  # a failed open frees it

        self._rescan = (rescan, add_source)
        self._start("open", open_, self._on_opened)

    @Slot(object)
    def _on_opened(self, loaded: _Loaded) -> None:
        """A project just opened: rescan it when asked to, else look whether its data changed (the prompt)."""
        (rescan, add_source), self._rescan = self._rescan, (False, None)
        self._loaded = loaded
        if rescan or add_source is not None:

            def rescan_(progress: ProgressFn, cancel: CancelFn) -> tuple[_Loaded, str]:
                return app_ws.rescan_loaded(loaded, add_source, progress=progress, cancel=cancel)

            self._start("rescan", rescan_, self._after_rescan)
            return

        def detect(progress: ProgressFn, cancel: CancelFn) -> object:
            return app_ws.detect_changes(loaded, progress=progress, cancel=cancel)

        self._start("rescan", detect, self._after_detect)

    @Slot(object)
    def _after_rescan(self, out: tuple[_Loaded, str]) -> None:
        loaded, message = out
        self.notice.emit(message)
        self._on_loaded(loaded)

    @Slot(object)
    def _after_detect(self, plan: object) -> None:
        loaded = self._loaded
        if loaded is None:
            return
        if plan is None:
            self.embed()
            return
        from PySide6.QtWidgets import QWidget

        from aldesk.ui.opening.rescan_prompt import ask_to_add

        parent = self.parent()
        self.prompt = ask_to_add(
            parent if isinstance(parent, QWidget) else None, plan, lambda yes: self._answered(plan, yes)
        )

    def _answered(self, plan: object, yes: bool) -> None:
        self.prompt = None
        loaded = self._loaded
        if loaded is None:
            return
        if not yes:
            self.embed()
            return

        def add(progress: ProgressFn, cancel: CancelFn) -> tuple[_Loaded, str]:
            new, _ = app_ws.apply_changes(loaded, plan)
            return new, f"Rescan: {plan.summary()}."  # type: ignore[attr-defined]  # a rescan Plan

        self._start("rescan", add, self._after_rescan)

    def create(self, req: SetupRequest, classes: list[str], card_path: Path | None) -> None:
        """Called by the window once the user confirmed the set-up."""
        self.stage.emit("loading")

        def create_(progress: ProgressFn, cancel: CancelFn) -> _Loaded:
            return app_ws.create_project(req.project_path, req.dataset, classes, card_path)

        self._start("create", create_, self._on_loaded)

    def embed(self) -> None:
        """(Re)start embedding the loaded project; cached vectors make a rerun resume where it stopped."""
        loaded = self._loaded
        if loaded is None:
            return
        self.stage.emit("embedding")
        cache_dir = self.cache_dir

        def embed_(progress: ProgressFn, cancel: CancelFn) -> app_ws.OpenedWorkspace:
            # Still in the worker: storing hashes and restoring the session with the saved settings (a k-NN
            # rebuild when no stored state fits: seconds at 1M items) must not freeze the window.
            return app_ws.embed_workspace(loaded, cache_dir=cache_dir, progress=progress, cancel=cancel)

        self._start("embed", embed_, self._after_embed).cancelled.connect(self.embed_cancelled)

    def compute_density(self, ws: Workspace) -> TaskHandle:
        """k-NN graph (density, and the neighbours the "eer" measure needs) in the background; kept on disk per set
        of embeddings, so a reopen is instant. The window listens to the returned handle (the graph, or why not)."""
        vectors = ws.session.X
        eligible = ws.session.eligible.copy()
        key = ws.vectors_key
        root = self.graph_root()

        project = ws.project
        # read here, on the GUI thread that owns the project's connection: which graph the last open computed
        last_key = project.get_setting(app_ws.GRAPH_KEY_SETTING, None) if project is not None else None
        last_items = project.get_setting(app_ws.GRAPH_ITEMS_SETTING, None) if project is not None else None

        def density(progress: ProgressFn, cancel: CancelFn) -> object:
            from aldesk.core.query import eer_kernel

            # a project that grew by a rescan grows its last graph by the new rows instead of a rebuild
            graph = app_ws.density_graph(
                vectors,
                eligible,
                key,
                last_key=last_key,
                last_items=last_items,
                root=root,
                progress=progress,
                cancel=cancel,
            )
            eer_kernel.kernel(len(vectors))  # compile (or load) the eer loop here, not on the first key press
            # (for a pool big enough to use it: aldesk/core/query/eer_kernel.py)
            return graph

        return self.runner.start("density", density)

    # ------------------------------------------------------------------- results
    def _start(self, kind: str, fn: Callable[..., Any], done: Callable[[Any], None]) -> TaskHandle:
        """One step of the open: its progress is the opener's, its failure the opener's ``error``, its result goes
        to ``done`` (a slot of this object). Each step listens to its own task only."""
        handle = self.runner.start(kind, fn)
        handle.progress.connect(self.progress)
        handle.finished.connect(done)
        handle.failed.connect(self.error)
        return handle

    @Slot(object)
    def _on_loaded(self, loaded: _Loaded) -> None:
        self._loaded = loaded
        self.embed()

    @Slot(object)
    def _after_load(self, ds: Dataset) -> None:
        if len(ds) == 0:
            self.error.emit(TaskError(f"No items found in {ds.root}.", "", True))
            return
        known = sorted({lab for lab in (ds.known_labels or []) if lab})
        req = SetupRequest(
            Path(ds.root),
            ds,
            self._pending_project or default_project_path(Path(ds.root)),
            known,
            self._pending_card,
        )
        if self._pending_classes is not None:
            self.create(req, self._pending_classes, self._pending_card)
        else:
            self.need_setup.emit(req)

    @Slot(object)
    def _after_embed(self, out: app_ws.OpenedWorkspace) -> None:
        self._loaded = None  # the workspace owns (and closes) the project from here on
        self.ready.emit(
            Workspace(out.dataset, out.session, out.project, out.problems, out.title, out.vectors_key)
        )

    def graph_root(self) -> Path | None:
        """Where density graphs and k-NN states are stored (None: the default user cache)."""
        return app_ws.graph_root(self.cache_dir)

    def save_knn_state(self, ws: Workspace) -> None:
        """Store the session's neighbour slots so the next open skips the rebuild, or grows them after a rescan."""
        app_ws.save_knn_state(ws, self.graph_root())

    def discard(self) -> None:
        """Forget a loaded project that never became a workspace (user went back to the start page)."""
        self.runner.cancel("embed")
        if self._loaded is not None:
            self._loaded.project.close()
            self._loaded = None


def session_settings(project: Any) -> dict[str, Any]:
    """The project's saved strategy, k and audit interval (Settings dialog) as ``open_session`` keywords; values
    that cannot be read are dropped (:func:`aldesk.app.settings.read_settings`)."""
    return read_settings(project).session_kwargs()
