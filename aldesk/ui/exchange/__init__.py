"""File › Export… and File › Import labels…: the dialogs, and the tasks that run them."""
