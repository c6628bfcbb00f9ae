"""Plots: live accuracy, simulated learning curves, and the embedding map (pyqtgraph)."""

from aldesk.ui.plots import svg_fix

svg_fix.install()
