"""The grid in the real app under Xvfb with xdotool keys: G, Space on one item, one class key labels the other 19 of
the page (origin "grid" in the file); after a restart one Ctrl+Z undoes the whole page."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import aldesk
from aldesk.core.project import Project
from tests.ui.helpers import drive_app_under_xvfb

DATA = Path(aldesk.__file__).parent / "resources" / "demo" / "texts.csv"


@pytest.mark.slow
@pytest.mark.skipif(
    not (shutil.which("xvfb-run") and shutil.which("xdotool")), reason="needs xvfb-run and xdotool"
)
def test_a_grid_page_by_xdotool_keys_and_one_ctrl_z_after_a_restart(tmp_path: Path) -> None:
    project = tmp_path / "g.aldesk"
    keys = "1 2 1 2 g Right space 2"
    r = drive_app_under_xvfb(
        DATA,
        project,
        "fresh,rotten",
        f"""
sleep 4
for k in {keys}; do xdotool key "$k"; sleep 0.5; done
sleep 1
xdotool key ctrl+q
wait $app
""",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    with Project.open(project, readonly=True) as p:
        rows = p.label_rows()
    grid = [r for r in rows if r.origin == "grid"]
    assert len(rows) == 23 and len(grid) == 19, [(r.item, r.origin) for r in rows]
    assert {r.cls for r in grid} == {"rotten"}
    typed = {r.item for r in rows if r.origin != "grid"}
    assert len(typed) == 4

    r = drive_app_under_xvfb(
        DATA,
        project,
        "fresh,rotten",
        """
sleep 3
xdotool key ctrl+z
sleep 1
xdotool key ctrl+q
wait $app
""",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    with Project.open(project, readonly=True) as p:
        assert {r.item for r in p.label_rows()} == typed  # the 19 went with one undo
