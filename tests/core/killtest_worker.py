"""Worker for the kill -9 tests: labels items of a project in a loop until it is killed (test_durability), or,
with ``open`` as its first argument, opens and closes the project in a loop (each open makes a backup) until it is
killed (test_project_safety: kills during the open-time backup).

Prints "TRY <item> <class>" before each label and "ACK <item> <class>" once the journal (the commit) returned,
flushing each line, so the parent knows exactly which labels the user would have seen acknowledged; in the open
loop "OPENED <n>" after each open. Imports no ONNX: synthetic vectors only.
"""

from __future__ import annotations

import sys

import numpy as np

from aldesk.core.project import Project


def main(path: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = Project.open(path)
    v = np.random.default_rng(0).normal(size=(p.n_items, 16)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    session = p.open_session(v)
    out = sys.stdout
    out.write("READY\n")
    out.flush()
    while True:
        item = int(rng.integers(p.n_items))
        cls = session.classes[int(rng.integers(len(session.classes)))]
        out.write(f"TRY {item} {cls}\n")
        out.flush()
        session.label(item, cls)
        out.write(f"ACK {item} {cls}\n")
        out.flush()


def open_loop(path: str) -> None:
    n = 0
    while True:
        p = Project.open(path)
        n += 1
        sys.stdout.write(f"OPENED {n}\n")
        sys.stdout.flush()
        p.close()


if __name__ == "__main__":
    if sys.argv[1] == "open":
        open_loop(sys.argv[2])
    else:
        main(sys.argv[1], int(sys.argv[2]))
