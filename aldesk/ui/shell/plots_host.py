"""The Plots dock in the main window: its modules imported by a worker while the start page shows, the dock
built in later turns of the event loop, the user's saved dock state restored."""

from __future__ import annotations

from PySide6.QtCore import Slot

from aldesk.ui.shell.staging import next_step

STATE_SETTING = "window/state"  # QMainWindow.saveState: the plots dock's size, side and visibility
PRELOAD_KIND = "preload-plots"
PRELOAD_DELAY_MS = 300


def _import_plots(progress: object = None, cancel: object = None) -> bool:
    """Task: import the Plots dock's modules (pyqtgraph and its SVG fix included) in the worker. Only module
    objects are made here; every widget is built on the GUI thread later."""
    import platformdirs  # noqa: F401 - the default project folder (opening the demo) needs it: not on the key path

    import aldesk.ui.plots.dock  # noqa: F401 - imported for its side effect: the modules are loaded

    return True


class PlotsHost:
    """A part of :class:`~aldesk.ui.shell.main_window.MainWindow`: the Plots dock."""

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
                next_step(self, self._attach_plots)
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

    @Slot(object)
    def _on_plots_imported(self, _result: object) -> None:
        self._plots_imported = True
        self._attach_plots()
