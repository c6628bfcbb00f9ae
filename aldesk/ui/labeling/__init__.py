"""The labeling loop: the controller over the session, the labeling view, the why panel, hints."""
