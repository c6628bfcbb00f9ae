"""The colours of classes and strategies, for the window's plots (ui/plots/style.py) and the PNGs the CLI writes
(app/curves_png.py): one list, no Qt."""

# Tableau 10 and two more: distinct, colour-blind friendlier than HSV steps, and readable on white.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#17becf",
    "#8c564b",
    "#bcbd22",
)
