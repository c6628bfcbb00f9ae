"""Per-project labeling settings (strategy, k, audit interval) and their dialog."""
