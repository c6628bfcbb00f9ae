"""``aldesk open DATA --text-column ... --label-column ... --model-card ...`` reaches the window's open: the new
project reads the column it names and the set-up dialog starts with the card chosen (a real CSV, real
embedding, the real dialog)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

import aldesk
from aldesk.ui.opening.new_project_dialog import NewProjectDialog

from .helpers import wait_open

CARD = Path(aldesk.__file__).parent / "resources" / "models" / "minilm_l6_int8.card.json"


def _csv(tmp_path: Path) -> Path:
    csv = tmp_path / "films.csv"
    rows = ["title,review,verdict"] + [
        f"Film {i},the review of film {i} says it is {'good' if i % 2 else 'bad'},{'pos' if i % 2 else 'neg'}"
        for i in range(24)
    ]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return csv


def test_open_reads_the_named_text_column(qtbot, make_window, tmp_path: Path) -> None:
    win = make_window()
    win.open_path(_csv(tmp_path), None, ["pos", "neg"], text_column="title", label_column="verdict")
    wait_open(qtbot, win)
    ds = win.ctl.ws.dataset
    assert ds.keys[:2] == ["Film 0", "Film 1"]  # not the (longer) review column a detector would pick
    assert ds.known_labels[:2] == ["neg", "pos"]


def test_open_with_a_model_card_starts_the_dialog_with_it(qtbot, make_window, tmp_path: Path) -> None:
    win = make_window()
    win.open_path(_csv(tmp_path), None, None, label_column="verdict", model_card=CARD)

    def dialog() -> NewProjectDialog | None:
        found = [
            w for w in QApplication.topLevelWidgets() if isinstance(w, NewProjectDialog) and w.isVisible()
        ]
        return found[0] if found else None

    qtbot.waitUntil(lambda: dialog() is not None, timeout=60_000)
    dlg = dialog()
    assert dlg is not None
    assert dlg.chosen_card() == CARD
    assert dlg.chosen_classes() == ["neg", "pos"]  # from the label column
    dlg.reject()
