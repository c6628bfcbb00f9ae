"""The README's "window that fits" screenshot (issue 13.6): the real window, maximised by a real window manager on
a small screen, with the Map open, 12 classes and after 40 labels typed with xdotool.

    xvfb-run -a -s "-screen 0 1366x768x24 -dpi 96" python packaging/screenshots/fit.py \\
        [--out docs/screenshots/window-1366x768.png]

Starts openbox when it is installed (``apt-get install -y openbox``; without a window manager nothing maximises),
opens the bundled image demo (10 classes) in a fresh profile with two more classes, one with a long name, shows the
Map tab, types 40 labels (each item's true class, Shift+1 for class 11), grabs the whole screen with scrot and prints
the window's frame beside the screen's available area as JSON. Look at the picture. ``--picker sh`` opens the
class picker and types "sh" before the shot (docs/screenshots/picker.png).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from shot_env import ROOT, isolate, pause, wait  # noqa: E402 - beside this script

_PROFILE = isolate("aldesk-fit-")
EXTRA = ["bags and accessories of every kind", "other"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "window-1366x768.png")
    ap.add_argument("--labels", type=int, default=40)
    ap.add_argument("--picker", default="", help="open the class picker (/) and type this before the shot")
    args = ap.parse_args()
    for tool in ("xdotool", "scrot"):
        if shutil.which(tool) is None:
            print(f"fit.py: {tool} is missing", file=sys.stderr)
            return 1
    wm = subprocess.Popen(["openbox"], stderr=subprocess.DEVNULL) if shutil.which("openbox") else None
    time.sleep(1.0 if wm else 0)

    from aldesk.app.paths import demo_paths
    from aldesk.ui.shell.app import make_app
    from aldesk.ui.shell.main_window import MainWindow

    app = make_app(sys.argv[:1])
    data, project, classes = demo_paths("images")
    win = MainWindow()
    win.showMaximized()
    win.open_path(data, project, [*classes, *EXTRA])
    wait(app, lambda: win.ctl is not None and win.ctl.current is not None, 600, "the demo to open")
    wait(app, lambda: not win.runner.is_running("density"), 600, "the k-NN density")
    wait(app, lambda: win.plots is not None and win.plots.complete, 120, "the plots dock")
    win.plots.map.auto_umap = False  # PCA: UMAP's first compile takes 30-45 s
    win.plots.tabs.setCurrentWidget(win.plots.map)
    pause(app, 1.0)
    wid = str(int(win.winId()))
    subprocess.run(["xdotool", "windowactivate", "--sync", wid], check=False)
    ctl = win.ctl
    ds = ctl.ws.dataset
    names = ctl.session.classes
    for n in range(args.labels):
        item = ctl.current
        truth = ds.known_labels[item] if ds.known_labels else names[0]
        c = names.index(truth) + 1 if n != args.labels - 1 else 11  # the last one on Shift+1
        key = str(c % 10) if c <= 10 else f"shift+{c - 10}"
        subprocess.run(["xdotool", "key", "--window", wid, key], check=True)
        wait(app, lambda item=item: ctl.session.label_of(item) is not None, 10, f"the label of key {key}")
        pause(app, 0.15)
    ctl.flush()
    win.plots.flush()
    pause(app, 1.5)
    if args.picker:
        subprocess.run(["xdotool", "key", "--window", wid, "slash"], check=True)
        wait(
            app,
            lambda: any(w.objectName() == "class_picker" and w.isVisible() for w in app.topLevelWidgets()),
            10,
            "the picker",
        )
        pause(app, 0.5)
        subprocess.run(["xdotool", "type", "--delay", "80", args.picker], check=True)
        pause(app, 1.0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["scrot", "-o", str(args.out)], check=True)
    avail = win.screen().availableGeometry()
    fg = win.frameGeometry()
    report = {
        "screen": [avail.width(), avail.height()],
        "frame": [fg.x(), fg.y(), fg.width(), fg.height()],
        "inside": avail.contains(fg),
        "min_width": win.minimumSizeHint().width(),
        "labels": ctl.session.n_labeled,
        "out": str(args.out),
    }
    print(json.dumps(report))
    win.close()
    if wm is not None:
        wm.terminate()
    return 0 if report["inside"] else 2


if __name__ == "__main__":
    sys.exit(main())
