"""Logging for the app and the CLI: a rotating file in the user log dir, warnings and errors on stderr.

The file is what a user attaches to a bug report, so error dialogs can show its path (``log_path()``).
A crash that no Python handler sees (a segfault in Qt, onnxruntime or numba) is written into the same file by
:mod:`faulthandler`, with every thread's Python stack: without it such a crash leaves nothing behind.
Qt-free and cheap to import: ``aldesk --help`` stays instant.
"""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import TextIO

LOG_NAME = "aldesk.log"
MAX_BYTES = 1_000_000  # 1 MB per file ...
BACKUPS = 3  # ... and three old ones: bounded disk use, still hours of history
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"

_configured: Path | None = None
_fault_handler: logging.Handler | None = None  # the file handler faulthandler writes into (None: not ours)


class _RotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file that faulthandler follows: after a rotation it writes into the new file, not the
    renamed old one."""

    def doRollover(self) -> None:
        super().doRollover()
        if _fault_handler is self and self.stream is not None:
            faulthandler.enable(file=self.stream, all_threads=True)


def _enable_faulthandler(handler: logging.handlers.RotatingFileHandler) -> None:
    """Send fatal-error tracebacks into the log file, unless someone else chose a place already
    (``PYTHONFAULTHANDLER``, ``python -X faulthandler``, pytest)."""
    global _fault_handler
    if faulthandler.is_enabled() and _fault_handler is None:
        return
    if handler.stream is None:  # opened at the first record (delay=True): faulthandler needs it now
        handler.stream = handler._open()
    faulthandler.enable(file=handler.stream, all_threads=True)
    _fault_handler = handler


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record, not the one at set-up.

    Tests and embedding hosts swap ``sys.stderr``; a handler holding the old, closed stream would print
    "--- Logging error ---" instead of the message.
    """

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr


def default_log_dir() -> Path:
    """``platformdirs.user_log_dir("aldesk")``, e.g. ``~/.local/state/aldesk/log`` on Linux."""
    from platformdirs import user_log_dir

    return Path(user_log_dir("aldesk"))


def setup_logging(
    log_dir: Path | str | None = None,
    *,
    level: int = logging.INFO,
    stderr_level: int = logging.WARNING,
    force: bool = False,
) -> Path | None:
    """Send the ``aldesk`` loggers (and Python warnings) to a rotating file and to stderr.

    Parameters
    ----------
    log_dir
        Folder for ``aldesk.log``; default ``platformdirs.user_log_dir("aldesk")``. The environment variable
        ``ALDESK_LOG_DIR`` overrides the default (tests, bundles on a read-only home).
    level
        Threshold of the file.
    stderr_level
        Threshold of the terminal: only what the user should see without opening the file.
    force
        Configure again even if already done in this process (tests).

    Returns
    -------
    The log file's path, or ``None`` if no file could be opened (read-only or full disk): logging then goes
    to stderr only, because a log must never stop the app from starting.
    """
    global _configured, _fault_handler
    if _configured is not None and not force:
        return _configured

    root = logging.getLogger("aldesk")
    # Remove only our own handlers: never one that a host (pytest) added.
    for handler in list(root.handlers):
        if getattr(handler, "_aldesk", False):
            if handler is _fault_handler:  # its file is about to close: stop writing crashes into it
                faulthandler.disable()
                _fault_handler = None
            root.removeHandler(handler)
            handler.close()
    root.setLevel(min(level, stderr_level))
    # propagate stays on: a host that configured the root logger (pytest's caplog) still sees our records.

    console = _CurrentStderrHandler()
    console.setLevel(stderr_level)
    console.setFormatter(logging.Formatter("aldesk: %(levelname)s: %(message)s"))
    console._aldesk = True  # type: ignore[attr-defined]
    root.addHandler(console)

    directory = Path(log_dir or os.environ.get("ALDESK_LOG_DIR") or default_log_dir()).expanduser()
    path: Path | None = directory / LOG_NAME
    try:
        directory.mkdir(parents=True, exist_ok=True)
        file_handler = _RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
        )
        # delay=True opens the file at the first record; check now that it can be written.
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        root.warning("cannot write the log file %s (%s); logging to stderr only", path, exc)
        path = None
    else:
        file_handler.setLevel(level)
        file_handler.setFormatter(logging.Formatter(FORMAT))
        file_handler._aldesk = True  # type: ignore[attr-defined]
        root.addHandler(file_handler)
        try:
            _enable_faulthandler(file_handler)
        except (OSError, ValueError) as exc:  # never a reason not to start
            root.warning("crash reports will not reach the log file %s (%s)", path, exc)

    # warnings.warn(...) goes to the "py.warnings" logger: route it to the same place.
    logging.captureWarnings(True)
    warn_logger = logging.getLogger("py.warnings")
    for handler in list(warn_logger.handlers):
        if getattr(handler, "_aldesk", False):
            warn_logger.removeHandler(handler)
    for handler in root.handlers:
        if getattr(handler, "_aldesk", False):
            warn_logger.addHandler(handler)

    _configured = path
    return path


def log_path() -> Path | None:
    """The log file set up by :func:`setup_logging` in this process, or ``None`` (not set up, or no file)."""
    return _configured
