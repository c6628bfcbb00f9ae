"""Settings › Re-embed with another model… on the real window, with real ONNX inference: a project made with
MiniLM is embedded again with e5-small, its labels kept, and the window opens it again with the new model."""

from __future__ import annotations

from pathlib import Path

from aldesk.app.workspace import create_project
from aldesk.core.embed.cards import bundled_card_by_id, default_card, resolve_card
from aldesk.core.project import Project
from aldesk.core.sources import load_source
from aldesk.ui.settings.reembed import other_cards
from tests.ui.helpers import class_key, wait_open

TEXTS = [
    "a warm and funny film",
    "dull and far too long",
    "the best thing I saw this year",
    "a waste of two hours",
    "charming, clever and moving",
    "flat jokes and a lazy plot",
    "une merveille de tendresse",
    "ennuyeux du début à la fin",
]


def test_reembed_keeps_the_labels_and_reopens_with_the_new_model(qtbot, make_window, tmp_path: Path) -> None:
    data = tmp_path / "reviews.csv"
    data.write_text("text\n" + "\n".join(TEXTS) + "\n", encoding="utf-8")
    minilm = resolve_card("minilm_l6_int8", "text")
    path = tmp_path / "reviews.aldesk"
    create_project(path, load_source(data), ["pos", "neg"], minilm.source).project.close()
    with Project.open(path) as p:  # a project made with an explicit card file: make it the bundled MiniLM's
        p.set_model(minilm.id, None)
    win = make_window()
    win.opener.cache_dir = tmp_path / "cache"
    win.open_path(path)
    wait_open(qtbot, win)
    assert win.ws.project.model_id == minilm.id
    for n in (1, 2, 1):
        qtbot.keyClick(win, class_key(n))
    win.ctl.flush()
    labels = dict(win.ctl.session.labels)
    assert len(labels) == 3
    choices = other_cards("text", minilm.id)
    assert default_card("text").id in [c.id for c in choices]
    win.reembed.reembed(default_card("text"))
    qtbot.waitUntil(
        lambda: (
            win.ws is not None and win.ctl is not None and win.ws.project.model_id == default_card("text").id
        ),
        timeout=300_000,
    )
    wait_open(qtbot, win)
    assert dict(win.ctl.session.labels) == labels  # every label kept
    assert bundled_card_by_id(win.ws.project.model_id, "text") is not None
    assert win.ctl.session.X.shape[1] == default_card("text").dim
