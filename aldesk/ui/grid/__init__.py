"""The grid view: a page of items (thumbnails or text cards) to confirm or label together with one key."""
