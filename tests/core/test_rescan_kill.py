"""A rescan killed with SIGKILL at any moment leaves the project as it was before or as it is after, never between:
20 rounds, each growing and shrinking the CSV by 5,000 rows, killed at random moments of the open, the plan and the
one write transaction (tests/core/rescan_killtest_worker.py)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from aldesk.cli import main
from aldesk.core.project import Project

WORKER = Path(__file__).with_name("rescan_killtest_worker.py")
ROUNDS = 20
BASE = [f"text number {i},{'ab'[i % 2]}" for i in range(100)]


def _state(path: Path) -> dict:
    con = sqlite3.connect(path)  # as the next aldesk would: replays what the -wal holds
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return {
            "keys": [k for (k,) in con.execute("SELECT key FROM items ORDER BY id")],
            "missing": {k for (k,) in con.execute("SELECT key FROM items WHERE missing != 0")},
            "labels": con.execute("SELECT * FROM labels ORDER BY item").fetchall(),
            "ops": [o for (o,) in con.execute("SELECT op FROM actions ORDER BY seq")],
        }
    finally:
        con.close()


@pytest.mark.slow  # ~1-3 s a round (a Python process each) on the 2-core CI
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_rescan_killed_at_any_moment_is_before_or_after(tmp_path) -> None:
    csv, proj = tmp_path / "t.csv", tmp_path / "t.aldesk"
    csv.write_text("text,label\n" + "\n".join(BASE) + "\n", encoding="utf-8")
    assert main(["init", str(csv), "--project", str(proj)]) == 0
    labels = tmp_path / "labels.csv"
    labels.write_text("item,label\ntext number 3,a\ntext number 4,b\n", encoding="utf-8")
    assert main(["import-labels", str(proj), str(labels)]) == 0
    rng = np.random.default_rng(7)
    outcomes = {"before": 0, "after": 0}
    for r in range(ROUNDS):
        texts = [*BASE, *(f"round {r} text {j},a" for j in range(5000))]
        csv.write_text("text,label\n" + "\n".join(texts) + "\n", encoding="utf-8")
        now = {t.rsplit(",", 1)[0] for t in texts}
        before = _state(proj)
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(proj)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        if r % 5 == 0:  # at once: as before, whatever the machine's load
            pass
        elif r % 5 == 1:  # once it is done: as after
            assert proc.stdout.readline().startswith("PLANNED")
            assert proc.stdout.readline().startswith("DONE")
        elif rng.random() < 0.8:  # at a random moment of the write
            assert proc.stdout.readline().startswith("PLANNED")
            time.sleep(float(rng.uniform(0.0, 0.2)))
        else:  # of the start, the open or the plan
            time.sleep(float(rng.uniform(0.0, 1.0)))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        after = _state(proj)
        assert after["labels"] == before["labels"], f"round {r}: labels changed"
        if after == before:
            outcomes["before"] += 1
            continue
        outcomes["after"] += 1
        old = before["keys"]
        assert after["keys"][: len(old)] == old, f"round {r}: old items moved"
        assert set(after["keys"]) == set(old) | now, f"round {r}: not the whole rescan"
        assert after["missing"] == set(after["keys"]) - now, f"round {r}: missing marks half written"
        assert after["ops"] == [*before["ops"], "rescan"], f"round {r}: the rescan is not one logged action"
    with Project.open(proj) as p:  # and it opens as a project
        assert p.labels() == {3: "a", 4: "b"}
    assert outcomes["before"] and outcomes["after"], (
        outcomes
    )  # both ends were reached: kills landed throughout
