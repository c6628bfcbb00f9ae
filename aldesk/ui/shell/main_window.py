"""The main window: start page -> progress page -> labeling/browse tabs, the key actions, the status bar."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aldesk.ui.browse.browse import BrowseView
from aldesk.ui.exchange.actions import ExchangeActions
from aldesk.ui.grid.panel import GridPanel
from aldesk.ui.labeling.controller import Controller, Workspace
from aldesk.ui.labeling.hints import NEVER_SETTING as NEVER_HINTS
from aldesk.ui.labeling.hints import PROJECT_SETTING, HintsOverlay, should_show
from aldesk.ui.labeling.labeling_view import LabelingView
from aldesk.ui.labeling.why_panel import WhyPanel
from aldesk.ui.opening.new_project_dialog import NewProjectDialog
from aldesk.ui.opening.opening import Opener, SetupRequest
from aldesk.ui.opening.start_page import ProblemsPanel, ProgressPage, StartPage, add_recent
from aldesk.ui.quality.menu import QualityMenu
from aldesk.ui.settings.audit_setting import project_audit_every
from aldesk.ui.settings.settings_file import settings_file_line
from aldesk.ui.shell import keys
from aldesk.ui.shell.fit import ElidedLabel, fit_to_screen
from aldesk.ui.shell.tasks import TaskError, TaskRunner
from aldesk.ui.shell.thumbs import ThumbnailLoader

STATE_SETTING = "window/state"  # QMainWindow.saveState: the plots dock's size, side and visibility
GEOMETRY_SETTING = "window/geometry"  # QMainWindow.saveGeometry, clamped to the current screen on restore
DEFAULT_SIZE = (1280, 800)
PRELOAD_KIND = "preload-plots"
PRELOAD_DELAY_MS = 300


def _import_plots(progress: object = None, cancel: object = None) -> bool:
    """Task: import the Plots dock's modules (pyqtgraph and its SVG fix included) in the worker. Only module
    objects are made here; every widget is built on the GUI thread later."""
    import platformdirs  # noqa: F401 - the default project folder (opening the demo) needs it: not on the key path

    import aldesk.ui.plots.dock  # noqa: F401 - imported for its side effect: the modules are loaded

    return True


def _card_of(ws: Workspace) -> object:
    """The model card the project embeds with (the grid's search embeds typed text with it)."""
    from aldesk.app.workspace import card_for
    from aldesk.core.embed import default_card

    return card_for(ws.project, ws.dataset.kind) if ws.project is not None else default_card(ws.dataset.kind)


STAGE_TITLES = {"loading": "Reading the data…", "embedding": "Embedding items…", "density": "Density…"}


class SaveFailedBanner(QFrame):
    """Shown over the labeling tabs while an action could not be saved: the cause in one line, and Retry.

    It stays until a retry succeeds or the project is closed: a status-bar message that fades would let the
    user go on pressing keys that look like labels and are not saved.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("save_failed_banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#save_failed_banner { background: #fde2e1; border: 1px solid #c62828; }"
            "#save_failed_banner QLabel { color: #7f0000; }"
        )
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the window's shortcuts
        self.close_button = QPushButton("Close project")
        self.close_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.retry_button)
        lay.addWidget(self.close_button)
        self.hide()

    def show_failure(self, cause: str) -> None:
        self.label.setText(f"Not saved: {cause} Labeling is paused: fix the cause, then Retry.")
        self.setToolTip(cause)
        self.show()


class MainWindow(QMainWindow):
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

        # Elided: the counts of 30 classes on one line must not set the window's width (issue 13.6).
        self.status_counts = ElidedLabel()
        self.status_speed = QLabel()
        self.status_state = ElidedLabel()
        self.statusBar().addPermanentWidget(self.status_counts, 3)
        self.statusBar().addPermanentWidget(self.status_speed)
        self.statusBar().addPermanentWidget(self.status_state, 1)

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
        QTimer.singleShot(PRELOAD_DELAY_MS, self._preload_plots)

        self.key_bindings = keys.bindings(self.settings)
        self.key_actions: dict[str, QAction] = {}
        self.quality = QualityMenu(self)  # Review › Review suspicious labels, File › Compare with…
        self._make_actions()
        self._make_menus()
        self.show_start()

    # ------------------------------------------------------------------ geometry
    def _restore_geometry(self) -> None:
        """The last run's size and place, or the default size, clamped to the screen the window is on now (a
        geometry saved on a bigger monitor must not come back wider than this one)."""
        saved = self.settings.value(GEOMETRY_SETTING)
        if not (saved and self.restoreGeometry(saved)):
            avail = self.screen().availableGeometry() if self.screen() is not None else None
            w, h = DEFAULT_SIZE
            if avail is not None:
                w, h = min(w, avail.width() - 16), min(h, avail.height() - 48)  # room for a frame and title
            self.resize(max(640, w), max(400, h))
        fit_to_screen(self)

    def fit_later(self, *_: object) -> None:
        """After something that may widen the window (a dock shown, its state restored): clamp, next turn."""
        QTimer.singleShot(0, lambda: fit_to_screen(self))

    def showEvent(self, ev: QShowEvent) -> None:
        super().showEvent(ev)
        self.fit_later()

    def resizeEvent(self, ev: QResizeEvent) -> None:
        # Qt grows a window to its layout's new minimum (a dock shown, a class added): that growth must not push
        # it past the screen. A size the user or the window system chose is theirs.
        super().resizeEvent(ev)
        new, old = ev.size(), ev.oldSize()
        forced_w = new.width() > old.width() and new.width() <= self.minimumWidth()
        forced_h = new.height() > old.height() and new.height() <= self.minimumHeight()
        if old.isValid() and (forced_w or forced_h):
            self.fit_later()

    # ------------------------------------------------------------------ actions
    def _make_actions(self) -> None:
        handlers = {
            "accept": lambda: self.ctl and self.ctl.accept(),
            "skip": lambda: self.ctl and self.ctl.skip(),
            "undo": lambda: self.ctl and self.ctl.undo(),
            "redo": lambda: self.ctl and self.ctl.redo(),
            "pick_class": self.ask_pick_class,
            "next": lambda: self.ctl and self.ctl.move(1),
            "prev": lambda: self.ctl and self.ctl.move(-1),
            "new_class": self.ask_new_class,
            "grid": self.show_grid,
            "more_like_this": self.more_like_this,
            "help": self.show_help,
            "find": self._find_item,
            "quit": self.close,
        }
        for n in range(1, keys.N_CLASS_KEYS + 1):
            # partial, not a lambda default: triggered(bool) would overwrite the default argument.
            handlers[f"class_{n}"] = partial(self._class_key, n)
        for a in keys.ACTIONS:
            act = QAction(a.label, self)
            act.setShortcuts(self.key_bindings[a.name])
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(handlers[a.name])
            self.addAction(act)
            self.key_actions[a.name] = act
        # Menu actions with the platform's standard keys (QKeySequence.StandardKey), the old ones kept after them.
        self.open_action = QAction("Open project…", self)
        self.open_action.setShortcuts(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.ask_open_project)
        self.settings_action = QAction("Labeling settings (strategy, k, audit)…", self)
        self.settings_action.setShortcuts(
            keys.standard_keys(QKeySequence.StandardKey.Preferences, ("Ctrl+,",))
        )
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.settings_action.triggered.connect(self.ask_settings)
        self._update_action_state()

    @Slot()
    def _find_item(self) -> None:
        """Find (Ctrl+F): the Browse and fix tab, its search field focused."""
        browse = getattr(self, "browse", None)  # made with the first workspace
        if self.ctl is None or browse is None:
            return
        self.tabs.setCurrentWidget(browse)
        browse.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        browse.search.selectAll()

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        for text, slot in (
            ("Open image folder…", self.ask_open_images),
            ("Open CSV of texts…", self.ask_open_texts),
            ("Compare with…", self.quality.ask_compare),
            ("Start page", self._to_start),
        ):
            file.addAction(text).triggered.connect(slot)
        file.insertAction(file.actions()[-1], self.open_action)
        file.addSeparator()
        self.rescan_action = file.addAction("Rescan the data (new and missing files)")
        self.rescan_action.triggered.connect(self.rescan_project)
        file.addAction("Add a source (a second folder or CSV)…").triggered.connect(self.ask_add_source)
        self.opener.notice.connect(lambda text: self.statusBar().showMessage(text, 15000))
        self.exchange = ExchangeActions(self)  # File › Export… and Import labels… (their dialogs and tasks)
        file.addAction("Export…").triggered.connect(self.exchange.ask_export)
        file.addAction("Import labels…").triggered.connect(self.exchange.ask_import)
        file.addSeparator()
        file.addAction(self.key_actions["quit"])
        classes = bar.addMenu("&Classes")
        classes.addAction(self.key_actions["new_class"])
        self.rename_action = classes.addAction("Rename class…")
        self.rename_action.triggered.connect(self.ask_rename_class)
        self.merge_action = classes.addAction("Merge class into another…")
        self.merge_action.triggered.connect(lambda: self.ask_class_op("merge"))
        self.delete_action = classes.addAction("Delete class…")
        self.delete_action.triggered.connect(lambda: self.ask_class_op("delete"))
        classes.addSeparator()
        classes.addAction(self.key_actions["pick_class"])
        from aldesk.ui.labeling.zero_shot import ZeroShotAction

        self.zero_shot = ZeroShotAction(self)
        classes.addAction("Describe the classes (zero-shot)…").triggered.connect(self.zero_shot.ask)
        edit = bar.addMenu("&Edit")
        edit.addAction(self.key_actions["undo"])
        edit.addAction(self.key_actions["redo"])
        review = bar.addMenu("&Review")
        self.review_action = review.addAction("Review suspicious labels")
        self.review_action.setShortcut("Ctrl+R")
        self.review_action.triggered.connect(self.quality.review_labels)
        settings = bar.addMenu("&Settings")
        settings.addAction(self.settings_action)
        from aldesk.ui.settings.reembed import ReembedAction

        self.reembed = ReembedAction(self)
        settings.addAction("Re-embed with another model…").triggered.connect(self.reembed.ask)
        helpm = bar.addMenu("&Help")
        helpm.addAction(self.key_actions["help"])
        helpm.addAction("Show the first-run hints").triggered.connect(self.show_hints)

    @Slot()
    def _to_start(self) -> None:
        self.close_workspace()
        self.show_start()

    @Slot()
    def ask_rename_class(self) -> None:
        if self.ctl is None or not self.ctl.session.classes:
            return
        classes = list(self.ctl.session.classes)
        old, ok = QInputDialog.getItem(self, "Rename class", "Class:", classes, 0, False)
        if not ok:
            return
        new, ok = QInputDialog.getText(self, "Rename class", f"New name for {old}:", text=old)
        if ok and new.strip() and new.strip() != old:
            self.ctl.rename_class(old, new)

    @Slot()
    def ask_pick_class(self) -> None:
        """The type-ahead class picker (``/`` or ``C``): Enter labels the item on screen with the chosen class."""
        from aldesk.ui.labeling.picker import ClassPicker

        if self.ctl is None or not self.ctl.session.classes:
            return
        ctl = self.ctl
        names = [self.label_view.class_key_text(n) for n in range(1, len(ctl.session.classes) + 1)]
        dlg = ClassPicker(list(ctl.session.classes), names, self)
        self._dialogs.append(dlg)
        dlg.chosen.connect(lambda name: ctl is self.ctl and ctl.label_current(name))

        def done(_result: int) -> None:
            self._dialogs.remove(dlg)
            dlg.deleteLater()
            # The keys go on at once: without a window manager nobody hands the focus back to this window.
            self.activateWindow()

        dlg.finished.connect(done)
        dlg.open()

    def ask_class_op(self, kind: str) -> None:
        """Merge or delete a class, after a dialog that says what happens to its labels (issue 13.3)."""
        from aldesk.ui.labeling.class_dialog import ClassOpDialog

        if (
            self.ctl is None
            or not self.ctl.session.classes
            or (kind == "merge" and len(self.ctl.session.classes) < 2)
        ):
            self.statusBar().showMessage(
                "A merge needs two classes." if self.ctl else "Open a project first.", 5000
            )
            return
        ctl = self.ctl
        dlg = ClassOpDialog(ctl.session, kind, self)
        self._dialogs.append(dlg)

        def done(result: int) -> None:
            self._dialogs.remove(dlg)
            dlg.deleteLater()
            self.activateWindow()
            if result != ClassOpDialog.DialogCode.Accepted or ctl is not self.ctl:
                return
            cls, into = dlg.choice()
            if kind == "merge" and into is not None:
                ctl.merge_class(cls, into)
            elif kind == "delete":
                ctl.delete_class(cls)

        dlg.finished.connect(done)
        dlg.open()

    def _class_key(self, n: int, *_: object) -> None:
        if self.ctl is not None:
            self.ctl.label_number(n)

    def _update_action_state(self) -> None:
        labeling = (
            self.ctl is not None and self.stack.currentWidget() is self.work and self.tabs.currentIndex() == 0
        )
        for name, act in self.key_actions.items():
            # Undo/redo work in browse too (relabels there are undoable); quit and help work everywhere.
            act.setEnabled(
                name in ("quit", "help")
                or labeling
                or (name in ("undo", "redo", "find") and self.ctl is not None)
            )

    # -------------------------------------------------------------------- pages
    @Slot()
    def show_start(self) -> None:
        self.opener.discard()
        self.start_page.refresh()
        self.stack.setCurrentWidget(self.start_page)
        self.setWindowTitle("aldesk")
        self._update_action_state()

    @Slot(str)
    def _on_stage(self, stage: str) -> None:
        total = None
        if stage == "embedding" and self.opener._loaded is not None:
            total = len(self.opener._loaded.dataset)
        self.progress_page.running(STAGE_TITLES.get(stage, stage), total)
        self.stack.setCurrentWidget(self.progress_page)
        self._update_action_state()

    @Slot(float, str, float)
    def _on_open_progress(self, fraction: float, message: str, elapsed: float) -> None:
        self.progress_page.set_progress(fraction, message, elapsed)

    @Slot()
    def _cancel_open(self) -> None:
        embedding = self.runner.is_running("embed")
        for kind in ("load", "open", "create", "embed"):
            self.runner.cancel(kind)
        if embedding:
            # Resume is offered once the worker has really stopped (embed_cancelled): its batch in flight is
            # cached by then, so a resume starts from every vector computed, and never runs beside the old one.
            self.progress_page.stopped("Cancelling…", can_resume=False)
        else:
            self.progress_page.stopped("Cancelled", can_resume=self.opener._loaded is not None)

    @Slot()
    def _on_embed_cancelled(self) -> None:
        self.progress_page.stopped(
            "Embedding cancelled — the vectors computed so far are cached; Resume continues from there.",
            can_resume=True,
        )

    # ----------------------------------------------------------------- opening
    def open_path(
        self,
        path: str | Path,
        project_file: Path | None = None,
        classes: list[str] | None = None,
        **source: Any,
    ) -> None:
        """``source``: ``text_column``, ``label_column``, ``model_card`` for a new project (Opener.open_path)."""
        self.close_workspace()
        self.opener.open_path(Path(path), project_file, classes, **source)

    @Slot(str)
    def open_demo(self, which: str = "images") -> None:
        from aldesk.app.paths import demo_paths  # the app layer, not the CLI: no cycle back into the window

        data, project, classes = demo_paths(which)
        self.open_path(data, project, classes)

    @Slot()
    def ask_open_images(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open image folder")
        if path:
            self.open_path(path)

    @Slot()
    def ask_open_texts(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open CSV of texts", "", "Texts (*.csv *.tsv *.txt);;All files (*)"
        )
        if path:
            self.open_path(path)

    @Slot()
    def ask_open_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", "aldesk project (*.aldesk)")
        if path:
            self.open_path(path)

    @Slot()
    def rescan_project(self) -> None:
        """File › Rescan: reopen the project with its item list brought up to date (new files join, gone ones are
        marked missing); the status bar says what changed."""
        self.add_source(None)

    def add_source(self, add_source: Path | None) -> None:
        """Reopen the project with ``add_source`` added to its sources (None: rescanned)."""
        if self.ws is None or self.ws.project is None:
            self.statusBar().showMessage("Open a project to rescan its data.", 5000)
            return
        path = Path(self.ws.project.path)
        self.close_workspace()
        self.opener.open_project(path, rescan=add_source is None, add_source=add_source)

    @Slot()
    def ask_add_source(self) -> None:
        """File › Add a source: a second folder (image projects) or CSV (text projects) joins the project."""
        if self.ws is None or self.ws.project is None:
            self.statusBar().showMessage("Open a project to add a source to it.", 5000)
            return
        if self.ws.project.kind == "image":
            path = QFileDialog.getExistingDirectory(self, "Add a folder of images")
        else:
            path, _ = QFileDialog.getOpenFileName(
                self, "Add a CSV of texts", "", "Texts (*.csv *.tsv *.txt);;All files (*)"
            )
        if path:
            self.add_source(Path(path))

    @Slot(object)
    def _on_need_setup(self, req: SetupRequest) -> None:
        dlg = NewProjectDialog(req, self)
        if req.card is not None:  # `aldesk open --model-card`: start with it chosen
            dlg.custom.setChecked(True)
            dlg.card.setText(str(req.card))
        self._dialogs.append(dlg)

        def done(result: int) -> None:
            self._dialogs.remove(dlg)
            if result != NewProjectDialog.DialogCode.Accepted:
                self.show_start()
                return
            req.project_path = dlg.chosen_project()
            self.opener.create(req, dlg.chosen_classes(), dlg.chosen_card())

        dlg.finished.connect(done)
        dlg.open()

    @Slot(object)
    def _on_open_error(self, err: TaskError) -> None:
        self.show_start()
        self.show_error(err)

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
            QTimer.singleShot(0, self._attach_plots)

    # -------------------------------------------------------------------- the Plots dock
    @Slot()
    def _preload_plots(self) -> None:
        if not self._plots_imported and not self.runner.is_running(PRELOAD_KIND):
            task = self.runner.start(PRELOAD_KIND, _import_plots)
            task.finished.connect(self._on_plots_imported)
            task.failed.connect(
                self._on_plots_imported
            )  # tried again on this thread, where its error is shown

    @Slot()
    def _attach_plots(self) -> None:
        if self._plots_wanted and self.ctl is not None:
            if self.plots is None:
                # Built hidden in this turn, shown (its first layout and paint) in the next: two short stalls
                # instead of one long one (benchmarks/gui_stall.py, phase "open").
                from aldesk.ui.plots.dock import attach

                self._plots_imported = True
                self.plots = attach(self, self._open_from_browse, staged=True)
                self._plots_state_pending = True
                QTimer.singleShot(0, self._attach_plots)
                return
            self.ensure_plots(staged=True)

    def ensure_plots(self, *, staged: bool = False):  # -> PlotsDock (not imported here: it needs pyqtgraph)
        """The Plots dock, attached to the open project; built now if it is not yet (importing its modules on
        this thread if the worker has not finished: tests and scripts that want the dock at once). ``staged``:
        its Simulate and Map tabs come in later turns of the event loop."""
        first = self.plots is None
        if first:
            from aldesk.ui.plots.dock import attach

            self._plots_imported = True
            self.plots = attach(self, self._open_from_browse, staged=staged)
        if self.ctl is not None and self.plots.accuracy.ctl is not self.ctl:
            self.plots.set_controller(self.ctl)  # shows the dock with the first project ...
        restore, self._plots_state_pending = first or self._plots_state_pending, False
        if restore and (state := self.settings.value(STATE_SETTING)):
            # ... unless the user's own dock size and visibility from the last run say otherwise.
            self.restoreState(state)

        self._plots_wanted = False
        return self.plots

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

    # ------------------------------------------------------ failed commits
    @Slot(str)
    def _on_commit_failed(self, cause: str) -> None:
        """An action was not saved: say so at once and pause the views (every key is refused until Retry)."""
        self.save_failed.show_failure(cause)
        self.tabs.setEnabled(False)
        self.statusBar().showMessage(f"Not saved: {cause}", 8000)

    @Slot()
    def _on_commit_restored(self) -> None:
        self._clear_save_failed()
        self.statusBar().showMessage("Saved: labeling goes on.", 5000)

    def _clear_save_failed(self) -> None:
        self.save_failed.hide()
        self.tabs.setEnabled(True)

    @Slot()
    def retry_save(self) -> None:
        """The banner's Retry: the very action that failed, once more (the banner stays if it fails again)."""
        if self.ctl is not None:
            self.ctl.retry()

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

    # ----------------------------------------------------------------- results
    @Slot(object)
    def _on_plots_imported(self, _result: object) -> None:
        self._plots_imported = True
        self._attach_plots()

    @Slot(float, str, float)
    def _on_density_progress(self, fraction: float, message: str, elapsed: float) -> None:
        self.status_state.setText(f"density: computing {fraction:.0%}")

    @Slot(object)
    def _on_density_ready(self, graph: object) -> None:
        if self.ctl is not None:
            self.ctl.set_density(graph)
            self._update_status()
            ws = self.ws
            if ws is not None and ws.project is not None and not getattr(ws.project, "readonly", False):
                from aldesk.app.workspace import GRAPH_ITEMS_SETTING, GRAPH_KEY_SETTING

                if ws.project.get_setting(GRAPH_KEY_SETTING, None) != ws.vectors_key:
                    # which embeddings the stored graph is of: after a rescan the next open grows it
                    self.ctl.set_setting(GRAPH_KEY_SETTING, ws.vectors_key)
                    self.ctl.set_setting(GRAPH_ITEMS_SETTING, len(ws.session.eligible))
            from aldesk.ui.labeling.novelty_offer import offer_new_class

            self.novelty_box = offer_new_class(
                self, graph
            )  # new items that look like a new class, after a rescan

    @Slot(object)
    def _on_density_failed(self, err: TaskError) -> None:
        self.status_state.setText("density: global (k-NN density failed)")
        self.statusBar().showMessage(f"Density: {err.message}", 8000)

    @Slot()
    def _update_status(self) -> None:
        ctl = self.ctl
        if ctl is None:
            return
        s = ctl.session
        counts = s.counts()
        self.status_counts.setText(
            f"{s.n_labeled:,} labeled: " + ", ".join(f"{c} {n}" for c, n in counts.items())
        )
        spl = ctl.seconds_per_label()
        self.status_speed.setText(f"{spl:.1f} s/label" if spl is not None else "— s/label")
        dens = s.density_kind if not self.runner.is_running("density") else "global (k-NN computing…)"
        self.status_state.setText(f"strategy {s.strategy.name} · density {dens}")

    # ----------------------------------------------------------------- dialogs
    @Slot()
    def ask_new_class(self) -> None:
        if self.ctl is None:
            return
        dlg = QInputDialog(self)
        dlg.setWindowTitle("New class")
        dlg.setLabelText("Name of the new class:")
        dlg.setObjectName("new_class_dialog")
        self._dialogs.append(dlg)
        ctl = self.ctl

        def done(result: int) -> None:
            self._dialogs.remove(dlg)
            if result == QInputDialog.DialogCode.Accepted and dlg.textValue().strip():
                ctl.add_class(dlg.textValue())
            dlg.deleteLater()

        dlg.finished.connect(done)
        dlg.open()

    @Slot()
    def ask_settings(self) -> None:
        """The project's labeling settings; applied on OK (a new k rebuilds the session from the project)."""
        from aldesk.app.settings import AUDIT_SETTING, K_SETTING, VERSION, VERSION_KEY
        from aldesk.ui.settings.settings_dialog import LabelingSettings, SettingsDialog

        if self.ctl is None or self.ws is None:
            self.statusBar().showMessage("Open a project first: the settings belong to a project.", 5000)
            return
        s = self.ctl.session
        current = LabelingSettings(s.strategy.name, s.k, s.audit_every)
        dlg = SettingsDialog(current, can_change_k=self.ws.project is not None, parent=self)
        self._dialogs.append(dlg)
        ctl = self.ctl

        def done(result: int) -> None:
            self._dialogs.remove(dlg)
            dlg.deleteLater()
            if result != SettingsDialog.DialogCode.Accepted or ctl is not self.ctl:
                return
            new = dlg.value()
            if new.strategy != s.strategy.name:
                ctl.set_strategy(new.strategy)
            if new.audit_every != s.audit_every:
                if self.plots is not None:
                    self.plots.accuracy.audit_spin.setValue(new.audit_every)  # saves it and updates the panel
                else:
                    s.audit_every = new.audit_every
                    ctl.set_setting(AUDIT_SETTING, new.audit_every)
            if new.k != s.k:
                ctl.set_setting(K_SETTING, new.k)
                self.rebuild_session(new.k)
            if new != current:
                ctl.set_setting(
                    VERSION_KEY, VERSION
                )  # the rows above are stored as aldesk.app.settings reads them

        dlg.finished.connect(done)
        dlg.open()

    def rebuild_session(self, k: int) -> None:
        """A new Session with k neighbours, restored from the project file (the k-NN's k is fixed per Session)."""
        import dataclasses

        ws, ctl = self.ws, self.ctl
        if ws is None or ctl is None or ws.project is None:
            return
        old = ws.session
        ctl.flush()
        ctl.save_view()
        knn_density = old.density_kind == "knn"
        try:
            new = ws.project.open_session(
                old.X,
                eligible=old.eligible,
                k=k,
                strategy=old.strategy,
                density=old.density if knn_density else None,
                audit_every=old.audit_every,
            )
        except Exception as exc:  # noqa: BLE001 - shown to the user; the old session stays usable
            self.show_error(TaskError(f"Could not apply k = {k}: {exc}", "", True, exc))
            return
        self.close_workspace(keep_project=True)
        self.set_workspace(dataclasses.replace(ws, session=new), density=not knn_density)
        self.statusBar().showMessage(f"k = {k}: the k-NN now asks {k} labeled neighbours.", 5000)

    @Slot()
    def show_help(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(keys.help_text(self.key_bindings) + settings_file_line(self.settings))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def show_error(self, err: TaskError) -> None:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning if err.user_error else QMessageBox.Icon.Critical)
        box.setWindowTitle("aldesk")
        box.setText(err.message if err.user_error else f"Something went wrong: {err.message}")
        if not err.user_error and err.details:
            box.setDetailedText(err.details)
            copy = box.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
            copy.clicked.disconnect()
            copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(err.details))
        box.addButton(QMessageBox.StandardButton.Ok)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # -------------------------------------------------------------------- close
    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue(GEOMETRY_SETTING, self.saveGeometry())
        if self.plots is not None:
            self.settings.setValue(STATE_SETTING, self.saveState())
        self.close_workspace()
        self.runner.shutdown()
        self.thumbs.shutdown()
        super().closeEvent(event)
