"""What every screenshot script here shares: a throw-away profile (no user settings in, none out; a fresh demo
project), the repo root, and waiting on the Qt event loop."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def isolate(prefix: str) -> Path:
    """Point aldesk's config and data folders at a new temporary profile; call before aldesk or Qt is imported."""
    profile = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["XDG_CONFIG_HOME"] = str(profile / "config")
    os.environ["XDG_DATA_HOME"] = str(profile / "data")
    return profile


def pause(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def wait(app, cond, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise SystemExit(f"{Path(sys.argv[0]).name}: timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)
