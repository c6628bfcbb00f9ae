"""Thumbnails decoded off the GUI thread and kept in QPixmapCache.

Worker threads build QImage (thread-safe); the GUI thread turns it into a QPixmap (GUI-only) in a ``@Slot``.
A request for a pixmap not cached yet returns None at once and ``ready(key)`` fires when it arrives.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage, QImageReader, QPixmap, QPixmapCache


class _Emitter(QObject):
    loaded = Signal(str, QImage)


class _Load(QRunnable):
    def __init__(self, key: str, path: Path, size: int, emitter: _Emitter) -> None:
        super().__init__()
        self.key, self.path, self.size, self.emitter = key, path, size, emitter

    def run(self) -> None:  # worker thread
        reader = QImageReader(str(self.path))
        reader.setAutoTransform(True)
        src = reader.size()
        if src.isValid() and (src.width() > 2 * self.size or src.height() > 2 * self.size):
            # Let the decoder scale big photos (JPEG decodes at reduced size: far less work and memory).
            reader.setScaledSize(
                src.scaled(QSize(2 * self.size, 2 * self.size), Qt.AspectRatioMode.KeepAspectRatio)
            )
        img = reader.read()
        if not img.isNull():
            small = img.width() * 2 <= self.size and img.height() * 2 <= self.size
            mode = (
                Qt.TransformationMode.FastTransformation
                if small
                else Qt.TransformationMode.SmoothTransformation
            )
            img = img.scaled(self.size, self.size, Qt.AspectRatioMode.KeepAspectRatio, mode)
        try:
            self.emitter.loaded.emit(self.key, img)
        except RuntimeError:
            pass  # the loader was deleted (window closed) while this decode ran


class ThumbnailLoader(QObject):
    """Asynchronous, cached image thumbnails of a given pixel size."""

    ready = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Own pool: thumbnails must not queue behind an embedding task.
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._pending: set[str] = set()
        self._failed: set[str] = set()
        self._emitter = _Emitter(self)
        self._emitter.loaded.connect(self._on_loaded)
        QPixmapCache.setCacheLimit(64 * 1024)  # KB

    @staticmethod
    def key(path: Path, size: int) -> str:
        return f"{size}:{path}"

    def get(self, path: Path, size: int) -> QPixmap | None:
        """The cached pixmap, or None (a load is then queued and ``ready`` fires later)."""
        key = self.key(path, size)
        pm = QPixmapCache.find(key)
        if pm is not None and not pm.isNull():
            return pm
        if key not in self._pending and key not in self._failed:
            self._pending.add(key)
            self.pool.start(_Load(key, path, size, self._emitter))
        return None

    def failed(self, path: Path, size: int) -> bool:
        return self.key(path, size) in self._failed

    def load_now(self, path: Path, size: int) -> QPixmap | None:
        """Synchronous load for the one large image in view (a single decode is a few ms)."""
        key = self.key(path, size)
        pm = QPixmapCache.find(key)
        if pm is not None and not pm.isNull():
            return pm
        img = QImage(str(path))
        if img.isNull():
            return None
        # Tiny images (28 px Fashion-MNIST) are blown up with crisp pixels, not a blur.
        small = img.width() * 2 <= size and img.height() * 2 <= size
        mode = (
            Qt.TransformationMode.FastTransformation if small else Qt.TransformationMode.SmoothTransformation
        )
        pm = QPixmap.fromImage(img.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, mode))
        QPixmapCache.insert(key, pm)
        return pm

    @Slot(str, QImage)
    def _on_loaded(self, key: str, img: QImage) -> None:
        self._pending.discard(key)
        if img.isNull():
            self._failed.add(key)
        else:
            QPixmapCache.insert(key, QPixmap.fromImage(img))
        self.ready.emit(key)

    def shutdown(self) -> None:
        self.pool.clear()
        self.pool.waitForDone(10000)
