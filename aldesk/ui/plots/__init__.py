"""Plots: live accuracy, simulated learning curves, and the embedding map (pyqtgraph)."""
