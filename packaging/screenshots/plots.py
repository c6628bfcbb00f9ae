"""Screenshots of the plots from real data (the bundled Fashion-MNIST demo), written to docs/screenshots/.

    python packaging/screenshots/plots.py [--out docs/screenshots] [--labels 80] [--no-umap]

plot-curves.png   simulated learning curves, the default strategy vs random (``export_curves_png``, as the CLI)
plot-map.png      the embedding map (UMAP) after labeling, coloured by predicted class, candidates and last picks
plot-accuracy.png the live accuracy panel: audit estimate with its band beside leave-one-out
Runs offscreen; the embedding cache makes reruns fast. UMAP's numba JIT adds ~30-45 s.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "aldesk" / "resources" / "demo" / "images"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--labels", type=int, default=80, help="labels given before the map and accuracy shots")
    ap.add_argument("--no-umap", action="store_true", help="PCA map (skips the JIT)")
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    from PySide6.QtGui import QFontDatabase

    if not QFontDatabase.families():
        print("no fonts: text would draw as boxes; install fonts-dejavu-core", file=sys.stderr)
        return 1

    from aldesk.core.embed import embed_dataset
    from aldesk.core.evaluate.simulate import simulate
    from aldesk.core.labeling.session import DEFAULT_STRATEGY, Session
    from aldesk.core.maps.projection import umap_2d
    from aldesk.core.sources import load_source
    from aldesk.ui.labeling.controller import Controller, Workspace
    from aldesk.ui.plots.curves import export_curves_png
    from aldesk.ui.plots.dock import PlotsDock
    from aldesk.ui.shell.tasks import TaskRunner

    args.out.mkdir(parents=True, exist_ok=True)
    ds = load_source(DEMO)
    res = embed_dataset(ds)
    X = res.vectors
    labels = list(ds.known_labels)

    print("simulating…", file=sys.stderr)
    sim = simulate(
        X[res.ok],
        [lab for lab, ok in zip(labels, res.ok, strict=True) if ok],
        strategies=[DEFAULT_STRATEGY, "margin"],
        folds=4,
        budget=220,
        dataset="demo images (Fashion-MNIST)",
    )
    export_curves_png(sim.to_dict(), args.out / "plot-curves.png")

    classes = sorted({lab for lab in labels if lab})
    session = Session(X, classes, eligible=res.ok, audit_every=5)
    runner = TaskRunner()
    ctl = Controller(Workspace(ds, session, None, [], "demo images"))
    dock = PlotsDock(runner)
    dock.map.auto_umap = False
    dock.accuracy.audit_spin.setValue(5)
    dock.resize(900, 700)
    dock.show()
    dock.set_controller(ctl)
    ctl.start()
    for _ in range(args.labels):  # a user who always gives the true label, pausing between labels
        ctl.label_current(labels[ctl.current])
        ctl.flush()
        dock.flush()  # the pause: the charts redraw (they never do on a key's own path)
        app.processEvents()
    dock.tabs.setCurrentWidget(dock.accuracy)
    app.processEvents()
    dock.accuracy.grab().save(str(args.out / "plot-accuracy.png"))

    dock.tabs.setCurrentWidget(dock.map)
    dock.map.colour.setCurrentIndex(1)
    app.processEvents()
    if not args.no_umap:
        print("UMAP (numba JIT)…", file=sys.stderr)
        items = np.flatnonzero(session.eligible)
        dock.map.set_layout(umap_2d(X[items]), items, "umap")
        dock.map.plot.vb.autoRange()
    # Show a selection too, as a user about to label a cluster would see it.
    plot = dock.map.plot
    centre = plot.pos[np.argmin(np.abs(plot.pos - np.percentile(plot.pos, 70, axis=0)).sum(axis=1))]
    near = np.linalg.norm(plot.pos - centre, axis=1) < 0.35
    plot.set_selection(plot.items[near])
    # The class key a user would press for this cluster: the commonest true label in it.
    picked = [labels[i] for i in plot.items[near] if labels[i]]
    dock.map.preview(1 + classes.index(max(set(picked), key=picked.count) if picked else classes[0]))
    dock.flush()
    app.processEvents()
    dock.map.grab().save(str(args.out / "plot-map.png"))
    dock.set_controller(None)
    runner.shutdown()
    for name in ("plot-curves.png", "plot-accuracy.png", "plot-map.png"):
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
