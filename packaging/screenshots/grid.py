"""Screenshots of the grid and of the lasso's preview, in the real main window on the bundled demos.

    python packaging/screenshots/grid.py [--out docs/screenshots] [--labels 30]

grid-images.png    the image demo after a few true labels given with key presses: the Grid tab (key G), a page of
                   "predicted as <class>, most confident first", two items deselected with Space
grid-texts.png     the text demo: the grid of a typed search by meaning ("a scary horror film with ghosts")
lasso-preview.png  the image demo's map with a lasso round a cluster and the preview after a class key: the true
                   counts and the targets in a grid, the ones the k-NN predicts as another class first, in red
Runs offscreen or under Xvfb (``shoot.sh`` runs it there); fresh settings and projects, the user's embedding cache.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from shot_env import ROOT, isolate, pause, wait  # noqa: E402 - beside this script

_PROFILE = isolate("aldesk-grid-shots-")

W, H = 1400, 860


def open_demo(app, which: str, labels: int):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from aldesk.ui.shell.main_window import MainWindow

    win = MainWindow()
    win.resize(W, H)
    win.show()
    win.activateWindow()
    win.open_demo(which)
    wait(app, lambda: win.ctl is not None and win.ctl.current is not None, 600, f"the {which} demo to open")
    wait(app, lambda: not win.runner.is_running("density"), 600, "the k-NN density")
    ctl, ds = win.ctl, win.ctl.ws.dataset
    classes = ctl.session.classes
    for _ in range(labels):  # a careful user: the TRUE class's key for each item shown
        n = classes.index(ds.known_labels[ctl.current]) + 1
        QTest.keyClick(win, Qt.Key(Qt.Key.Key_0.value + n % 10))
        pause(app, 0.05)
    ctl.flush()
    return win


def save(win, path: Path) -> None:
    if not win.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(path)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--labels", type=int, default=30)
    args = ap.parse_args()
    import numpy as np
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QFontDatabase, QPainterPath, QPolygonF
    from PySide6.QtTest import QTest

    from aldesk.ui.shell.app import make_app

    app = make_app(sys.argv[:1])
    if not QFontDatabase.families():
        print("no fonts: text would draw as boxes; install fonts-dejavu-core", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)

    win = open_demo(app, "images", args.labels)
    ctl, ds = win.ctl, win.ctl.ws.dataset
    counts = dict.fromkeys(ctl.session.classes, 0)
    for c in ctl.session.predictions()[0][ctl.session.pool_mask()]:
        counts[ctl.session.classes[c]] += 1
    cls = max(counts, key=counts.get)  # the class with the most predicted items: a full page to confirm
    QTest.keyClick(win, Qt.Key.Key_G)
    win.grid.page_size.setValue(24)
    win.grid.show_predicted(cls)
    view = win.grid.view
    for step in (Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Space):
        QTest.keyClick(view, step)
    for step in (Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Space):
        QTest.keyClick(view, step)
    pause(app, 2.0)  # the thumbnails are decoded off the GUI thread
    save(win, args.out / "grid-images.png")

    # The lasso preview on the same project: the map, a lasso round the densest spot, class key of that spot.
    win.tabs.setCurrentIndex(0)
    plots = win.ensure_plots()
    plots.map.auto_umap = False
    plots.tabs.setCurrentWidget(plots.map)
    wait(app, lambda: plots.map.projection != "none", 120, "the map")
    plot = plots.map.plot
    centre = plot.pos[np.argmin(np.linalg.norm(plot.pos - np.median(plot.pos, axis=0), axis=1))]
    ang = np.linspace(0, 2 * np.pi, 48)
    r = 0.22 * (1 + 0.25 * np.sin(3 * ang))  # a hand-drawn, not circular, outline
    poly = np.c_[centre[0] + r * np.cos(ang), centre[1] + r * np.sin(ang)]
    path = QPainterPath()
    path.addPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in poly]))
    path.closeSubpath()
    plot.vb.outline.setPath(
        path
    )  # what a Shift+drag leaves drawn (tests/ui/test_grid_lasso.py drags for real)
    plot.vb.outline.show()
    plot._on_polygon(poly)
    sel = plot.selection
    known = [ds.known_labels[i] for i in sel if ctl.session.label_of(int(i)) is None]
    target = max(set(known), key=known.count)
    plot.setFocus()
    n = ctl.session.classes.index(target) + 1
    QTest.keyClick(plot, Qt.Key(Qt.Key.Key_0.value + n % 10))
    plots.flush()
    pause(app, 2.0)
    save(win, args.out / "lasso-preview.png")
    win.close()

    win = open_demo(app, "texts", args.labels)
    win.tabs.setCurrentWidget(win.grid)
    win.grid.search.setText("a scary horror film with ghosts")
    win.grid.run_search()
    wait(app, lambda: win.grid.mode == "search", 120, "the search")
    pause(app, 0.5)
    save(win, args.out / "grid-texts.png")
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
