"""``open_workspace``: data -> project (created, or found at the one default path) -> embedded (real ONNX) ->
a session with the project's saved settings; read-only, it writes nothing and creates nothing."""

from __future__ import annotations

import pytest

from aldesk.app.settings import K_SETTING, STRATEGY_SETTING
from aldesk.app.workspace import open_workspace
from aldesk.core.progress import UserError
from tests.app.conftest import write_images


def test_open_creates_then_reopens_with_the_saved_settings(tmp_path):
    data = tmp_path / "photos"
    write_images(data)
    cache = tmp_path / "cache"
    seen: list[str] = []
    ws = open_workspace(data, classes=["cat", "dog"], cache_dir=cache, progress=lambda f, m: seen.append(m))
    try:
        assert ws.project.path == tmp_path / "photos.aldesk" and ws.title == "photos.aldesk"
        assert ws.session.X.shape[0] == 6 and ws.vectors_key and seen  # embedded, with progress
        ws.session.label(0, "cat")
        ws.session.label(3, "dog")
        ws.project.set_setting(K_SETTING, 2)
        ws.project.set_setting(STRATEGY_SETTING, "margin")
    finally:
        ws.close()

    ws = open_workspace(data, cache_dir=cache)  # the same default path: reopened, not a second project
    try:
        assert ws.project.path == tmp_path / "photos.aldesk"
        assert ws.session.knn.k == 2 and ws.session.strategy.name == "margin"
        assert ws.settings.k == 2 and ws.session.labels == {0: "cat", 3: "dog"}
    finally:
        ws.close()

    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("photos.aldesk")}
    ws = open_workspace(tmp_path / "photos.aldesk", readonly=True, cache_dir=cache)
    try:
        assert ws.session.knn.k == 2 and ws.session.labels == {0: "cat", 3: "dog"}
    finally:
        ws.close()
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("photos.aldesk")}
    assert after == before  # read-only: no hashes stored, no lock, no -wal, no backup


def test_read_only_never_creates(tmp_path):
    data = tmp_path / "photos"
    write_images(data, per_class=1)
    with pytest.raises(UserError, match="does not exist"):
        open_workspace(data, readonly=True, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "photos.aldesk").exists()
