"""The PySide6 desktop app. Talks to aldesk.core through its public functions only."""
