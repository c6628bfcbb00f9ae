""" "Why this item": the prediction, its probabilities, the score factors, the nearest labeled neighbours."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from aldesk.ui.labeling.controller import Controller
from aldesk.ui.labeling.labeling_view import snippet
from aldesk.ui.shell.fit import ElidedLabel
from aldesk.ui.shell.thumbs import ThumbnailLoader

N_NEIGHBOURS = 8
NB_THUMB = 48

FACTORS = (
    ("S", "S — overall score (the product of the factors the strategy uses)"),
    ("U", "U — how unsure the model is"),
    ("I", "I — how typical the item is (density)"),
    ("D", "D — how far from anything labeled"),
)


EER_TIP = (
    "U — how much labeling it would reduce the model's expected errors: its own uncertainty, plus how much "
    "surer its unsure neighbours would get (expected error reduction)"
)


class ValueBar(QWidget):
    """A bar with its value written BESIDE it: text drawn on the bar crosses the fill edge and gets hard to read."""

    def __init__(self, tip: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(self.fontMetrics().height() + 4)
        self.value = QLabel()
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.value.setMinimumWidth(self.fontMetrics().horizontalAdvance("100%") + 4)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addWidget(self.bar, 1)
        lay.addWidget(self.value)
        self.setToolTip(tip)

    def set(self, fraction: float | None, text: str) -> None:
        self.bar.setValue(0 if fraction is None else round(1000 * fraction))
        self.value.setText(text)

    def text(self) -> str:
        return self.value.text()


class WhyPanel(QWidget):
    """Explains the current item; click a neighbour to jump to it."""

    def __init__(self, ctl: Controller, thumbs: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctl = ctl
        self.thumbs = thumbs
        self.ds = ctl.ws.dataset
        self.setMinimumWidth(260)
        self.setMaximumWidth(380)

        self.predicted = QLabel()
        self.predicted.setTextFormat(Qt.TextFormat.RichText)
        self.predicted.setWordWrap(True)  # a long class name wraps instead of widening the window
        self.probs_box = QGroupBox("Class probabilities")
        # In a scroll area: one row per class made the panel 700 px tall at 30 classes, taller than a laptop
        # screen (the window then squeezed the candidate strip to a sliver). It shows what fits, and scrolls.
        rows = QWidget()
        self.probs_grid = QGridLayout(rows)
        self.probs_grid.setContentsMargins(0, 0, 0, 0)
        self.probs_scroll = QScrollArea()
        self.probs_scroll.setWidget(rows)
        self.probs_scroll.setWidgetResizable(True)
        self.probs_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.probs_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.probs_scroll.setMinimumHeight(3 * (self.fontMetrics().height() + 10))
        QVBoxLayout(self.probs_box).addWidget(self.probs_scroll)
        self.bars: list[tuple[ElidedLabel, ValueBar]] = []

        self.factors_box = QGroupBox("Why this item")
        form = QFormLayout(self.factors_box)
        self.factor_form = form  # rows of factors the strategy does not use are hidden
        self.factor_values: dict[str, ValueBar] = {}
        self.factor_labels: dict[str, QLabel] = {}
        for key, tip in FACTORS:
            bar = ValueBar(tip)
            lab = QLabel(key)
            lab.setToolTip(tip)
            form.addRow(lab, bar)
            self.factor_values[key] = bar
            self.factor_labels[key] = lab
        self.factor_note = QLabel()
        self.factor_note.setWordWrap(True)
        form.addRow(self.factor_note)

        self.nb_box = QGroupBox("Nearest labeled · similarity")
        self.nb_box.setToolTip("The labeled items the k-NN votes with; click one to open it")
        nl = QVBoxLayout(self.nb_box)
        self.neighbours = QListWidget()  # at most N_NEIGHBOURS rows: widgets items are fine here
        self.neighbours.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.neighbours.setWordWrap(True)
        self.neighbours.setAlternatingRowColors(True)
        if self.ds.kind == "image":
            self.neighbours.setIconSize(QSize(NB_THUMB, NB_THUMB))
        self.neighbours.itemClicked.connect(self._on_neighbour)
        nl.addWidget(self.neighbours)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.predicted)
        # Most of the spare height goes to the probabilities, never more than their rows need (the maximum is set
        # per class list); on a short screen they scroll and the neighbours keep a share.
        lay.addWidget(self.probs_box, 3)
        lay.addWidget(self.factors_box)
        lay.addWidget(self.nb_box, 1)

        # One key press emits several of these; refresh once, right after the key's own work.
        self._refresh_queued = False
        ctl.current_changed.connect(self.schedule_refresh)
        ctl.labels_changed.connect(self.schedule_refresh)
        ctl.ranking_changed.connect(self.schedule_refresh)
        thumbs.ready.connect(self._on_thumb)

    def _ensure_bars(self, classes: list[str]) -> None:
        while len(self.bars) < len(classes):
            lab, bar = ElidedLabel(), ValueBar()  # elided: a long class name must not widen the panel
            row = len(self.bars)
            self.probs_grid.addWidget(lab, row, 0)
            self.probs_grid.addWidget(bar, row, 1)
            self.bars.append((lab, bar))
        for j, (lab, bar) in enumerate(self.bars):
            visible = j < len(classes)
            lab.setVisible(visible)
            bar.setVisible(visible)
            if visible:
                lab.setText(classes[j])
        rows = self.probs_scroll.widget()
        rows.adjustSize()
        content = rows.sizeHint().height() + 2
        self.probs_scroll.setMaximumHeight(content)
        # The box too (its title and margins above the rows): else it grows past them, blank.
        frame = self.probs_box.minimumSizeHint().height() - self.probs_scroll.minimumSizeHint().height()
        self.probs_box.setMaximumHeight(content + max(0, frame))

    @Slot()
    def schedule_refresh(self) -> None:
        if not self._refresh_queued:
            self._refresh_queued = True
            QTimer.singleShot(0, self, self.refresh)

    @Slot()
    def refresh(self) -> None:
        self._refresh_queued = False
        # QProgressBar.setValue repaints synchronously (about 1 ms per bar): batch them into one paint.
        self.setUpdatesEnabled(False)
        try:
            self._refresh()
        finally:
            self.setUpdatesEnabled(True)

    def _refresh(self) -> None:
        i = self.ctl.current
        s = self.ctl.session
        self.neighbours.clear()
        if i is None:
            self.predicted.setText("")
            return
        p = s.predict(i)  # the session's own k: the same prediction the labeling view suggests
        classes = list(s.classes)
        self._ensure_bars(classes)
        for j, c in enumerate(classes):
            v = p.probabilities.get(c, 0.0)
            self.bars[j][1].set(v, f"{v:.0%}")
        if p.predicted is None:
            self.predicted.setText("<b>No prediction yet</b><br>label a few items first")
        else:
            self.predicted.setText(
                f"Predicted: <b>{p.predicted}</b> ({p.probabilities.get(p.predicted, 0.0):.0%})"
            )
        cand = self.ctl.candidate(i)
        audit = bool(getattr(cand, "audit", False))
        measure = getattr(s.strategy, "measure", None)
        tip = EER_TIP if measure == "eer" and s.graph is not None else dict(FACTORS)["U"]
        self.factor_labels["U"].setToolTip(tip)
        self.factor_values["U"].setToolTip(tip)
        st = s.strategy
        used = {"S": True, "U": st.measure is not None, "I": st.density is not None, "D": bool(st.diversity)}
        for key, _ in FACTORS:
            v = getattr(cand, key, None) if cand is not None and not audit else None
            self.factor_values[key].set(v, "—" if v is None else f"{v:.2f}")
            self.factor_form.setRowVisible(self.factor_labels[key], used[key] or st.is_random)
        if cand is None:
            note = "Not a current candidate (chosen by hand)."
        elif audit:
            note = (
                "<b>Audit item</b>: a random pick, not the strategy's. The model's guess on it, made before "
                "you label it, measures the accuracy honestly (Plots › Accuracy)."
            )
        else:
            note = f"Density: {s.density_kind} · strategy: {s.strategy.name if hasattr(s.strategy, 'name') else ''}"
        self.factor_note.setText(note)
        for j, sim, lab in p.neighbours[:N_NEIGHBOURS]:
            if self.ds.kind == "image":
                # The file name only (the folder often repeats the label): two short lines fit the column.
                key = self.ds.keys[j]
                text = f"{lab}  ·  {sim:.2f}\n{key.rsplit('/', 1)[-1]}"
            else:
                key = snippet(self.ds.text(j), 400)
                text = f"{lab}  ·  {sim:.2f}\n{snippet(self.ds.text(j), 120)}"
            it = QListWidgetItem(text)
            it.setToolTip(key)
            it.setData(Qt.ItemDataRole.UserRole, j)
            if self.ds.kind == "image":
                pm = self.thumbs.get(self.ds.path(j), NB_THUMB, self.devicePixelRatioF())
                if pm is not None:
                    it.setIcon(pm)
            self.neighbours.addItem(it)

    @Slot(QListWidgetItem)
    def _on_neighbour(self, item: QListWidgetItem) -> None:
        self.ctl.jump(int(item.data(Qt.ItemDataRole.UserRole)))

    @Slot(str)
    def _on_thumb(self, key: str) -> None:
        if self.ds.kind != "image":
            return
        for r in range(self.neighbours.count()):
            it = self.neighbours.item(r)
            j = int(it.data(Qt.ItemDataRole.UserRole))
            if self.thumbs.key(self.ds.path(j), NB_THUMB, self.devicePixelRatioF()) == key:
                pm = self.thumbs.get(self.ds.path(j), NB_THUMB, self.devicePixelRatioF())
                if pm is not None:
                    it.setIcon(pm)
