"""Every class on a key, with real key strokes (issue 13 "Done means"): the real app under Xvfb on a 12-class
project, driven by xdotool: Shift+1 labels class 11, the picker (/, type, Enter) labels class 12, a third label
is undone with Ctrl+Z and so is the picker's, Ctrl+Shift+Z redoes the picker's; Ctrl+Q quits. The project file
then holds exactly those labels, and a redo and the one undone label still waiting to be redone in its log."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import aldesk
from aldesk.core.project import Project
from tests.ui.helpers import drive_app_under_xvfb

DATA = Path(aldesk.__file__).parent / "resources" / "demo" / "texts.csv"
CLASSES = [f"c{n:02d}" for n in range(1, 11)] + ["eleven", "twelve"]


@pytest.mark.slow
@pytest.mark.skipif(
    not (shutil.which("xvfb-run") and shutil.which("xdotool")), reason="needs xvfb-run and xdotool"
)
def test_shift_digit_picker_undo_redo_with_real_keys(tmp_path: Path) -> None:
    project = tmp_path / "twelve.aldesk"
    r = drive_app_under_xvfb(
        DATA,
        project,
        ",".join(CLASSES),
        """
sleep 4  # the background k-NN density lands before the first key
xdotool key shift+1; sleep 0.6
xdotool key slash; sleep 1
xdotool type --delay 80 twel; sleep 0.5
xdotool key Return; sleep 0.8
xdotool key 1; sleep 0.6
xdotool key ctrl+z; sleep 0.6
xdotool key ctrl+z; sleep 0.6
xdotool key ctrl+shift+z; sleep 0.6
xdotool key ctrl+q
wait $app
""",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    with Project.open(project) as p:
        labels = p.labels()
        ops = [a.op for a in p.actions()]
        s = p.open_session(_vectors(p))
    assert sorted(labels.values()) == ["eleven", "twelve"], (labels, ops)
    assert ops.count("label") == 3 and ops.count("undo") == 2 and ops.count("redo") == 1
    assert [a.cls for e in s.redo_stack for a in e] == ["c01"]  # the undone label of class 1, redoable


def _vectors(p: Project):
    import numpy as np

    return np.zeros((p.n_items, 4), dtype=np.float32)
