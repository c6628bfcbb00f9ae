"""Classes › Describe the classes (zero-shot)… on the real window, with real ONNX e5 inference of the
descriptions: before any label the first candidates and the suggestions follow the descriptions, the
descriptions are saved with the project and applied again when it is reopened, and Turn off removes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QDialogButtonBox

from aldesk.app.settings import ZERO_SHOT_SETTING, read_settings
from aldesk.app.workspace import create_project
from aldesk.core.embed.cards import default_card
from aldesk.core.project import Project
from aldesk.core.sources import load_source
from aldesk.ui.labeling.zero_shot import NO_TEXT_TOWER
from tests.ui.helpers import wait_open

POSITIVE = [
    "a warm and funny film, I loved every minute",
    "the best thing I saw this year, a triumph",
    "charming, clever and moving",
    "a wonderful, joyful movie with brilliant acting",
]
NEGATIVE = [
    "dull and far too long, a waste of two hours",
    "flat jokes and a lazy plot, I hated it",
    "a boring, tedious mess",
    "the worst film of the year, awful acting",
]
DESCRIPTIONS = {"fresh": "a positive movie review", "rotten": "a negative movie review"}


def _open(qtbot, win, path: Path, cache: Path) -> None:
    win.opener.cache_dir = cache
    win.open_path(path)
    wait_open(qtbot, win)


def _describe(qtbot, win, texts: dict[str, str] | None) -> None:
    """Open the dialog from the class row's button, type ``texts`` (None: Turn off) and confirm."""
    win.label_view.describe_button.click()
    qtbot.waitUntil(lambda: win.zero_shot.dialog is not None and win.zero_shot.dialog.isVisible())
    dlg = win.zero_shot.dialog
    if texts is None:
        dlg.off_button.click()
        return
    assert {c: e.text() for c, e in dlg.edits.items()} == {c: c for c in texts}  # pre-filled with the names
    for c, t in texts.items():
        dlg.edits[c].setText(t)
    dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def _predicted(win) -> dict[int, str | None]:
    s = win.ctl.session
    pred, _ = s.predictions()  # what the suggestions and the grid show (-1: no prediction)
    return {i: (s.classes[p] if p >= 0 else None) for i, p in enumerate(pred.tolist())}


def test_descriptions_guide_the_first_candidates_and_survive_a_reopen(
    qtbot, make_window, tmp_path: Path
) -> None:
    texts = [t for pair in zip(NEGATIVE, POSITIVE, strict=True) for t in pair]  # negatives first in the file
    truth = ["rotten", "fresh"] * len(POSITIVE)
    data = tmp_path / "reviews.csv"
    data.write_text("text\n" + "\n".join(texts) + "\n", encoding="utf-8")
    path = tmp_path / "reviews.aldesk"
    create_project(path, load_source(data), ["fresh", "rotten"], default_card("text").source).project.close()
    win = make_window()
    _open(qtbot, win, path, tmp_path / "cache")
    assert win.ctl.session.zero_shot is None  # no descriptions yet: nothing computed
    before = _predicted(win)
    assert len(set(before.values())) == 1  # no label: every item gets the same (uninformed) prediction

    _describe(qtbot, win, DESCRIPTIONS)
    qtbot.waitUntil(lambda: win.ctl.session.zero_shot is not None, timeout=120_000)
    assert win.ctl.session.knn.n_labeled == 0
    after = _predicted(win)
    right = sum(after[i] == truth[i] for i in range(len(texts)))
    assert right >= len(texts) - 1, after  # real e5 reads the descriptions: the predictions follow them
    # The first candidates seed each class with the item most like its description, class by class.
    first = [c.index for c in win.ctl.cands[:2]]
    assert [truth[i] for i in first] == ["fresh", "rotten"]
    assert win.ctl.current == first[0]
    assert win.ctl.candidate(first[0]).predicted == "fresh"
    assert read_settings(win.ws.project).zero_shot == DESCRIPTIONS

    # Saved with the project: a reopen computes the prior again, before any label.
    win.close_workspace()
    with Project.open(path, readonly=True) as p:
        assert p.get_setting(ZERO_SHOT_SETTING, None) == DESCRIPTIONS
    _open(qtbot, win, path, tmp_path / "cache")
    qtbot.waitUntil(lambda: win.ctl.session.zero_shot is not None, timeout=120_000)
    assert _predicted(win) == after
    assert [truth[c.index] for c in win.ctl.cands[:2]] == ["fresh", "rotten"]

    # A renamed class keeps its description; the prior is built again for the new name.
    assert win.ctl.rename_class("fresh", "good")
    assert read_settings(win.ws.project).zero_shot == {
        "good": DESCRIPTIONS["fresh"],
        "rotten": "a negative movie review",
    }
    qtbot.waitUntil(lambda: win.ctl.candidate(win.ctl.cands[0].index).predicted == "good", timeout=60_000)
    renamed = {i: ("good" if p == "fresh" else p) for i, p in after.items()}
    qtbot.waitUntil(lambda: _predicted(win) == renamed, timeout=60_000)

    # Turn off: the prior is gone, saved as off.
    _describe(qtbot, win, None)
    qtbot.waitUntil(lambda: win.ctl.session.zero_shot is None, timeout=30_000)
    assert _predicted(win) == before
    assert read_settings(win.ws.project).zero_shot == {}


def test_image_projects_are_told_there_is_no_text_tower(qtbot, make_window, tmp_path: Path) -> None:
    from PIL import Image

    folder = tmp_path / "imgs"
    for cls, shade in (("dark", 20), ("light", 230)):
        (folder / cls).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((40, 40, 3), shade + i, np.uint8)).save(folder / cls / f"{i}.png")
    win = make_window()
    win.opener.cache_dir = tmp_path / "cache"
    win.open_path(folder, tmp_path / "imgs.aldesk", ["dark", "light"])
    wait_open(qtbot, win)
    win.zero_shot.ask()
    dlg = win.zero_shot.dialog
    assert dlg is not None and dlg.note.text() == NO_TEXT_TOWER
    assert not dlg.ok_button.isEnabled()
    assert all(not e.isEnabled() for e in dlg.edits.values())
    dlg.reject()
    assert win.ctl.session.zero_shot is None
