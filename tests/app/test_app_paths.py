"""One default project path: ``aldesk init DATA`` and the window's open of DATA (what ``aldesk open DATA`` runs)
find the same project, also when the data sits in a folder that cannot be written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aldesk.app.paths import default_project_path, demo_paths
from tests.app.conftest import cli, remount_ro, write_images


def _open_in_window(qtbot, data: Path, cache: Path):
    """The window's opener on ``data``: the workspace it opens, or None when it asked for a new project's set-up
    (that is: it did not find the project init made)."""
    from aldesk.ui.opening.opening import Opener
    from aldesk.ui.shell.tasks import TaskRunner

    runner = TaskRunner()
    opener = Opener(runner)
    opener.cache_dir = cache
    got: list[object] = []
    opener.ready.connect(got.append)
    opener.need_setup.connect(lambda req: got.append(None))
    opener.error.connect(lambda err: got.append(f"open failed: {err.message}"))
    try:
        opener.open_path(data)
        qtbot.waitUntil(lambda: bool(got), timeout=300_000)
    finally:
        runner.shutdown()
    return got[0]


def _init_then_open(qtbot, data: Path, home: Path, monkeypatch) -> tuple[Path, object]:
    r = cli("init", str(data), home=home)
    assert r.returncode == 0, r.stderr
    created = Path(r.stdout.split("created ", 1)[1].split(":", 1)[0])
    assert created.is_file()
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))  # the window sees the user folder init used
    ws = _open_in_window(qtbot, data, home / "cache")
    return created, ws


def test_init_and_open_agree_on_a_read_only_mount(qtbot, ro_mount, tmp_path, monkeypatch):
    data = ro_mount / "photos"
    write_images(data)
    remount_ro(ro_mount)
    created, ws = _init_then_open(qtbot, data, tmp_path / "home", monkeypatch)
    # not beside the data (it cannot be written there), in the user's projects folder
    assert created == tmp_path / "home" / "data" / "aldesk" / "projects" / "photos.aldesk"
    assert not (ro_mount / "photos.aldesk").exists()
    assert ws is not None and not isinstance(ws, str), ws  # the window found it: no set-up dialog, no error
    try:
        assert Path(ws.project.path) == created and ws.session.classes == ["cat", "dog"]
        assert ws.session.X.shape[0] == 6 and ws.session.eligible.all()  # really embedded (ONNX), all six
    finally:
        ws.project.close()


def test_init_and_open_agree_on_a_chmod_read_only_folder(qtbot, tmp_path, monkeypatch):
    parent = tmp_path / "shared"
    data = parent / "photos"
    write_images(data)
    parent.chmod(0o555)
    try:
        created, ws = _init_then_open(qtbot, data, tmp_path / "home", monkeypatch)
    finally:
        parent.chmod(0o755)
    # root may write there (and so the project goes beside the data), another user may not: either way the same
    expected = parent / "photos.aldesk" if os.access(parent, os.W_OK) or os.geteuid() == 0 else None
    if expected is not None:
        assert created == expected
    assert ws is not None and not isinstance(ws, str), ws
    try:
        assert Path(ws.project.path) == created
    finally:
        ws.project.close()


def test_default_path_beside_writable_data_and_in_the_user_folder_otherwise(ro_mount, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    (tmp_path / "reviews.csv").write_text("text\nhello\n")
    assert default_project_path(tmp_path / "reviews.csv") == tmp_path / "reviews.aldesk"
    (ro_mount / "photos").mkdir()
    (ro_mount / "texts.csv").write_text("text\nhello\n")
    remount_ro(ro_mount)
    user = tmp_path / "data" / "aldesk" / "projects"
    assert default_project_path(ro_mount / "photos") == user / "photos.aldesk"
    assert default_project_path(ro_mount / "texts.csv") == user / "texts.aldesk"
    assert not user.exists()  # deciding the path creates nothing
    # a project an older `aldesk init` put in the user data folder itself is still found
    legacy = tmp_path / "data" / "aldesk" / "photos.aldesk"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"")
    assert default_project_path(ro_mount / "photos") == legacy


def test_demo_paths_come_from_the_app_layer(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    data, project, classes = demo_paths("texts")
    assert data.name == "texts.csv" and data.is_file() and classes == ["fresh", "rotten"]
    assert project == tmp_path / "data" / "aldesk" / "demo" / "demo-texts.aldesk" and project.parent.is_dir()
    data, _, classes = demo_paths("images")
    assert data.is_dir() and len(classes) == 10
    with pytest.raises(ValueError):
        demo_paths("video")


def test_no_ui_module_imports_the_cli():
    """The cycle ui/main_window -> cli/app_cmds -> ui/app -> ui/main_window is gone: the window takes what it
    shares with the CLI from aldesk.app, never from aldesk.cli."""
    import re

    import aldesk.ui

    ui = Path(aldesk.ui.__file__).parent
    offenders = [
        str(f.relative_to(ui))
        for f in ui.rglob("*.py")
        if re.search(r"^\s*(from|import)\s+aldesk\.cli\b", f.read_text(), re.MULTILINE)
    ]
    assert offenders == []
