"""aldesk turns numpy's huge-page advice off in its entry points (aldesk/core/memory.py): checked in fresh
processes, since the switch is process-wide. numpy's own switch returns its previous state, which is what these
tests read."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

READ_SWITCH = """
import json, os, sys
{before}
from numpy._core import multiarray
was_on = multiarray._set_madvise_hugepage(True)  # returns the state before this call
print(json.dumps({{"numpy_advice_was_on": bool(was_on), "env": os.environ.get("NUMPY_MADVISE_HUGEPAGE"),
                  "turned_off": turned_off}}))
"""


def _run(before: str, env_value: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if env_value is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = env_value
    code = READ_SWITCH.format(before=before)
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_numpy_advises_huge_pages_unless_told():
    # the baseline these tests rely on: without aldesk, numpy's advice is on (where the kernel has the call)
    got = _run("import numpy\nturned_off = None")
    if not got["numpy_advice_was_on"]:
        pytest.skip("numpy does not advise huge pages on this kernel (older than 4.6)")
    assert got["env"] is None


def test_turned_off_before_numpy_is_imported():
    got = _run(
        "from aldesk.core.memory import no_huge_page_advice\n"
        "turned_off = no_huge_page_advice()\n"
        "assert 'numpy' not in sys.modules  # the call imports nothing\n"
        "import numpy"
    )
    assert got == {"numpy_advice_was_on": False, "env": "0", "turned_off": True}


def test_turned_off_after_numpy_is_imported():
    got = _run(
        "import numpy\nfrom aldesk.core.memory import no_huge_page_advice\nturned_off = no_huge_page_advice()"
    )
    assert got == {"numpy_advice_was_on": False, "env": "0", "turned_off": True}


def test_the_users_own_setting_is_kept():
    got = _run("from aldesk.core.memory import no_huge_page_advice\nturned_off = no_huge_page_advice()", "1")
    assert got == {"numpy_advice_was_on": True, "env": "1", "turned_off": False}


def test_the_cli_turns_it_off():
    got = _run(
        "from aldesk.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stderr(io.StringIO()):\n"
        "    assert main(['info', '/nonexistent/none.aldesk']) != 0  # a command ran (and failed in one line)\n"
        "turned_off = None"
    )
    assert got["numpy_advice_was_on"] is False and got["env"] == "0"


def test_the_window_turns_it_off():
    got = _run(
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from aldesk.ui.shell.app import make_app\n"
        "app = make_app([])\n"
        "turned_off = None"
    )
    assert got["numpy_advice_was_on"] is False and got["env"] == "0"
