"""The map tab: PCA at once, UMAP from the task runner when ready; colour toggle; label a selected cluster.

Selecting (Shift+drag lasso, Ctrl+drag rectangle, or the Lasso button) and then pressing a class number shows a
preview: the true counts (how many the k-NN predicts as that class, how many as which other class) and every
target in a grid, least likely first, where a click or Space drops an item. Enter or Apply labels the items still
selected in one ``label_many`` action, so one Ctrl+Z reverts the whole batch. Items that already have a label are
left as they are.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from aldesk.core.labeling import views
from aldesk.core.maps.projection import pca_2d
from aldesk.core.progress import CancelFn, ProgressFn
from aldesk.ui.grid.view import GridView
from aldesk.ui.labeling.controller import Controller
from aldesk.ui.plots.lasso_preview import preview_order, preview_text
from aldesk.ui.plots.map_view import MapPlot, MapStyler, pick_trail, pixmap_data_uri, tooltip_html
from aldesk.ui.shell.tasks import TaskError, TaskHandle, TaskRunner
from aldesk.ui.shell.thumbs import ThumbnailLoader

KIND = "umap"
PCA_KIND = (
    "map-pca"  # the first layout: seconds at 100k items or for wide vectors, so never on the GUI thread
)
REFRESH_MS = 120  # a burst of labels costs one restyle of the map
TIP_PX = 112  # tooltip thumbnail size
TIP_CACHE = 256  # encoded tooltip thumbnails kept (a few hundred short strings)
OVERLAY_MS = 100  # the candidate / current / trail markers follow the keys once the user pauses
PREVIEW_PX = 80  # thumbnails of the lasso preview's grid
PREVIEW_ROWS = 2  # rows of the preview grid shown at once (it scrolls)


class MapPanel(QWidget):
    open_item = Signal(int)  # the user clicked an item: show it in the labeling view

    def __init__(
        self, runner: TaskRunner, thumbs: ThumbnailLoader | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        # Tooltip thumbnails come from the window's loader (decoded off the GUI thread, cached), never from the
        # full file per hover; a panel made on its own (tests, screenshots) gets a loader of its own.
        self.thumbs = thumbs if thumbs is not None else ThumbnailLoader(self)
        self.thumbs.ready.connect(self._on_thumb)
        self._tip_uris: dict[str, str] = {}
        self.ctl: Controller | None = None
        self.styler = MapStyler()
        self.projection = "none"  # "pca" or "umap" once computed
        self.auto_umap = True  # start UMAP when the map is first shown (tests and benchmarks turn it off)
        self._pending: tuple[np.ndarray, str] | None = None  # (targets, class) waiting for confirmation
        self._pca: TaskHandle | None = None  # the map's tasks: this panel listens to these two only
        self._umap: TaskHandle | None = None
        # the layout of the project last shown (project path, its item count, (N, 2) positions NaN where not shown,
        # kind): when the same project comes back with items appended (File › Rescan), the new items are placed
        # into it (projection.place_new) instead of a new PCA/UMAP that would move every point the user knows
        self._carry: tuple[str, int, np.ndarray, str] | None = None
        self._growing: tuple[int, np.ndarray, str] | None = None

        self.colour = QComboBox()
        self.colour.addItems(["colour: label", "colour: predicted class"])
        self.colour.setToolTip("Predicted: faint = the k-NN is unsure, bigger points = more uncertain")
        self.colour.currentIndexChanged.connect(self.restyle)
        self.lasso = QPushButton("Lasso")
        self.lasso.setCheckable(True)
        self.lasso.setToolTip(
            "Drag to select a cluster (or hold Shift while dragging; Ctrl+drag for a rectangle)"
        )
        self.lasso.toggled.connect(lambda on: setattr(self.plot.vb, "select_mode", "lasso" if on else None))
        self.umap_button = QPushButton("UMAP")
        self.umap_button.clicked.connect(self._on_umap_clicked)
        self.note = QLabel()
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)  # a long status must not widen the window (issue 13.6)
        bar = QHBoxLayout()
        for w in (self.colour, self.lasso, self.umap_button):
            bar.addWidget(w)
        bar.addWidget(self.note, 1)

        self.plot = MapPlot()
        self.plot.item_clicked.connect(self.open_item)
        self.plot.selection_changed.connect(self._on_selection)
        self.plot.class_key.connect(self.preview)
        self.plot.confirm_key.connect(self.apply)
        self.plot.escape_key.connect(self._on_escape)

        self.info = QLabel()
        self.info.setWordWrap(True)
        self.apply_button = QPushButton("Apply")
        self.apply_button.clicked.connect(self.apply)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._on_escape)
        # The preview's grid: the lasso's targets, all selected; a click or Space drops one before Apply.
        self.preview_grid = GridView(self.thumbs, "text", PREVIEW_PX)
        self.preview_grid.setMaximumHeight(PREVIEW_ROWS * self.preview_grid.gridSize().height() + 8)
        self.preview_grid.class_key.connect(self.preview)
        self.preview_grid.accept_key.connect(self.apply)
        self.preview_grid.escape_key.connect(self._on_escape)
        self.preview_grid.selection_count.connect(self._on_preview_selection)
        self.preview_grid.hide()
        info_row = QHBoxLayout()
        info_row.addWidget(self.info, 1)
        info_row.addWidget(self.apply_button)
        info_row.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.preview_grid)
        lay.addLayout(info_row)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.restyle)
        self._overlay_timer = QTimer(self)
        self._overlay_timer.setSingleShot(True)
        self._overlay_timer.setInterval(OVERLAY_MS)
        self._overlay_timer.timeout.connect(self.update_overlays)
        self._stale = False  # labels arrived while the map was hidden: restyle when it shows
        self._show_info()

    # ------------------------------------------------------------------ state
    def set_controller(self, ctl: Controller | None) -> None:
        for task in (self._umap, self._pca):
            if task is not None:
                task.cancel()
        self._keep_layout(ctl)
        if self.ctl is not None:
            for sig, slot in self._connections(self.ctl):
                sig.disconnect(slot)
        self.ctl = ctl
        self.projection = "none"
        self._pending = None
        self.plot.selection = np.zeros(0, np.int64)
        self.plot.tooltip_for = None
        if ctl is not None:
            for sig, slot in self._connections(ctl):
                sig.connect(slot)
            self.plot.tooltip_for = self.tooltip
            if self.isVisible():
                self.ensure_layout()
        self._show_info()

    def tooltip(self, item: int) -> str:
        """The hover tooltip of ``item``: its cached thumbnail (or "loading", and a re-show when it arrives)."""
        ctl = self.ctl
        assert ctl is not None
        ds = ctl.ws.dataset
        src = None
        if ds.kind == "image":
            key = self.thumbs.key(ds.path(item), TIP_PX)
            src = self._tip_uris.get(key)
            if src is None:
                pm = self.thumbs.get(ds.path(item), TIP_PX)
                if pm is not None:
                    if len(self._tip_uris) >= TIP_CACHE:
                        self._tip_uris.pop(next(iter(self._tip_uris)))
                    src = self._tip_uris[key] = pixmap_data_uri(pm)
        return tooltip_html(ctl.session, ds, item, src)

    @Slot(str)
    def _on_thumb(self, key: str) -> None:
        ctl, item = self.ctl, self.plot.hovered
        if (
            ctl is not None
            and item is not None
            and ctl.ws.dataset.kind == "image"
            and key == self.thumbs.key(ctl.ws.dataset.path(item), TIP_PX)
        ):
            self.plot.refresh_tooltip()

    def _connections(self, ctl: Controller) -> list:
        return [
            (ctl.labels_changed, self._schedule),
            (ctl.ranking_changed, self._schedule_overlays),
            (ctl.current_changed, self._schedule_overlays),
            (ctl.classes_changed, self._schedule),
        ]

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.ensure_layout()
        if self._stale:
            self._stale = False
            self.restyle()

    @Slot()
    def _schedule_overlays(self) -> None:
        if self.isVisible():
            self._overlay_timer.start()
        else:
            self._stale = True

    def flush(self) -> None:
        """Run pending restyles now (before a screenshot, in tests)."""
        for timer, slot in ((self._timer, self.restyle), (self._overlay_timer, self.update_overlays)):
            if timer.isActive():
                timer.stop()
                slot()

    def _keep_layout(self, ctl: Controller | None) -> None:
        """Keep the layout of the project being closed; grow it when ``ctl`` is the same project, grown."""
        old = self.ctl
        if old is not None and old.ws.project is not None and self.projection != "none":
            full = np.full((old.session.n, 2), np.nan, np.float32)
            full[self.plot.items] = self.plot.pos
            self._carry = (str(old.ws.project.path), old.session.n, full, self.projection)
        if ctl is None:
            return
        carry, self._carry, self._growing = self._carry, None, None
        same = carry is not None and ctl.ws.project is not None and str(ctl.ws.project.path) == carry[0]
        if same and carry is not None and 0 < carry[1] < ctl.session.n:
            self._growing = carry[1:]

    def ensure_layout(self) -> None:
        """The first time the map is seen: PCA in the task runner (tens of ms for the demo, up to a second at
        100k items on a busy laptop: too long for the GUI thread), then UMAP in the background. After a rescan
        of the project shown before: its layout with the new items placed among their graph neighbours, once the
        neighbour graph is in."""
        if self.ctl is None or self.projection != "none" or self.pca_running:
            return
        s = self.ctl.session
        items = np.flatnonzero(s.eligible)
        X = s.X  # read-only in the task: the session never writes its vectors
        if self._growing is not None and s.graph is not None:
            self._place_new_items()
            return

        def task(progress: ProgressFn, cancel: CancelFn) -> tuple[np.ndarray, np.ndarray]:
            return pca_2d(X[items]), items

        self._pca = self.runner.start(PCA_KIND, task)
        self._pca.finished.connect(self._on_pca_done)
        self._pca.failed.connect(self._on_pca_failed)
        self.note.setText("computing the map (PCA)…")

    def _place_new_items(self) -> None:
        """The layout kept from before the rescan with the new items placed among their graph neighbours (a PCA
        may be shown meanwhile, while the graph was not in yet; it is replaced)."""
        assert self.ctl is not None and self._growing is not None and self.ctl.session.graph is not None
        n_old, Y_old, kind = self._growing
        graph = self.ctl.session.graph
        items = np.flatnonzero(self.ctl.session.eligible)

        def task(progress: ProgressFn, cancel: CancelFn) -> tuple[np.ndarray, np.ndarray]:
            from aldesk.core.maps.projection import place_new

            shown = np.isfinite(Y_old[:, 0])
            Y = np.where(shown[:, None], Y_old, np.median(Y_old[shown], axis=0) if shown.any() else 0.0)
            Y = place_new(Y, graph[0][n_old:], graph[1][n_old:])
            return Y[items], items

        self._pca = self.runner.start(PCA_KIND, task)
        self._pca.finished.connect(lambda r: self._on_grown_done(r, kind))
        self._pca.failed.connect(self._on_grown_failed)
        self.note.setText("placing the new items on the map…")

    @property
    def pca_running(self) -> bool:
        return self._pca is not None and self._pca.is_running

    @property
    def umap_running(self) -> bool:
        return self._umap is not None and self._umap.is_running

    def set_layout(self, pos: np.ndarray, items: np.ndarray, kind: str) -> None:
        assert self.ctl is not None
        self.projection = kind
        self.plot.set_positions(pos, items, self.ctl.session.n)
        self.restyle()
        self._show_info()

    @Slot()
    def _schedule(self) -> None:
        ctl = self.ctl
        if (
            self._growing is not None
            and ctl is not None
            and ctl.session.graph is not None
            and self.isVisible()
            and not self.pca_running
        ):
            self._place_new_items()  # the graph just came in (set_density says so): place the new items now
        if self.isVisible():
            self._timer.start()
        else:
            self._stale = True

    @Slot()
    def restyle(self) -> None:
        ctl = self.ctl
        if ctl is None or self.projection == "none":
            return
        by = "predicted" if self.colour.currentIndex() == 1 else "label"
        self.plot.set_legend(ctl.session.classes)
        self.plot.set_style(self.styler.style(ctl.session, self.plot.items, by))
        self.update_overlays()

    @Slot()
    def update_overlays(self) -> None:
        ctl = self.ctl
        if ctl is None or self.projection == "none":
            return
        self.plot.set_overlays([c.index for c in ctl.cands], ctl.current, pick_trail(ctl.session))

    # ------------------------------------------------------------------- UMAP
    def start_umap(self) -> None:
        if self.ctl is None:
            return
        s = self.ctl.session
        items = np.flatnonzero(s.eligible)
        X = s.X if items.size == s.n else s.X[items]

        def task(progress: ProgressFn, cancel: CancelFn) -> tuple[np.ndarray, np.ndarray]:
            from aldesk.core.maps.projection import umap_2d

            return umap_2d(X, progress=progress, cancel=cancel), items

        self._umap = self.runner.start(KIND, task)
        self._umap.progress.connect(self._on_umap_progress)
        self._umap.finished.connect(self._on_umap_done)
        self._umap.failed.connect(self._on_umap_failed)
        self._umap.cancelled.connect(self._on_umap_cancelled)
        self.umap_button.setText("Stop UMAP")
        self.note.setText("PCA shown; UMAP computing in the background (first run compiles ~30-45 s)…")

    @Slot()
    def _on_umap_clicked(self) -> None:
        if self._umap is not None and self._umap.is_running:
            self._umap.cancel()
        else:
            self.start_umap()

    @Slot(object)
    def _on_pca_done(self, result: object) -> None:
        if self.ctl is None or self.projection != "none":
            return
        pos, items = result  # type: ignore[misc]
        self.set_layout(pos, items, "pca")
        self.plot.getPlotItem().getViewBox().autoRange()
        if self._growing is not None:
            self._schedule()  # the graph may be in by now: the kept layout replaces this PCA
        elif self.auto_umap:
            self.start_umap()

    def _on_grown_done(self, result: object, kind: str) -> None:
        if self.ctl is None or self._growing is None:
            return
        self._growing = None
        pos, items = result  # type: ignore[misc]
        self.set_layout(pos, items, kind)  # no new UMAP: it would move the points the user knows
        self.plot.getPlotItem().getViewBox().autoRange()

    def _on_grown_failed(self, err: TaskError) -> None:
        self._growing = None
        self.note.setText(f"The new items could not be placed ({err.message}).")
        self.ensure_layout()  # a PCA of its own, when none is shown

    @Slot(object)
    def _on_pca_failed(self, err: TaskError) -> None:
        self.note.setText(f"The map could not be computed ({err.message}).")

    @Slot(float, str, float)
    def _on_umap_progress(self, fraction: float, message: str, elapsed: float) -> None:
        self.note.setText(f"PCA shown · {message} ({elapsed:.0f} s)")

    @Slot(object)
    def _on_umap_done(self, result: object) -> None:
        if self.ctl is None:
            return
        pos, items = result  # type: ignore[misc]
        self.umap_button.setText("UMAP")
        self.set_layout(pos, items, "umap")
        self.plot.getPlotItem().getViewBox().autoRange()

    @Slot(object)
    def _on_umap_failed(self, err: TaskError) -> None:
        self.umap_button.setText("UMAP")
        self.note.setText(f"UMAP failed ({err.message}); showing PCA.")

    @Slot()
    def _on_umap_cancelled(self) -> None:
        self.umap_button.setText("UMAP")
        self._show_info()

    # ------------------------------------------------------- label a cluster
    @Slot()
    def _on_selection(self) -> None:
        self._pending = None
        self._show_info()

    @Slot(int)
    def preview(self, number: int) -> None:
        """Class key ``number`` (1-based) pressed with items selected: say what labeling them would do."""
        ctl = self.ctl
        sel = self.plot.selection
        if ctl is None or sel.size == 0:
            return
        s = ctl.session
        if not 1 <= number <= len(s.classes):
            self.info.setText(f"There is no class {number}.")
            return
        cls = s.classes[number - 1]
        pv = views.label_preview(s, sel, cls)
        if pv.targets.size == 0:
            self.info.setText(
                f"All {sel.size:,} selected items are labeled already (relabel them in Browse)."
            )
            return
        self._pending = (pv.targets, cls)
        self.preview_grid.show_items(s, ctl.ws.dataset, preview_order(s, pv.targets, cls), target=cls)
        cell = self.preview_grid.gridSize().height()
        self.preview_grid.setMinimumHeight(cell + 12)  # one full row at least, two when the dock has room
        self.preview_grid.setMaximumHeight(PREVIEW_ROWS * cell + 8)
        self.preview_grid.show()
        self.info.setText(preview_text(pv))
        self.apply_button.setVisible(True)
        self.cancel_button.setVisible(True)

    @Slot(int)
    def _on_preview_selection(self, _n: int) -> None:
        """Items dropped in the preview's grid: the counts are those of the items still to be labeled."""
        if self._pending is None or self.ctl is None:
            return
        targets, cls = self._pending
        chosen = self.preview_grid.selected_items()
        pv = views.label_preview(self.ctl.session, np.array(chosen, np.int64), cls)
        self.info.setText(preview_text(pv, dropped=targets.size - len(chosen)))

    @Slot()
    def apply(self) -> None:
        if self._pending is None or self.ctl is None:
            return
        targets, cls = self._pending
        keep = set(self.preview_grid.selected_items())
        targets = np.array([i for i in targets.tolist() if i in keep], np.int64)  # without the dropped ones
        if targets.size == 0:
            self.info.setText("Every item was dropped: nothing to label (Esc cancels).")
            return
        self._pending = None
        if self.ctl.label_items([int(i) for i in targets], cls):
            self.preview_grid.hide()
            self.plot.set_selection(np.zeros(0, np.int64))
            self.info.setText(f"Labeled {targets.size:,} items as {cls}. Ctrl+Z undoes the batch.")
            self.apply_button.hide()
            self.cancel_button.hide()

    @Slot()
    def _on_escape(self) -> None:
        if self._pending is not None:
            self._pending = None
            self._show_info()
        else:
            self.plot.set_selection(np.zeros(0, np.int64))

    def _show_info(self) -> None:
        self.preview_grid.hide()
        self.apply_button.hide()
        self.cancel_button.hide()
        n = self.plot.selection.size
        if n:
            self.info.setText(f"{n:,} items selected: press a class number to label them, Esc to clear.")
        elif self.ctl is None:
            self.info.setText("Open a project to see its map.")
        else:
            self.info.setText(
                "Shift+drag: lasso · Ctrl+drag: rectangle · click a point to open it · right-click: export"
            )
        if self.pca_running:
            self.note.setText("computing the map (PCA)…")
        elif not self.umap_running:
            self.note.setText(
                {"pca": "layout: PCA (press UMAP for a clearer one)", "umap": "layout: UMAP"}.get(
                    self.projection, ""
                )
            )
