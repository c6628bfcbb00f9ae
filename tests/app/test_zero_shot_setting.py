"""The zero-shot descriptions as a project setting: saved and read back as typed, an older project (no row) and a
damaged row read as off, and a bad value is refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from aldesk.app.settings import ZERO_SHOT_SETTING, ProjectSettings, read_settings, save_settings
from aldesk.core.dataset import Dataset
from aldesk.core.progress import UserError
from aldesk.core.project import Project


def _project(path: Path) -> Project:
    ds = Dataset("text", path.with_suffix(".csv"), [f"text {i}" for i in range(20)])
    return Project.create(path, ds, ["fresh", "rotten"], model_id="synthetic")


def test_descriptions_round_trip_and_old_projects_read_as_off(tmp_path: Path) -> None:
    with _project(tmp_path / "p.aldesk") as p:
        assert read_settings(p).zero_shot == {}  # no row: an older project, zero-shot off
        new = read_settings(p).replace(zero_shot={"fresh": "a positive movie review"})
        save_settings(p, new)
    with Project.open(tmp_path / "p.aldesk", readonly=True) as p:
        assert p.get_setting(ZERO_SHOT_SETTING, None) == {"fresh": "a positive movie review"}
        assert read_settings(p).zero_shot == {"fresh": "a positive movie review"}


@pytest.mark.parametrize("bad", [["fresh"], {"fresh": 3}, {"fresh": "  "}, {"fresh": "x" * 501}, "fresh"])
def test_a_damaged_row_reads_as_off_and_a_bad_value_is_refused(tmp_path: Path, bad) -> None:
    with _project(tmp_path / "p.aldesk") as p:
        p.set_setting(ZERO_SHOT_SETTING, bad)  # a hand edit
        assert read_settings(p).zero_shot == {}
    with pytest.raises(UserError, match="zero-shot descriptions") as err:
        ProjectSettings(zero_shot=bad)
    assert "\n" not in str(err.value)
