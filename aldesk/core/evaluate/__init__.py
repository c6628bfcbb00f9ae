"""Evaluation: simulated learning curves (the SCORING.md protocol) and accuracy curves."""
