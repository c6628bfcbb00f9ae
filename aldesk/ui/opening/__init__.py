"""Opening data and projects: the start page, the progress page, the new-project dialog, the opener."""
