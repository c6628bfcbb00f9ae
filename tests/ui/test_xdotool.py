"""The real app under Xvfb, driven by xdotool key strokes, quit with Ctrl+Q: the project holds exactly those labels.

The expected labels come from replaying the same keys on the same data in an offscreen window of this process
(the ranking is deterministic; keys are spaced so that the deferred re-rank runs between them in both).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

import aldesk
from aldesk.core.project import Project
from tests.ui.helpers import drive_app_under_xvfb, wait_open

KEYS = [
    "1",
    "2",
    "2",
    "space",
    "1",
    "ctrl+z",
    "2",
    "Return",
    "j",
    "1",
    "2",
    "ctrl+z",
    "ctrl+z",
    "1",
    "Return",
]
QT_KEYS = {
    "1": (Qt.Key.Key_1, Qt.KeyboardModifier.NoModifier),
    "2": (Qt.Key.Key_2, Qt.KeyboardModifier.NoModifier),
    "space": (Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier),
    "ctrl+z": (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier),
    "Return": (Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier),
    "j": (Qt.Key.Key_J, Qt.KeyboardModifier.NoModifier),
}
DATA = Path(aldesk.__file__).parent / "resources" / "demo" / "texts.csv"


@pytest.mark.slow
@pytest.mark.skipif(
    not (shutil.which("xvfb-run") and shutil.which("xdotool")), reason="needs xvfb-run and xdotool"
)
def test_xdotool_keys_then_ctrl_q_leave_exactly_those_labels(qtbot, make_window, tmp_path: Path) -> None:
    project = tmp_path / "x.aldesk"
    r = drive_app_under_xvfb(
        DATA,
        project,
        "fresh,rotten",
        f"""
sleep 4  # the background k-NN density lands (well under a second for 400 texts) before the first key
for k in {" ".join(KEYS)}; do xdotool key "$k"; sleep 0.5; done
xdotool key ctrl+q
wait $app
""",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    with Project.open(project) as p:
        got_labels, got_skipped, got_classes = p.labels(), p.skipped(), p.classes

    # The same keys, offscreen, on a fresh project of the same data.
    win = make_window()
    win.open_path(DATA, tmp_path / "replay.aldesk", ["fresh", "rotten"])
    wait_open(qtbot, win)
    qtbot.waitUntil(lambda: win.ctl.session.density_kind == "knn", timeout=60_000)
    win.ctl.flush()
    for k in KEYS:
        key, mod = QT_KEYS[k]
        qtbot.keyClick(win, key, mod)
        win.ctl.flush()
    want_labels = dict(win.ctl.session.labels)
    want_skipped = {int(i) for i in win.ctl.session.skipped.nonzero()[0]}
    win.close()

    assert len(want_labels) == 7  # 10 label keys, 3 undone
    assert got_labels == want_labels
    assert got_skipped == want_skipped
    assert got_classes == ["fresh", "rotten"]
