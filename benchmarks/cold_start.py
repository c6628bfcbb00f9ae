"""Cold start: launch the app in a new process, time until its main window first paints.

    python benchmarks/cold_start.py [--runs 5] [--platform offscreen] [-- extra aldesk args]

Each run starts ``python -m aldesk`` (the start page) with ``ALDESK_EXIT_AFTER_SHOWN=1``: the app prints
``aldesk-shown <time.time()>`` when the window first paints and quits (aldesk/ui/shell/app.py). The figure is that
time minus the moment just before the process was spawned, so it includes interpreter start, imports, the
QApplication, building the window and the first paint. Settings, data and cache dirs are fresh temporary ones.
The first run also pays cold OS file caches for the Qt libraries if nothing loaded them before; the median
over runs is the warm figure. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one_run(platform: str, extra: list[str]) -> float:
    with tempfile.TemporaryDirectory(prefix="aldesk-cold-") as tmp:
        env = dict(
            os.environ,
            ALDESK_EXIT_AFTER_SHOWN="1",
            QT_QPA_PLATFORM=platform,
            XDG_CONFIG_HOME=f"{tmp}/config",
            XDG_DATA_HOME=f"{tmp}/data",
            XDG_CACHE_HOME=f"{tmp}/cache",
            ALDESK_LOG_DIR=f"{tmp}/logs",
        )
        t0 = time.time()
        done = subprocess.run(
            [sys.executable, "-m", "aldesk", *extra],
            check=False,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=Path(tmp),
        )
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("aldesk-shown ")]
        if done.returncode != 0 or not lines:
            raise SystemExit(
                f"aldesk did not show its window (exit {done.returncode}):\n{done.stderr[-2000:]}"
            )
        return float(lines[0].split()[1]) - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument(
        "--platform", default="offscreen", help="QT_QPA_PLATFORM (xcb under Xvfb for a real server)"
    )
    ap.add_argument("extra", nargs="*", help="arguments passed to aldesk")
    args = ap.parse_args()
    load = os.getloadavg()
    times = [one_run(args.platform, args.extra) for _ in range(args.runs)]
    # Interpreter start alone, as a floor: what no change to aldesk can remove.
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    python_s = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "platform": args.platform,
                "runs": args.runs,
                "first_s": round(times[0], 3),
                "median_s": round(statistics.median(times), 3),
                "max_s": round(max(times), 3),
                "python_startup_s": round(python_s, 3),
                "loadavg_before": [round(x, 2) for x in load],
            }
        )
    )


if __name__ == "__main__":
    main()
