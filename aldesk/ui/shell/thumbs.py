"""Thumbnails decoded off the GUI thread and kept in QPixmapCache.

Worker threads build QImage (thread-safe); the GUI thread turns it into a QPixmap (GUI-only) in a ``@Slot``.
A request for a pixmap not cached yet returns None at once and ``ready(key)`` fires when it arrives.

Sizes are in logical pixels; the image is decoded at ``size x devicePixelRatio`` device pixels and the pixmap
carries that ratio, so it is drawn sharp on a HiDPI screen (not a 96 px image blown up to 192). Every scale is
smooth: a 28 px image shown at 360 px is interpolated, not drawn as hard blocks (issue 13.6).
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
        self.key, self.path, self.size, self.emitter = key, path, size, emitter  # size in device pixels

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
            img = scaled(img, self.size)
        try:
            self.emitter.loaded.emit(self.key, img)
        except RuntimeError:
            pass  # the loader was deleted (window closed) while this decode ran


def scaled(img: QImage, side: int) -> QImage:
    """``img`` fitted into ``side`` x ``side`` device pixels, smoothly. A big enlargement goes in doublings: one
    bilinear jump from 28 to 360 px smears each source pixel into a visible cross; steps of at most 2x blend
    them into a soft, even picture."""
    smooth = Qt.TransformationMode.SmoothTransformation
    keep = Qt.AspectRatioMode.KeepAspectRatio
    while max(img.width(), img.height()) * 2 < side:
        img = img.scaled(img.width() * 2, img.height() * 2, keep, smooth)
    return img.scaled(side, side, keep, smooth)


def device_side(size: int, dpr: float) -> int:
    return max(1, round(size * max(1.0, dpr)))


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
        self._ratio: dict[str, float] = {}  # device pixel ratio of each pending load
        self._emitter = _Emitter(self)
        self._emitter.loaded.connect(self._on_loaded)
        QPixmapCache.setCacheLimit(64 * 1024)  # KB

    @staticmethod
    def key(path: Path, size: int, dpr: float = 1.0) -> str:
        return f"{device_side(size, dpr)}:{path}"

    def get(self, path: Path, size: int, dpr: float = 1.0) -> QPixmap | None:
        """The cached pixmap (``size`` logical pixels at ratio ``dpr``), or None (a load is then queued and
        ``ready`` fires later)."""
        key = self.key(path, size, dpr)
        pm = QPixmapCache.find(key)
        if pm is not None and not pm.isNull():
            return pm
        if key not in self._pending and key not in self._failed:
            self._pending.add(key)
            self._ratio[key] = max(1.0, dpr)
            self.pool.start(_Load(key, path, device_side(size, dpr), self._emitter))
        return None

    def failed(self, path: Path, size: int, dpr: float = 1.0) -> bool:
        return self.key(path, size, dpr) in self._failed

    def load_now(self, path: Path, size: int, dpr: float = 1.0) -> QPixmap | None:
        """Synchronous load for the one large image in view (a single decode is a few ms)."""
        key = self.key(path, size, dpr)
        pm = QPixmapCache.find(key)
        if pm is not None and not pm.isNull():
            return pm
        img = QImage(str(path))
        if img.isNull():
            return None
        pm = QPixmap.fromImage(scaled(img, device_side(size, dpr)))
        pm.setDevicePixelRatio(max(1.0, dpr))
        QPixmapCache.insert(key, pm)
        return pm

    @Slot(str, QImage)
    def _on_loaded(self, key: str, img: QImage) -> None:
        self._pending.discard(key)
        ratio = self._ratio.pop(key, 1.0)
        if img.isNull():
            self._failed.add(key)
        else:
            pm = QPixmap.fromImage(img)
            pm.setDevicePixelRatio(ratio)
            QPixmapCache.insert(key, pm)
        self.ready.emit(key)

    def shutdown(self) -> None:
        self.pool.clear()
        self.pool.waitForDone(10000)
