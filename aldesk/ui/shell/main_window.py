"""The main window: start page -> progress page -> labeling/browse tabs; its features in the mixins it is made of."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QMainWindow, QSplitter, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from aldesk.ui.browse.browse import BrowseView
from aldesk.ui.grid.panel import GridPanel
from aldesk.ui.labeling.controller import Controller, Workspace
from aldesk.ui.labeling.hints import NEVER_SETTING as NEVER_HINTS
from aldesk.ui.labeling.hints import PROJECT_SETTING, HintsOverlay, should_show
from aldesk.ui.labeling.labeling_view import LabelingView
from aldesk.ui.labeling.why_panel import WhyPanel
from aldesk.ui.opening.opening import Opener
from aldesk.ui.opening.start_page import ProblemsPanel, ProgressPage, StartPage, add_recent
from aldesk.ui.quality.menu import QualityMenu
from aldesk.ui.settings.audit_setting import project_audit_every
from aldesk.ui.shell import keys
from aldesk.ui.shell.class_dialogs import ClassDialogs
from aldesk.ui.shell.dialogs import WindowDialogs
from aldesk.ui.shell.menus import WindowMenus
from aldesk.ui.shell.open_flow import OpenFlow
from aldesk.ui.shell.plots_host import PRELOAD_DELAY_MS, STATE_SETTING, PlotsHost
from aldesk.ui.shell.save_failed import SaveFailedBanner, SaveFailedHandling
from aldesk.ui.shell.staging import next_step
from aldesk.ui.shell.status_line import StatusLine
from aldesk.ui.shell.tasks import TaskRunner
from aldesk.ui.shell.thumbs import ThumbnailLoader
from aldesk.ui.shell.window_geometry import GEOMETRY_SETTING, WindowGeometry


def _card_of(ws: Workspace) -> object:
    """The model card the project embeds with (the grid's search embeds typed text with it)."""
    from aldesk.app.workspace import card_for
    from aldesk.core.embed import default_card

    return card_for(ws.project, ws.dataset.kind) if ws.project is not None else default_card(ws.dataset.kind)


class MainWindow(
    WindowGeometry,
    WindowMenus,
    ClassDialogs,
    OpenFlow,
    PlotsHost,
    StatusLine,
    SaveFailedHandling,
    WindowDialogs,
    QMainWindow,
):
    """The window: its pages and tabs, the workspace open in it, and closing. The rest is one mixin per feature:
    geometry (:mod:`.window_geometry`), key actions and menus (:mod:`.menus`), class dialogs (:mod:`.class_dialogs`),
    opening (:mod:`.open_flow`), the Plots dock (:mod:`.plots_host`), the status line and density
    (:mod:`.status_line`), failed saves (:mod:`.save_failed`), settings, help and errors (:mod:`.dialogs`)."""

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("aldesk")
        self.settings = settings or QSettings()
        self._restore_geometry()
        self.runner = TaskRunner(self)
        self.thumbs = ThumbnailLoader(self)
        self.opener = Opener(self.runner, self)
        self.ws: Workspace | None = None
        self.ctl: Controller | None = None
        self._dialogs: list[QWidget] = []  # keep non-modal dialogs alive
        self.hints: HintsOverlay | None = None  # the first-run overlay while it is shown
        # The Plots dock is made with the first project, from modules (pyqtgraph: 0.3-1.5 s to import) that a
        # worker imports while the start page shows: an import on the GUI thread froze the window for that long.
        self.plots = None
        self._plots_imported = False
        self._plots_wanted = False  # a project is open and waits for the dock
        self._plots_state_pending = (
            False  # the dock is built, the user's saved size/visibility not applied yet
        )

        self.stack = QStackedWidget()
        self.start_page = StartPage()
        self.progress_page = ProgressPage()
        self.work = QWidget()
        self.work_layout = QVBoxLayout(self.work)
        self.work_layout.setContentsMargins(0, 0, 0, 0)
        self.save_failed = SaveFailedBanner()
        self.save_failed.retry_button.clicked.connect(self.retry_save)
        self.save_failed.close_button.clicked.connect(self._to_start)
        self.work_layout.addWidget(self.save_failed)
        self.problems = ProblemsPanel()
        self.work_layout.addWidget(self.problems)
        self.tabs = QTabWidget()
        self.tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.work_layout.addWidget(self.tabs, 1)
        for w in (self.start_page, self.progress_page, self.work):
            self.stack.addWidget(w)
        self.setCentralWidget(self.stack)

        self._make_status_line()

        self.start_page.open_images.connect(self.ask_open_images)
        self.start_page.open_texts.connect(self.ask_open_texts)
        self.start_page.open_project.connect(self.ask_open_project)
        self.start_page.open_recent.connect(self.open_path)
        self.start_page.demo.connect(self.open_demo)
        self.progress_page.cancel.connect(self._cancel_open)
        self.progress_page.resume.connect(self.opener.embed)
        self.progress_page.back.connect(self.show_start)
        self.opener.stage.connect(self._on_stage)
        self.opener.need_setup.connect(self._on_need_setup)
        self.opener.ready.connect(self.set_workspace)
        self.opener.error.connect(self._on_open_error)
        self.opener.embed_cancelled.connect(self._on_embed_cancelled)
        self.opener.progress.connect(self._on_open_progress)
        # After the first paint: the start page must not share its first second with the import.
        QTimer.singleShot(
            PRELOAD_DELAY_MS, self, self._preload_plots
        )  # dropped if the window is deleted first

        self.key_bindings = keys.bindings(self.settings)
        self.key_actions: dict[str, QAction] = {}
        self.quality = QualityMenu(self)  # Review › Review suspicious labels, File › Compare with…
        self._make_actions()
        self._make_menus()
        self.show_start()

    @Slot()
    def _to_start(self) -> None:
        self.close_workspace()
        self.show_start()

    @Slot(object)
    def set_workspace(self, ws: Workspace, density: bool = True) -> None:
        self.close_workspace()
        self.ws = ws
        self.ctl = ctl = Controller(ws, self)
        # The project's audit interval before the first ranking (the dock may come a moment later).
        ctl.session.audit_every = project_audit_every(ctl, self.settings)
        if self.plots is not None:
            self.plots.set_controller(ctl)  # a dock that exists follows the new project at once
        self.label_view = LabelingView(ctl, self.thumbs)
        self.label_view.set_key_names(self.key_bindings)
        self.label_view.class_clicked.connect(lambda n: ctl.label_number(n))
        self.label_view.new_class_clicked.connect(self.ask_new_class)
        self.why = WhyPanel(ctl, self.thumbs)
        split = QSplitter()
        split.addWidget(self.label_view)
        split.addWidget(self.why)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        self.browse = BrowseView(ctl, self.thumbs)
        self.browse.open_item.connect(self._open_from_browse)
        self.tabs.addTab(split, "Label")
        self.tabs.addTab(self.browse, "Browse and fix")
        self.grid = GridPanel(ctl, self.thumbs, self.runner, partial(_card_of, ws))
        self.grid.open_item.connect(self._open_from_browse)
        self.grid.back.connect(lambda: self.tabs.setCurrentIndex(0))
        self.tabs.addTab(self.grid, "Grid")
        self.tabs.currentChanged.connect(self._update_action_state)
        self.problems.set_problems(ws.problems)
        ctl.labels_changed.connect(self._update_status)
        ctl.message.connect(lambda m: self.statusBar().showMessage(m, 5000))
        ctl.commit_failed.connect(self._on_commit_failed)
        ctl.commit_restored.connect(self._on_commit_restored)
        self.stack.setCurrentWidget(self.work)
        self.setWindowTitle(f"aldesk — {ws.title}")
        ctl.start()
        self.zero_shot.attach(ctl, self.label_view)  # the saved class descriptions, if any, in a worker
        self._update_status()
        self._update_action_state()
        if ws.project is not None:
            add_recent(Path(ws.project.path), self.settings)
            if getattr(ws.project, "backup_problem", None):  # never blocks the open, but the user should know
                self.statusBar().showMessage(
                    f"{ws.project.backup_problem}; your labels are still saved.", 15000
                )
        if density:
            task = self.opener.compute_density(ws)
            task.progress.connect(self._on_density_progress)
            task.finished.connect(self._on_density_ready)
            task.failed.connect(self._on_density_failed)
        self._update_status()
        if should_show(self.settings, ws.project):
            self.show_hints()
        # The dock in a later turn of the event loop (its plots take 50-200 ms to build), once its modules are in.
        self._plots_wanted = True
        if self._plots_imported:
            next_step(self, self._attach_plots)

    def show_hints(self) -> None:
        """The first-run overlay over the labeling view (keys, what S(x) means); also Help > Show hints."""
        if self.ctl is None:
            return
        names = {k: keys.display(v) for k, v in self.key_bindings.items()}
        self.tabs.setCurrentIndex(0)
        overlay = self.hints = HintsOverlay(self.label_view, names)
        ws = self.ws

        def done(never_again: bool) -> None:
            self.hints = None
            if never_again:
                self.settings.setValue(NEVER_HINTS, True)
            if ws is not None and ws.project is not None and ws is self.ws:
                ws.project.set_setting(PROJECT_SETTING, True)

        overlay.dismissed.connect(done)
        # Labeling by any route (a click on a class button, the map) also means the user is past the hints; but
        # labels_changed also fires for the density arriving or a class added, which must not close them.
        session = self.ctl.session
        actions = len(session.history)
        self.ctl.labels_changed.connect(lambda: len(session.history) != actions and overlay.dismiss())
        overlay.show()

    def close_workspace(self, keep_project: bool = False) -> None:
        self._clear_save_failed()
        if self.ws is None:
            return
        self.runner.cancel("density")
        if self.hints is not None:
            self.hints.dismiss()
        if self.plots is not None:
            self.plots.set_controller(None)
        if self.ctl is not None:
            self.ctl.flush()
            self.ctl.save_view()
        while self.tabs.count():
            w = self.tabs.widget(0)
            self.tabs.removeTab(0)
            w.deleteLater()
        if self.ws.project is not None and not keep_project:
            try:
                self.opener.save_knn_state(self.ws)
            except OSError as exc:  # a cache for a faster next open: a full disk must not stop the close
                self.statusBar().showMessage(f"The k-NN state was not cached: {exc}", 5000)
            self.ws.project.close()
        self.ws = None
        if self.ctl is not None:
            self.ctl.deleteLater()
        self.ctl = None
        self._update_action_state()

    @Slot()
    def show_grid(self) -> None:
        """G: the grid tab with the current candidates, to label a page at a time."""
        if self.ctl is not None:
            self.tabs.setCurrentWidget(self.grid)
            self.grid.show_candidates()

    @Slot()
    def more_like_this(self) -> None:
        """M: the grid tab with the current item's nearest unlabeled items."""
        if self.ctl is not None and self.ctl.current is not None:
            self.tabs.setCurrentWidget(self.grid)
            self.grid.show_similar(self.ctl.current)

    @Slot(int)
    def _open_from_browse(self, index: int) -> None:
        if self.ctl is not None:
            self.tabs.setCurrentIndex(0)
            self.ctl.jump(index)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue(GEOMETRY_SETTING, self.saveGeometry())
        if self.plots is not None:
            self.settings.setValue(STATE_SETTING, self.saveState())
        self.close_workspace()
        self.runner.shutdown()
        self.thumbs.shutdown()
        super().closeEvent(event)
