"""The plots dock: accuracy while labeling, simulated learning curves, the embedding map, in tabs.

The window creates it once and hands it each opened project's controller (``set_controller``); the dock wires
itself to the controller's signals and starts its background work (simulate, UMAP) in the window's task runner.

Layout: it appears with the first project, docked right at a quarter of the window (the labeling view is the main
job; the honest accuracy estimate is worth seeing without a click). View › Plots (Ctrl+M) hides it; its size,
side and visibility are saved on quit and restored on the next start. Charts redraw once the user pauses
(coalescing timers in the panels), never on a key's path.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QTabWidget, QWidget

from aldesk.ui.labeling.controller import Controller
from aldesk.ui.plots.accuracy_panel import AccuracyPanel
from aldesk.ui.plots.map_panel import MapPanel
from aldesk.ui.plots.simulate_panel import SimulatePanel
from aldesk.ui.shell.staging import next_step
from aldesk.ui.shell.tasks import TaskRunner
from aldesk.ui.shell.thumbs import ThumbnailLoader

DEFAULT_WIDTH_FRACTION = 0.25


class PlotsDock(QDockWidget):
    """Dock with the tabs Accuracy / Simulate / Map; ``open_item(index)`` asks the window to show an item."""

    open_item = Signal(int)

    def __init__(
        self,
        runner: TaskRunner,
        parent: QWidget | None = None,
        thumbs: ThumbnailLoader | None = None,
        *,
        staged: bool = False,
    ) -> None:
        """``staged``: build the Simulate and Map tabs in later turns of the event loop, one each, once the dock
        has been shown with its first project (the window does: each plot widget takes 30-100 ms to build, and
        the first layout of the shown dock resizes every tab's plot, which as one block froze the window on
        open)."""
        super().__init__("Plots", parent)
        self.setObjectName("plots_dock")  # saveState/restoreState find docks by object name
        self.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)
        self.setMinimumWidth(280)
        self.runner = runner
        self._thumbs = thumbs
        self._ctl: Controller | None = None
        self.tabs = QTabWidget()
        self.accuracy = AccuracyPanel()
        self.tabs.addTab(self.accuracy, "Accuracy")
        self.simulate: SimulatePanel | None = None
        self.map: MapPanel | None = None
        self._to_build = [self._build_simulate, self._build_map]
        self.setWidget(self.tabs)
        self._shown_once = False
        self.toggleViewAction().setText("Plots (accuracy, simulate, map)")
        self.toggleViewAction().setShortcut("Ctrl+M")
        self._staged = staged
        self._settled = not staged
        if not staged:
            while self._to_build:
                self._to_build.pop(0)()

    @property
    def complete(self) -> bool:
        """Every tab is built (and, when built in steps, the window has been laid out with them)."""
        return not self._to_build and self._settled

    def panels(self) -> list[QWidget]:
        return [p for p in (self.accuracy, self.simulate, self.map) if p is not None]

    @Slot()
    def _build_next(self) -> None:
        if self._to_build:
            self._to_build.pop(0)()
        if self._to_build:
            next_step(self, self._build_next)
        else:  # the last tab is in: "complete" one frame later, once the window's layout has taken it in
            next_step(self, self._laid_out)

    @Slot()
    def _laid_out(self) -> None:
        self._settled = True

    def _build_simulate(self) -> None:
        self.simulate = SimulatePanel(self.runner)
        self.tabs.addTab(self.simulate, "Simulate")
        if self._ctl is not None:
            self.simulate.set_controller(self._ctl)

    def _build_map(self) -> None:
        self.map = MapPanel(self.runner, self._thumbs)
        self.map.open_item.connect(self.open_item)
        self.tabs.addTab(self.map, "Map")
        if self._ctl is not None:
            self.map.set_controller(self._ctl)

    def set_controller(self, ctl: Controller | None) -> None:
        """Attach to an opened project's controller (None when it closes). Sets the session's audit interval."""
        self._ctl = ctl
        for panel in self.panels():
            panel.set_controller(ctl)
        if ctl is not None and not self._shown_once:
            self._shown_once = True  # appears with the first project; after that the user's choice stands
            self.show()
            win = self.parentWidget()
            if isinstance(win, QMainWindow):
                # A quarter of the window: the labeling view is the main job and keeps most of the room; the
                # splitter handle (or View > Plots, Ctrl+M) gives the charts more when the user wants them.
                width = max(self.minimumWidth(), round(DEFAULT_WIDTH_FRACTION * win.width()))
                win.resizeDocks([self], [width], Qt.Orientation.Horizontal)
        if self._staged and self._to_build:
            self._staged = False  # scheduled once; _build_next keeps going until every tab is built
            next_step(self, self._build_next)

    def flush(self) -> None:
        """Redraw the charts now if a redraw is pending (they redraw once the user pauses labeling)."""
        self.accuracy.flush()
        if self.map is not None:
            self.map.flush()


def attach(window: QMainWindow, open_item: Callable[[int], None], *, staged: bool = False) -> PlotsDock:
    """Create the dock in ``window`` (right side, with a View menu entry); ``open_item`` shows an item.

    The window calls this with its first project, so pyqtgraph (~0.3 s to import) does not slow the start page.
    """
    # The main window's one task runner and its thumbnail loader.
    dock = PlotsDock(
        window.runner,
        window,
        getattr(window, "thumbs", None),  # type: ignore[attr-defined]
        staged=staged,
    )
    dock.hide()
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.open_item.connect(open_item)
    view_menu(window).addAction(dock.toggleViewAction())
    return dock


def view_menu(window: QMainWindow) -> QMenu:
    """The window's View menu (made, before Help, if the window has none yet)."""
    bar = window.menuBar()
    for act in bar.actions():
        if act.menu() is not None and act.text().replace("&", "") == "View":
            return act.menu()
    menu = QMenu("&View", bar)
    help_act = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
    if help_act is not None:
        bar.insertMenu(help_act, menu)
    else:
        bar.addMenu(menu)
    return menu
