"""Shared helpers of the UI tests: synthetic workspaces and waiting for a project to open."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from aldesk.core import synthetic
from aldesk.core.dataset import Dataset
from aldesk.core.labeling.session import Session
from aldesk.ui.labeling.controller import Workspace

OPEN_TIMEOUT_MS = 180_000  # first embedding of the image demo on 2 cores, with margin


def clustered(n: int, d: int = 384, k: int = 20, seed: int = 0) -> np.ndarray:
    return synthetic.clustered(n, d, k, seed=seed)[0]


def text_workspace(n: int = 300, classes: tuple[str, ...] = ("pos", "neg", "meh")) -> Workspace:
    X = clustered(n)
    ds = Dataset("text", Path("synthetic.csv"), [f"synthetic text number {i}" for i in range(n)])
    return Workspace(ds, Session(X, list(classes)), None, [], "synthetic")


def class_key(n: int) -> Qt.Key:
    return Qt.Key(Qt.Key.Key_0.value + n % 10)


def wait_open(qtbot, win) -> None:
    qtbot.waitUntil(lambda: win.ctl is not None and win.ctl.current is not None, timeout=OPEN_TIMEOUT_MS)


def wait_plots(qtbot, win):
    """The Plots dock, once the window has attached it to the open project (it comes a moment after the project:
    its modules are imported in a worker, then it is built in a later turn of the event loop)."""
    qtbot.waitUntil(
        lambda: win.plots is not None and win.plots.complete and win.plots.accuracy.ctl is win.ctl,
        timeout=60_000,
    )
    return win.plots


def state(win) -> dict:
    s = win.ctl.session
    return {
        "labels": dict(s.labels),
        "classes": list(s.classes),
        "skipped": sorted(int(i) for i in np.flatnonzero(s.skipped)),
        "history": [(a.op, a.items, a.cls, a.prev) for a in s.history],
    }


def drive_app_under_xvfb(data: Path, project: Path, classes: str, keys_script: str):
    """Start the real app on ``data`` under Xvfb, wait for its window, focus it, then run ``keys_script`` (bash,
    with ``$app`` = the app's pid). Returns the CompletedProcess of xvfb-run."""
    import os
    import subprocess
    import sys

    script = f"""
set -e
"{sys.executable}" -m aldesk open "{data}" --project "{project}" --classes {classes} &
app=$!
win=$(timeout 240 xdotool search --sync --name "aldesk — " | head -n1)
xdotool windowfocus --sync "$win"
{keys_script}
"""
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)  # the app runs on the Xvfb display, not offscreen
    return subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "bash", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
