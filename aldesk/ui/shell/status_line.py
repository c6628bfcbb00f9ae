"""The main window's status line (counts, speed, strategy and density) and the k-NN density task it reports."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel

from aldesk.ui.shell.fit import ElidedLabel
from aldesk.ui.shell.tasks import TaskError


class StatusLine:
    """A part of :class:`~aldesk.ui.shell.main_window.MainWindow`: the status line."""

    def _make_status_line(self) -> None:
        # Elided: the counts of 30 classes on one line must not set the window's width (issue 13.6).
        self.status_counts = ElidedLabel()
        self.status_speed = QLabel()
        self.status_state = ElidedLabel()
        self.statusBar().addPermanentWidget(self.status_counts, 3)
        self.statusBar().addPermanentWidget(self.status_speed)
        self.statusBar().addPermanentWidget(self.status_state, 1)

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
