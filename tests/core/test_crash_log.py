"""A crash no Python handler sees (a segfault in a C extension) leaves its traceback in aldesk's log file, also
after the log rotated. Each test crashes a real second process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def _crash(tmp_path: Path, before: str = "", after: str = "") -> subprocess.CompletedProcess[str]:
    """A process that sets up aldesk's logging into ``tmp_path``, logs, runs ``after``, then segfaults."""
    code = (
        "import faulthandler, logging\n"
        "from aldesk import logsetup\n"
        f"{before}\n"
        f"logsetup.setup_logging({str(tmp_path)!r})\n"
        "logging.getLogger('aldesk.test').info('about to crash')\n"
        f"{after}\n"
        "def deep_in_the_app():\n    faulthandler._sigsegv()\n"
        "deep_in_the_app()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONFAULTHANDLER"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)


def test_a_segfault_is_written_into_the_log(tmp_path: Path) -> None:
    done = _crash(tmp_path)
    assert done.returncode == -signal.SIGSEGV
    log = (tmp_path / "aldesk.log").read_text(encoding="utf-8", errors="replace")
    assert "about to crash" in log
    assert "Fatal Python error: Segmentation fault" in log
    assert "deep_in_the_app" in log  # the Python stack of the crashing thread


def test_after_a_rotation_the_crash_goes_into_the_current_file(tmp_path: Path) -> None:
    done = _crash(
        tmp_path,
        before="logsetup.MAX_BYTES = 400",
        after="for i in range(40): logging.getLogger('aldesk.test').info('line %d of filler text', i)",
    )
    assert done.returncode == -signal.SIGSEGV
    assert (tmp_path / "aldesk.log.1").exists()  # it did rotate
    current = (tmp_path / "aldesk.log").read_text(encoding="utf-8", errors="replace")
    assert "Fatal Python error: Segmentation fault" in current
    for old in tmp_path.glob("aldesk.log.*"):
        assert "Fatal Python error" not in old.read_text(encoding="utf-8", errors="replace")
