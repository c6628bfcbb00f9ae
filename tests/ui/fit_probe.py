"""A second process that opens the real window on a screen of a given size (Qt's offscreen platform, configured
with that screen) and reports, as JSON, whether it fits: run by tests/ui/test_window_fits.py, one process per size.

``python -m tests.ui.fit_probe WIDTH HEIGHT DPR WORKDIR KIND [SHOT.png]``: a project of 150 items (KIND "image":
pictures from 28 px to 640 px; "text": sentences of up to 60 words) with 12 classes, the Plots dock on its Map tab, 40 labels typed as keys, then a restart that
restores a saved geometry wider than the screen. The screenshot, when asked, is the window's own grab.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

N = 150  # items: enough for a full candidate strip and a map


def main(argv: list[str]) -> int:
    width, height, dpr, work = int(argv[0]), int(argv[1]), float(argv[2]), Path(argv[3])
    kind = argv[4]
    shot = argv[5] if len(argv) > 5 else None
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / "screen.json"
    # A HiDPI screen: the offscreen platform's own "dpr" does not reach its windows, Qt's scale factor does (the
    # screen is then given in device pixels, and WIDTH x HEIGHT is what the window sees).
    screen = {"name": "probe", "x": 0, "y": 0, "width": round(width * dpr), "height": round(height * dpr)}
    cfg.write_text(json.dumps({"screens": [screen | {"logicalDpi": 96, "dpr": 1}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={cfg}"
    os.environ["QT_SCALE_FACTOR"] = str(dpr)
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")
    os.environ["XDG_DATA_HOME"] = str(work / "data")

    from PySide6.QtCore import QCoreApplication, QSettings, Qt
    from PySide6.QtGui import QColor, QImage
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setOrganizationName("aldesk-fit-probe")
    QCoreApplication.setApplicationName("aldesk-fit-probe")
    app = QApplication([])
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(work / "config"))
    QSettings().setValue("hints/never", True)

    from aldesk.core import synthetic
    from aldesk.core.dataset import Dataset
    from aldesk.core.labeling.session import Session
    from aldesk.ui.labeling.controller import Workspace
    from aldesk.ui.shell.main_window import MainWindow

    root = work / "images"
    root.mkdir(exist_ok=True)
    keys = []
    for i in range(N):
        side = (28, 64, 200, 640)[i % 4]
        img = QImage(side, side * 3 // 4 if i % 3 else side, QImage.Format.Format_RGB32)
        img.fill(QColor.fromHsv((i * 37) % 360, 180, 220))
        name = f"photo_{i:03d}_{'x' * (i % 7)}.png"
        img.save(str(root / name))
        keys.append(name)
    classes = [f"category number {n} of the survey" if n in (3, 7) else f"class {n}" for n in range(1, 13)]
    X = synthetic.clustered(N, 64, 12, seed=1)[0]

    def fits(win) -> dict:
        app.processEvents()
        avail = win.screen().availableGeometry()
        fg = win.frameGeometry()
        return {
            "frame": [fg.x(), fg.y(), fg.width(), fg.height()],
            "avail": [avail.x(), avail.y(), avail.width(), avail.height()],
            "inside": avail.contains(fg),
            "min_hint_width": win.minimumSizeHint().width(),
            "min_width": win.minimumWidth(),
        }

    def session() -> Workspace:
        if kind == "text":
            words = [
                "the",
                "quick",
                "survey",
                "answer",
                "mentions",
                "a",
                "rather",
                "long",
                "and",
                "winding",
                "explanation",
            ]
            texts = [
                " ".join(words[(i + j) % len(words)] for j in range(5 + i % 56)) + f" {i}" for i in range(N)
            ]
            ds = Dataset("text", work / "texts.csv", texts)
        else:
            ds = Dataset("image", root, list(keys))
        return Workspace(ds, Session(X, classes), None, [], "fit probe")

    out: dict = {}
    win = MainWindow()
    # Not maximised, against the right edge of the screen: a dock that widens the window would push it out.
    avail = win.screen().availableGeometry()
    win.setGeometry(avail.right() - 900, avail.y() + 30, 900, avail.height() - 80)
    win.show()
    win.set_workspace(session(), density=False)
    dock = win.ensure_plots()
    while not dock.complete:
        app.processEvents()
    dock.map.auto_umap = False
    dock.tabs.setCurrentWidget(dock.map)
    win.activateWindow()
    QTest.qWait(200)
    out["map_open"] = fits(win)
    for i in range(40):
        QTest.keyClick(win, Qt.Key(Qt.Key.Key_0.value + (1 + i % 9)))
        app.processEvents()
    win.ctl.flush()
    QTest.qWait(300)
    out["after_40_labels"] = fits(win)
    out["labeled"] = win.ctl.session.n_labeled
    # The thumbnails of the strip at the screen's pixel ratio (sharp on HiDPI).
    from aldesk.ui.labeling.labeling_view import THUMB

    QTest.qWait(500)
    view = win.label_view
    if kind == "image":
        pm = view.model.data(view.model.index(0), Qt.ItemDataRole.DecorationRole)
        big = view.pixmap()
        out["thumb"] = {
            "dpr": pm.devicePixelRatio(),
            "device_side": max(pm.width(), pm.height()),
            "logical": THUMB,
        }
        out["large"] = {"dpr": big.devicePixelRatio(), "device_side": max(big.width(), big.height())}
    if shot:
        win.grab().save(shot)
    # A geometry saved on a wider screen comes back clamped to this one.
    win.close()
    app.processEvents()
    s = QSettings()
    wide = MainWindow()
    wide.setGeometry(0, 0, width + 600, height + 300)
    s.setValue("window/geometry", wide.saveGeometry())
    wide.deleteLater()
    again = MainWindow()
    again.show()
    QTest.qWait(200)
    out["restored"] = fits(again)
    again.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
