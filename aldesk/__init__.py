"""aldesk: offline active learning for images and texts."""

__version__ = "0.1.0"
