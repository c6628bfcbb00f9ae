"""The window's frame: the application, the main window, the task runner, thumbnails, key bindings."""
