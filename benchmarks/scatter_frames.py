"""Embedding map at N points (default 100k): frame times of pan/zoom repaints, restyle, hover, lasso. Prints JSON.

Offscreen: each frame is a ``setRange`` followed by a synchronous ``viewport().repaint()``, so the figure is the
full paint of the scene (all points), not just the time to queue an update.

    python benchmarks/scatter_frames.py [--n 100000] [--frames 40]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication


def clustered(n: int, d: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    from aldesk.core.synthetic import clustered as generate  # the generator the tests share

    return generate(n, d, k, spread=0.8, seed=seed)


def ms(samples: list[float]) -> dict:
    s = sorted(samples)
    return {
        "median_ms": round(1000 * statistics.median(s), 2),
        "p95_ms": round(1000 * s[int(0.95 * (len(s) - 1))], 2),
        "max_ms": round(1000 * s[-1], 2),
        "fps_median": round(1 / statistics.median(s), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--d", type=int, default=384)
    ap.add_argument("--frames", type=int, default=40)
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])

    from aldesk.core.dataset import Dataset
    from aldesk.core.labeling.session import Session
    from aldesk.ui.labeling.controller import Controller, Workspace
    from aldesk.ui.plots.map_panel import MapPanel
    from aldesk.ui.shell.tasks import TaskRunner

    X, y = clustered(args.n, args.d, 10)
    classes = [f"c{i}" for i in range(10)]
    ds = Dataset("text", __import__("pathlib").Path("bench.csv"), [f"item {i}" for i in range(args.n)])
    session = Session(X, classes)
    rng = np.random.default_rng(1)
    for i in rng.choice(args.n, 200, replace=False):
        session.label(int(i), classes[y[i]])
    runner = TaskRunner()
    ctl = Controller(Workspace(ds, session, None, [], "bench"))
    panel = MapPanel(runner)
    panel.auto_umap = False
    panel.resize(1000, 800)
    panel.show()
    app.processEvents()
    t = time.perf_counter()
    panel.set_controller(ctl)
    ctl.start()
    panel.ensure_layout()  # PCA runs in the task runner: wait for it as the user would
    while panel.projection != "pca":
        app.processEvents()
        time.sleep(0.001)
    first_paint = time.perf_counter() - t
    plot = panel.plot
    vb = plot.vb
    vp = plot.viewport()
    out: dict = {
        "n_points": int(plot.pos.shape[0]),
        "viewport_px": [vp.width(), vp.height()],
        "open_map_pca_style_first_paint_ms": round(1000 * first_paint, 1),
    }

    def frames(mode: str) -> dict:
        panel.colour.setCurrentIndex(1 if mode == "predicted" else 0)
        app.processEvents()
        vb.autoRange()
        vp.repaint()
        (x0, x1), (y0, y1) = vb.viewRange()
        w, h = x1 - x0, y1 - y0
        pan, zoom = [], []
        for i in range(args.frames):
            dx = 0.3 * w * np.sin(2 * np.pi * i / args.frames)
            t = time.perf_counter()
            vb.setRange(xRange=(x0 + dx, x1 + dx), yRange=(y0, y1), padding=0)
            vp.repaint()
            pan.append(time.perf_counter() - t)
        for i in range(args.frames):
            f = 0.25 + 0.75 * (0.5 + 0.5 * np.cos(2 * np.pi * i / args.frames))  # zoom in to 1/4 and back
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            t = time.perf_counter()
            vb.setRange(
                xRange=(cx - f * w / 2, cx + f * w / 2), yRange=(cy - f * h / 2, cy + f * h / 2), padding=0
            )
            vp.repaint()
            zoom.append(time.perf_counter() - t)
        return {"pan": ms(pan), "zoom": ms(zoom)}

    out["colour_by_label"] = frames("label")
    out["colour_by_predicted"] = frames("predicted")

    # After a label: restyle of all points (brush table lookup + setData) plus the repaint.
    restyle = []
    for i in rng.choice(np.flatnonzero(session.knn.label < 0), 10, replace=False):
        session.label(int(i), classes[y[i]])
        t = time.perf_counter()
        panel.restyle()
        vp.repaint()
        restyle.append(time.perf_counter() - t)
    out["restyle_after_label_predicted"] = ms(restyle)

    hover = []
    for _ in range(50):
        p = plot.pos[rng.integers(plot.pos.shape[0])]
        sp = vb.mapViewToScene(QPointF(float(p[0]), float(p[1])))
        t = time.perf_counter()
        plot.nearest(sp)
        hover.append(time.perf_counter() - t)
    out["hover_nearest"] = ms(hover)

    from aldesk.core.maps.projection import points_in_polygon, simplify_path

    ang = np.linspace(0, 2 * np.pi, 2000)
    lasso = np.stack([0.4 * np.cos(ang), 0.4 * np.sin(ang)], axis=1)
    t = time.perf_counter()
    inside = points_in_polygon(plot.pos, simplify_path(lasso, 256))
    out["lasso_select_ms"] = round(1000 * (time.perf_counter() - t), 1)
    out["lasso_selected"] = int(inside.sum())
    panel.set_controller(None)
    runner.shutdown()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
