"""Worker for test_durability: labels items of a project in a loop until it is killed.

Prints "TRY <item> <class>" before each label and "ACK <item> <class>" once the journal (the commit) returned,
flushing each line, so the parent knows exactly which labels the user would have seen acknowledged.
Imports no ONNX: synthetic vectors only.
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


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
