"""Typed project settings: a project whose settings were written the old way (no version row, the raw keys)
reads the same; bad values are dropped on reading and refused, in one line, on constructing; saving stamps the
version; reading writes nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aldesk.app import settings as st
from aldesk.app.settings import ProjectSettings, read_settings, save_settings
from aldesk.core.dataset import Dataset
from aldesk.core.progress import UserError
from aldesk.core.project import Project


def _project(path: Path) -> Project:
    ds = Dataset("text", path.with_suffix(".csv"), [f"text {i}" for i in range(20)])
    return Project.create(path, ds, ["a", "b"], model_id="synthetic")


def test_settings_written_the_old_way_read_the_same(tmp_path):
    with _project(tmp_path / "old.aldesk") as p:
        # what the Settings dialog, the controller and the hints stored before there was a settings version
        p.set_setting("session/strategy", "entropy*knn_density*diversity")
        p.set_setting("session/k", 5)
        p.set_setting("session/audit_every", 7)
        p.set_setting("ui/hints_seen", True)
        p.set_setting("view/current", 12)
    with Project.open(tmp_path / "old.aldesk", readonly=True) as p:
        s = read_settings(p)
    assert s == ProjectSettings(
        strategy="entropy*knn_density*diversity", k=5, audit_every=7, hints_seen=True, view_current=12
    )
    kw = s.session_kwargs()
    assert kw["k"] == 5 and kw["audit_every"] == 7 and kw["strategy"].name == "entropy*knn_density*diversity"


def test_version_0_values_are_migrated(tmp_path):
    with _project(tmp_path / "v0.aldesk") as p:
        p.set_setting("session/strategy", "  UID ")  # saved as typed
        p.set_setting("session/k", 3.0)  # a hand edit: a JSON float
        p.set_setting("session/audit_every", 0.0)
        s = read_settings(p)
        assert (s.strategy, s.k, s.audit_every) == ("uid", 3, 0)
        assert (
            p.get_setting(st.VERSION_KEY) is None and p.get_setting("session/k") == 3.0
        )  # reading wrote nothing
        save_settings(p, s.replace(k=4), s)
        # the first save at this version rewrites every row as version 1 stores them, then the version
        assert p.get_setting(st.VERSION_KEY) == st.VERSION
        assert p.get_setting("session/strategy") == "uid" and p.get_setting("session/audit_every") == 0
        assert p.get_setting("session/k") == 4
        assert read_settings(p) == s.replace(k=4)
    # the same float at version 1 is not an int: dropped for the default (v1 writes ints)
    assert st.from_raw(st.migrate({"session/k": 3.0}, st.VERSION)).k == st.DEFAULT_K
    assert st.from_raw(st.migrate({"session/k": 3.0}, 0)).k == 3


def test_unreadable_values_fall_back_to_the_defaults(tmp_path):
    with _project(tmp_path / "bad.aldesk") as p:
        p.set_setting("session/strategy", "entropy*bogus")
        p.set_setting("session/k", 0)
        p.set_setting("session/audit_every", -3)
        p.set_setting("ui/hints_seen", "yes")
        p.set_setting("view/current", True)
        s = read_settings(p)
    assert s == ProjectSettings()  # a hand-edited project still opens, with the defaults
    assert s.session_kwargs() == {"strategy": s.session_kwargs()["strategy"], "k": st.DEFAULT_K}
    assert s.session_kwargs(default_audit_every=10)["audit_every"] == 10  # no own m: the caller's default


@pytest.mark.parametrize(
    "change, words",
    [
        ({"k": 0}, "k = 0"),
        ({"k": 1001}, "1000"),
        ({"k": True}, "k = True"),
        ({"audit_every": -1}, "audit"),
        ({"strategy": "entropy*bogus"}, "bogus"),
        ({"strategy": 3}, "strategy"),
        ({"view_current": -2}, "view"),
    ],
)
def test_bad_values_are_one_line_user_errors(change, words):
    with pytest.raises(UserError) as err:
        ProjectSettings().replace(**change)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_save_writes_only_what_changed(tmp_path):
    with _project(tmp_path / "p.aldesk") as p:
        save_settings(p, ProjectSettings(k=6))
        assert p.get_setting("session/k") == 6 and p.get_setting(st.VERSION_KEY) == st.VERSION
        assert p.get_setting("session/audit_every") is None  # None: no own value, no row
        p.set_setting("view/current", 9)  # the controller's own write, by key
        save_settings(p, read_settings(p).replace(strategy="margin"), read_settings(p))
        assert read_settings(p) == ProjectSettings(strategy="margin", k=6, view_current=9)


def test_the_window_reads_settings_through_the_app_layer(tmp_path):
    """The opener's keywords (aldesk.ui.opening.opening.session_settings) are the app layer's: a session opened with
    them has the project's k and strategy."""
    from aldesk.ui.opening.opening import session_settings
    from aldesk.ui.settings.settings_dialog import AUDIT_SETTING, K_SETTING, STRATEGY_SETTING

    assert (STRATEGY_SETTING, K_SETTING, AUDIT_SETTING) == (
        st.STRATEGY_SETTING,
        st.K_SETTING,
        st.AUDIT_SETTING,
    )
    with _project(tmp_path / "p.aldesk") as p:
        p.set_setting(K_SETTING, 4)
        p.set_setting(STRATEGY_SETTING, "margin")
        session = p.open_session(
            np.random.default_rng(0).normal(size=(20, 8)).astype(np.float32), **session_settings(p)
        )
        assert session.knn.k == 4 and session.strategy.name == "margin"
