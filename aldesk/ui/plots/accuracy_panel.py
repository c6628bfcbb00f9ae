"""Accuracy while labeling: the audit estimate (honest) beside leave-one-out (optimistic), live after each label.

"Live" means shortly after: a label only starts a single-shot timer, and the figures and the chart are redrawn
once the user pauses (REDRAW_MS after the last label), so a key press never pays for the chart (~15 ms at 100k).
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, QTimer, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSpinBox, QVBoxLayout, QWidget

from aldesk.core.evaluate.curves import DEFAULT_WINDOW, LooTrace, audit_curve
from aldesk.core.quality.stopping import session_signal
from aldesk.ui.labeling.controller import Controller
from aldesk.ui.plots.curves import LiveAccuracyPlot
from aldesk.ui.settings.audit_setting import (
    AUDIT_SETTING,
    PROJECT_AUDIT_SETTING,
    audit_every_setting,
    project_audit_every,
)

REDRAW_MS = 150  # a burst of labels costs one redraw, after the burst


class AccuracyPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctl: Controller | None = None
        self.loo = LooTrace()
        self.curve = audit_curve([])
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        # The stopping signal (aldesk/core/quality/stopping.py): one wrapped line, so a long sentence grows the
        # tab downwards, never the window sideways.
        self.stopping = QLabel()
        self.stopping.setWordWrap(True)
        self.stopping.setObjectName("stopping_signal")
        self.stopping.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.audit_spin = QSpinBox()
        self.audit_spin.setRange(0, 200)
        self.audit_spin.setSpecialValueText("off")
        self.audit_spin.setPrefix("every ")
        self.audit_spin.setSuffix(" labels")
        self.audit_spin.setValue(audit_every_setting())
        self.audit_spin.setToolTip(
            "Every m-th item you label is drawn at random from the whole pool instead of picked by the strategy.\n"
            "The k-NN's guess on those items, recorded before you label them, is an honest accuracy estimate."
        )
        self.audit_spin.valueChanged.connect(self._on_audit_every)
        self.plot = LiveAccuracyPlot()
        top = QHBoxLayout()
        top.addWidget(QLabel("Audit item:"))
        top.addWidget(self.audit_spin)
        top.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.summary)
        lay.addWidget(self.stopping)
        lay.addWidget(self.plot, 1)
        self._stale = False  # figures computed while hidden: the chart is drawn when it shows again
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.refresh)
        self.refresh()

    def set_controller(self, ctl: Controller | None) -> None:
        if self.ctl is not None:
            self.ctl.labels_changed.disconnect(self._schedule)
        self._timer.stop()
        self.ctl = ctl
        self.loo = LooTrace()
        if ctl is not None:
            self._rebuild_loo(ctl)
            self.audit_spin.blockSignals(True)
            self.audit_spin.setValue(
                project_audit_every(ctl)
            )  # this project's own m, else the user's default
            self.audit_spin.blockSignals(False)
            ctl.session.audit_every = self.audit_spin.value()
            ctl.labels_changed.connect(self._schedule)
        self.refresh()

    def _rebuild_loo(self, ctl: Controller) -> None:
        """A reopened project's leave-one-out curve up to now, rebuilt from its labeling order (else the chart
        starts with one point: no line)."""
        from aldesk.core.evaluate.loo_history import loo_history

        s = ctl.session
        order = s.labeled_items()
        xs, accs = loo_history(s.X, order, s.label_index(order), s.k)
        for x, a in zip(xs, accs, strict=True):
            self.loo.update(x, a)

    @Slot()
    def _schedule(self) -> None:
        self._timer.start()  # restarts: the redraw waits for the pause after the last label

    def flush(self) -> None:
        """Redraw now if a redraw is pending (before a screenshot, in tests)."""
        if self._timer.isActive():
            self._timer.stop()
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    @Slot(int)
    def _on_audit_every(self, m: int) -> None:
        QSettings().setValue(AUDIT_SETTING, m)  # the default for projects that have no m of their own
        if self.ctl is not None:
            self.ctl.set_setting(PROJECT_AUDIT_SETTING, m)
            # Takes effect from the next ranking (after the next label): the item on screen is not swapped.
            self.ctl.session.audit_every = m
            self.refresh()  # "the first comes with label m" follows the new m

    def estimate(self) -> tuple[float, float, float] | None:
        """The current audit estimate (accuracy, low, high of the 95 % band), None before the first audit."""
        return self.curve.last

    @Slot()
    def refresh(self) -> None:
        ctl = self.ctl
        if ctl is None:
            self.summary.setText("Open a project to see how well the model does.")
            self.stopping.clear()
            self.plot.set_curves(audit_curve([]), LooTrace(), 0)
            return
        s = ctl.session
        self.curve = curve = audit_curve(s.audit_records(), DEFAULT_WINDOW)
        loo = s.loo_accuracy_labeled()
        self.loo.update(s.n_labeled, loo)  # recorded even while hidden: past states cannot be recomputed
        self._stale = not self.isVisible()
        if self._stale:
            return
        self.plot.set_curves(curve, self.loo, s.n_labeled)
        parts = []
        last = curve.last
        if last is None:
            m = s.audit_every
            parts.append(
                "<b>Audit estimate:</b> none yet"
                + (f" (the first comes with label {m})" if m else " (audit items are off)")
            )
        else:
            acc, lo, hi = last
            n = int(curve.window_size[-1])
            parts.append(f"<b>Audit estimate: {acc:.0%}</b> (95 %: {lo:.0%}–{hi:.0%}, last {n} audit items)")
        if loo is not None:
            parts.append(
                f"leave-one-out: {loo:.0%} <i>(optimistic: the labels are the items the strategy chose)</i>"
            )
        self.summary.setText(" · ".join(parts))
        # One (sample x labels) mat-mul, after the pause that redraws the chart anyway (not per key press).
        self.stopping.setText(session_signal(s).message())
