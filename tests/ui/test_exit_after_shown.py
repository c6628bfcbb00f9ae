"""ALDESK_EXIT_AFTER_SHOWN: the real `python -m aldesk` start-up, quitting once the window has painted."""

from __future__ import annotations

import os
import subprocess
import sys
import time


def test_exit_after_shown_prints_time_and_quits(tmp_path):
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        ALDESK_EXIT_AFTER_SHOWN="1",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        ALDESK_LOG_DIR=str(tmp_path / "logs"),
    )
    t0 = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "aldesk"], check=False, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("aldesk-shown ")]
    assert len(lines) == 1
    assert t0 < float(lines[0].split()[1]) <= time.time()
