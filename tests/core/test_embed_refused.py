"""The embedder reads only files inside the data folder: a crafted item key, or a link out of the folder, is a
failed item with its reason, never read (real ONNX embedding of a real demo image beside them)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

import aldesk
from aldesk.core.dataset import Dataset
from aldesk.core.embed import default_card, embed_dataset

DEMO = Path(aldesk.__file__).parent / "resources" / "demo" / "images"


def test_items_outside_the_data_folder_fail_with_their_reason_and_are_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "home" / "secret.png"
    secret.parent.mkdir()
    good = next((DEMO / "bag").glob("*.png"))
    shutil.copy(good, secret)  # a real image: if it were read, it would embed without any complaint
    root = tmp_path / "data"
    (root / "bag").mkdir(parents=True)
    shutil.copy(good, root / "bag" / "1.png")
    os.symlink(secret, root / "bag" / "2.png")
    os.mkfifo(root / "bag" / "fifo.png")  # would block a reader forever
    keys = ["bag/1.png", "bag/2.png", "bag/fifo.png", str(secret), "../home/secret.png"]
    res = embed_dataset(Dataset("image", root, keys), default_card("image"), cache_dir=tmp_path / "cache")
    reasons = {p.key: p.reason for p in res.failed}
    assert set(reasons) == set(keys[1:]), reasons
    assert "outside the data folder" in reasons["bag/2.png"]
    assert "not a regular file" in reasons["bag/fifo.png"]
    assert "absolute path" in reasons[str(secret)] and "'..'" in reasons["../home/secret.png"]
    assert not any("empty" in r for r in reasons.values())  # the reason, not the stand-in it is replaced by
    assert res.ok.tolist() == [True, False, False, False, False]
    assert np.isfinite(res.vectors[0]).all() and np.linalg.norm(res.vectors[0]) > 0.5
