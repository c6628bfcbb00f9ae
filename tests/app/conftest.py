"""Helpers of the app-layer tests: the aldesk command in a real second process, small real data, a real
read-only mount."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import aldesk
from tests.tmpfs import mounted_tmpfs

DEMO = Path(aldesk.__file__).parent / "resources" / "demo"


def cli(*args: str, home: Path, pre: str = "") -> subprocess.CompletedProcess:
    """``python -m aldesk ARGS`` with a home, a data folder and a cache of its own. ``pre``: Python run first
    in the same process (e.g. a meta-path blocker)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    code = f"{pre}\nimport sys\nfrom aldesk.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=600, check=False
    )


def write_images(folder: Path, per_class: int = 3) -> None:
    """An ImageFolder layout of small, distinct real PNGs (two classes)."""
    from PIL import Image, ImageDraw

    for c, colour in (("cat", (200, 60, 40)), ("dog", (40, 90, 200))):
        (folder / c).mkdir(parents=True)
        for i in range(per_class):
            img = Image.new("RGB", (48, 48), colour)
            ImageDraw.Draw(img).ellipse([4 + 5 * i, 6, 30 + 5 * i, 40], fill=(250, 250, 250))
            img.save(folder / c / f"{c}{i}.png")


@pytest.fixture
def ro_mount(tmp_path: Path) -> Iterator[Path]:
    """A real tmpfs, filled by the test and then remounted read-only (root writes to a chmod-ed folder anyway;
    a read-only mount refuses everyone)."""
    with mounted_tmpfs(tmp_path / "mnt", "4m") as mnt:
        yield mnt


def remount_ro(mnt: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
    assert not os.access(mnt, os.W_OK)  # EROFS, even for root
