"""What to ask next: measures, expected error reduction, the strategy registry and the field's baselines."""
