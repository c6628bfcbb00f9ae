"""Browse and fix: every item in a filterable table, relabel anything."""
