"""The README's overview screenshot: the whole window labeling the image demo, with the plots dock.

    python packaging/screenshots/overview.py [--out docs/screenshots/overview.png] [--labels 120]

Opens the bundled Fashion-MNIST demo in the real main window (fresh settings and project), then plays a careful
user: for each item shown it presses the number key of the item's TRUE class (the demo knows them), pausing after
each key so the pool is re-ranked and audit items are drawn, as in real use. The window is then grabbed as is:
candidate strip, the current item with its suggestion, the why panel, and the accuracy tab with the audit
estimate and its band. Runs offscreen (or under Xvfb: ``xvfb-run -a python …``); the embedding cache is the
user's, so a second run embeds nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from shot_env import ROOT, isolate, pause, wait  # noqa: E402 - beside this script

_PROFILE = isolate("aldesk-overview-")

W, H = 1400, 860


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "overview.png")
    ap.add_argument(
        "--labels", type=int, default=120, help="true labels given with key presses before the shot"
    )
    ap.add_argument("--pause", type=float, default=0.25, help="seconds between two keys (the user's pace)")
    args = ap.parse_args()

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QFontDatabase
    from PySide6.QtTest import QTest

    from aldesk.ui.shell.app import make_app
    from aldesk.ui.shell.main_window import MainWindow

    app = make_app(sys.argv[:1])
    if not QFontDatabase.families():
        print("no fonts: text would draw as boxes; install fonts-dejavu-core", file=sys.stderr)
        return 1
    win = MainWindow()
    win.resize(W, H)
    win.show()
    win.activateWindow()
    win.open_demo("images")
    wait(app, lambda: win.ctl is not None and win.ctl.current is not None, 600, "the demo to open")
    wait(app, lambda: not win.runner.is_running("density"), 600, "the k-NN density")
    ctl = win.ctl
    ds = ctl.ws.dataset
    classes = ctl.session.classes
    assert ds.known_labels is not None

    def label_one() -> None:
        item = ctl.current
        n = classes.index(ds.known_labels[item]) + 1
        QTest.keyClick(win, Qt.Key(Qt.Key.Key_0.value + n % 10))  # the user's key: 1…9, 0 for class 10
        assert ctl.session.label_of(item) == ds.known_labels[item], "a key press did not label the item"
        # The user's pause, a fast one: the pool is re-ranked (the next audit item drawn), the charts redrawn.
        pause(app, args.pause)

    for _ in range(args.labels):
        label_one()
    while (c := ctl.candidate()) is not None and c.audit:
        label_one()  # end on a strategy pick: its why panel shows S = U·I·D (an audit item has none)
    win.ensure_plots()
    win.plots.tabs.setCurrentWidget(win.plots.accuracy)
    win.plots.flush()
    pause(app, 1.5)  # thumbnails of the strip and the neighbours
    s = ctl.session
    est = win.plots.accuracy.estimate()
    print(f"{s.n_labeled} labels, {len(s.audit_records())} audits, estimate {est}", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not win.grab().save(str(args.out)):
        print(f"could not write {args.out}", file=sys.stderr)
        return 1
    print(args.out)
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
