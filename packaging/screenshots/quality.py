"""The README's label-quality screenshots: the review queue, the stopping line, and File › Compare with….

    xvfb-run -a python packaging/screenshots/quality.py [--out docs/screenshots]

Opens the bundled Fashion-MNIST demo in the real main window (fresh settings and project) and gives 150 TRUE
labels (the demo knows them) of which a few are planted slips (a bag called trouser, ...), with real key presses
on the labeling view as a user does. Then: Ctrl+R (the review queue's tab) -> review-queue.png; the Accuracy tab
with its stopping line -> stopping-line.png; a second labeler's project (the same labels, 12 of them different)
compared with File › Compare with… -> compare.png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shot_env import ROOT, isolate, pause, wait  # noqa: E402 - beside this script

_PROFILE = isolate("aldesk-quality-")

W, H = 1400, 860
SLIPS = {"bag": "trouser", "trouser": "sandal", "sandal": "bag", "sneaker": "shirt"}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--labels", type=int, default=150)
    args = ap.parse_args()

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QFontDatabase
    from PySide6.QtTest import QTest

    from aldesk.core.dataset import Dataset
    from aldesk.core.labeling.actions import Action
    from aldesk.core.project import Project
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
    ds, classes = ctl.ws.dataset, ctl.session.classes
    slips: dict[str, int] = {}
    for _ in range(args.labels):
        item = ctl.current
        true = ds.known_labels[item]
        given = true
        if true in SLIPS and slips.get(true, 0) < 2 and ctl.session.n_labeled > 40:
            given = SLIPS[true]
            slips[true] = slips.get(true, 0) + 1
        QTest.keyClick(win, Qt.Key(Qt.Key.Key_0.value + (classes.index(given) + 1) % 10))
        pause(app, 0.05)
    ctl.flush()
    args.out.mkdir(parents=True, exist_ok=True)

    # 1. The review queue.
    QTest.keyClick(win, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    wait(
        app,
        lambda: win.quality.review_view is not None and win.tabs.currentIndex() == 2,
        120,
        "review",
    )
    pause(app, 0.5)
    win.grab().save(str(args.out / "review-queue.png"))
    QTest.keyClick(win.quality.review_view, Qt.Key.Key_Escape)

    # 2. The stopping line in the Accuracy tab.
    plots = win.ensure_plots()
    plots.tabs.setCurrentWidget(plots.accuracy)
    plots.flush()
    pause(app, 1.0)
    print(plots.accuracy.stopping.text(), file=sys.stderr)
    win.grab().save(str(args.out / "stopping-line.png"))

    # 3. A second labeler's project: the same images, the same labels but 12.
    project = win.ws.project
    keys = project.dataset()
    second = Path(_PROFILE) / "second-labeler.aldesk"
    b = Project.create(second, Dataset("image", keys.root, keys.keys), classes, model_id=project.model_id)
    theirs = dict(ctl.session.labels)
    for i in sorted(theirs)[::12][:12]:
        theirs[i] = "shirt" if theirs[i] != "shirt" else "t-shirt"
    acts = []
    for c in classes:
        items = tuple(i for i, lab in theirs.items() if lab == c)
        if items:
            acts.append(Action("label", items, c, (None,) * len(items), "user", seq=len(acts)))
    b.journal_many(acts)
    b.close()
    win.quality.compare_with(second)
    wait(app, lambda: win.quality.compare_dialog is not None, 60, "the comparison")
    dlg = win.quality.compare_dialog
    dlg.resize(760, 620)
    pause(app, 0.5)
    dlg.grab().save(str(args.out / "compare.png"))
    for name in ("review-queue.png", "stopping-line.png", "compare.png"):
        print(args.out / name)
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
