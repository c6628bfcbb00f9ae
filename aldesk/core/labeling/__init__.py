"""The labeling session: the label/undo state machine, ranking, audits, and the action log."""
