"""Worker for the project-lock tests: another aldesk process that has a project open for writing.

Prints "OPEN <pid>" once the project is open (and so locked), then obeys one command a line on stdin:
"label <item> <class>" journals a label and prints "OK"; "close" closes the project, prints "CLOSED" and exits.
Imports no ONNX and no Qt.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from aldesk.core.labeling.actions import Action
from aldesk.core.project import Project

WORKER = Path(__file__)


def start(path: Path) -> subprocess.Popen:
    """Start a holder of ``path`` and wait until it has the project open."""
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    line = proc.stdout.readline()
    assert line == f"OPEN {proc.pid}\n", line
    return proc


def command(proc: subprocess.Popen, line: str) -> str:
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    return proc.stdout.readline().strip()


def main(path: str) -> None:
    p = Project.open(path)
    print(f"OPEN {os.getpid()}", flush=True)
    seq = p.next_seq()
    for line in sys.stdin:
        op, *args = line.split()
        if op == "label":
            p.journal(Action("label", (int(args[0]),), args[1], (None,), "user", time.time(), seq))
            seq += 1
            print("OK", flush=True)
        elif op == "close":
            p.close()
            print("CLOSED", flush=True)
            return


if __name__ == "__main__":
    main(sys.argv[1])
