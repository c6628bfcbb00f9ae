"""Active vs random on the user's own data: runs ``simulate`` in the task runner and plots the curves."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from aldesk.core.progress import CancelFn, ProgressFn
from aldesk.ui.labeling.controller import Controller
from aldesk.ui.plots.curves import SimulationPlot
from aldesk.ui.shell.tasks import TaskError, TaskHandle, TaskRunner

KIND = "simulate"


class SimulatePanel(QWidget):
    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.ctl: Controller | None = None
        self.task: TaskHandle | None = None  # the simulation this panel started: the one it listens to
        self.strategies = QLineEdit()
        self.strategies.setPlaceholderText("e.g. eer, uid, margin, entropy*knn_density*diversity")
        self.strategies.setToolTip("Comma-separated strategies; 'random' always runs beside them.")
        self.folds = QSpinBox()
        self.folds.setRange(2, 16)
        self.folds.setValue(4)
        self.budget = QSpinBox()
        self.budget.setRange(10, 5000)
        self.budget.setSingleStep(50)
        self.budget.setValue(150)
        self.budget.setSuffix(" labels")
        self.run_button = QPushButton("Simulate")
        self.run_button.clicked.connect(self._on_run_clicked)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.plot = SimulationPlot()
        form = QFormLayout()
        form.addRow("Strategies:", self.strategies)
        row = QHBoxLayout()
        row.addWidget(QLabel("Folds:"))
        row.addWidget(self.folds)
        row.addWidget(QLabel("Budget:"))
        row.addWidget(self.budget)
        row.addStretch(1)
        row.addWidget(self.run_button)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(row)
        lay.addWidget(self.bar)
        lay.addWidget(self.status)
        lay.addWidget(self.plot, 1)
        self.set_controller(None)

    def set_controller(self, ctl: Controller | None) -> None:
        if self.task is not None:
            self.task.cancel()
        self.ctl = ctl
        self.plot.set_result(None)
        self.bar.hide()
        self.run_button.setText("Simulate")
        ok = ctl is not None and ctl.ws.dataset.has_known_labels
        self.run_button.setEnabled(ok)
        for w in (self.strategies, self.folds, self.budget):
            w.setEnabled(ok)
        if ctl is not None and not self.strategies.text():
            self.strategies.setText(ctl.session.strategy.name)
        if ctl is None:
            self.status.setText("Open a project first.")
        elif not ok:
            self.status.setText(
                "Simulate needs items whose labels are already known (an ImageFolder layout, or a "
                "label column in the CSV): it replays labeling with them to compare strategies "
                "with random picks."
            )
        else:
            self.status.setText(
                "Replays labeling with the known labels: each strategy against random, on the "
                "same folds. Your own labels are not touched."
            )

    def run(self) -> None:
        ctl = self.ctl
        if ctl is None or not ctl.ws.dataset.has_known_labels:
            return
        s = ctl.session
        known = np.array([lab is not None and lab != "" for lab in ctl.ws.dataset.known_labels], dtype=bool)
        rows = np.flatnonzero(known & s.eligible)
        X = s.X[rows]
        labels = [ctl.ws.dataset.known_labels[i] for i in rows]
        strategies = [t.strip() for t in self.strategies.text().split(",") if t.strip()] or [s.strategy.name]
        folds, budget, k = self.folds.value(), self.budget.value(), s.k
        title = ctl.ws.title or str(ctl.ws.dataset.root)

        def task(progress: ProgressFn, cancel: CancelFn) -> dict:
            from aldesk.core.evaluate.simulate import simulate

            res = simulate(
                X,
                labels,
                strategies=strategies,
                folds=folds,
                budget=budget,
                k=k,
                dataset=title,
                progress=progress,
                cancel=cancel,
            )
            return res.to_dict()

        self.task = self.runner.start(KIND, task)
        self.task.progress.connect(self._on_progress)
        self.task.finished.connect(self._on_finished)
        self.task.failed.connect(self._on_failed)
        self.task.cancelled.connect(self._on_cancelled)
        self.run_button.setText("Cancel")
        self.bar.setValue(0)
        self.bar.show()
        self.status.setText(f"Simulating {', '.join(strategies)} and random on {rows.size:,} items…")

    @Slot()
    def _on_run_clicked(self) -> None:
        if self.task is not None and self.task.is_running:
            self.task.cancel()
        else:
            self.run()

    @Slot(float, str, float)
    def _on_progress(self, fraction: float, message: str, elapsed: float) -> None:
        self.bar.setValue(int(fraction * 1000))
        eta = f", about {elapsed / fraction - elapsed:.0f} s left" if 0.02 < fraction < 1 else ""
        self.status.setText(f"{message} ({fraction:.0%}{eta})")

    @Slot(object)
    def _on_finished(self, result: object) -> None:
        self.bar.hide()
        self.run_button.setText("Simulate")
        assert isinstance(result, dict)
        self.plot.set_result(result)
        best = {n: s for n, s in result["strategies"].items() if n != "random"}
        rnd = result["strategies"].get("random", {})
        lines = [f"k-NN on the whole pool: {result['full_accuracy']:.1%}."]
        for name, s in best.items():
            lines.append(
                f"{name}: 95 % of it after {s['labels_to_95'] or '—'} labels "
                f"(random: {rnd.get('labels_to_95') or '—'})."
            )
        self.status.setText(" ".join(lines) + " Right-click the plot to export it.")

    @Slot(object)
    def _on_failed(self, err: TaskError) -> None:
        self.bar.hide()
        self.run_button.setText("Simulate")
        self.status.setText(f"Simulation failed: {err.message}")

    @Slot()
    def _on_cancelled(self) -> None:
        self.bar.hide()
        self.run_button.setText("Simulate")
        self.status.setText("Simulation cancelled.")
