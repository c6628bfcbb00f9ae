"""The CLI's view of the core's ``progress(fraction, message)`` callbacks: a tqdm bar on a terminal, a few plain
lines in a log.

A bar redraws itself with ``\\r``; written into a file or a CI log that is one endless line of overwritten text.
So the bar is drawn only when stderr is a terminal; otherwise each phase gets at most one line per tenth of its
work (and its first and last), each ending in a newline. A phase ends when the fraction goes back down (the core
reports embedding, then each fold, each from 0 to 1): the bar is closed and a new one starts.

tqdm is imported only when a bar is drawn: ``aldesk --help`` and piped runs never load it.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import Any, TextIO

STEPS = 1000  # the bar's resolution: fractions are shown to 0.1 %
DEFAULT_COLUMNS = 100
DEFAULT_ROWS = 24
LINES_PER_PHASE = 10  # without a terminal: one line per tenth of a phase


class ProgressBar:
    """Callable as ``progress(fraction, message)``; a context manager that closes the last bar on exit.

    ``quiet``: show nothing. ``stream``: where to draw (default ``sys.stderr`` at the time of each call, so a
    test or host that swaps it is followed). ``tty``: force the terminal decision (tests); default: the stream's
    ``isatty()``.
    """

    def __init__(self, *, quiet: bool = False, stream: TextIO | None = None, tty: bool | None = None) -> None:
        self.quiet = quiet
        self._stream = stream
        self._tty = tty
        self._bar: Any = None  # tqdm.tqdm, created at the first call of a phase
        self._last_fraction = -1.0
        self._last_step = -1  # plain mode: the tenth last printed
        self._last_message = ""
        self._unprinted = False  # plain mode: the last call was not printed (same tenth as the line before)
        self._done = False  # the current phase reached 100 %

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    @property
    def is_tty(self) -> bool:
        if self._tty is not None:
            return self._tty
        try:
            return bool(self.stream.isatty())
        except (AttributeError, ValueError):  # a closed or file-less stream: not a terminal
            return False

    def __call__(self, fraction: float, message: str) -> None:
        if self.quiet:
            return
        fraction = min(max(float(fraction), 0.0), 1.0)
        if fraction < self._last_fraction:  # a new phase (the next fold): finish the one before
            self._end_phase()
        elif self._done:  # the phase reached 100 % already: a repeated last call adds nothing
            return
        self._last_fraction = fraction
        self._last_message = message
        if self.is_tty:
            self._draw(fraction, message)
        else:
            self._line(fraction, message)
        if fraction >= 1.0:
            self._end_phase()
            self._done = True

    def _draw(self, fraction: float, message: str) -> None:
        if self._bar is None:
            from tqdm import tqdm

            columns, rows = self._size()
            self._bar = tqdm(
                total=STEPS,
                file=self.stream,
                bar_format="{percentage:5.1f}% |{bar:24}| {elapsed}<{remaining} {desc}",
                ncols=columns,
                nrows=rows,
                leave=True,
            )
        self._bar.set_description_str(message, refresh=False)
        self._bar.update(round(fraction * STEPS) - self._bar.n)

    def _size(self) -> tuple[int, int]:
        """The terminal's columns and rows; a pseudo-terminal without a size (``script``, some IDEs) reports
        0 x 0, with which tqdm draws nothing at all."""
        try:
            size = os.get_terminal_size(self.stream.fileno())
        except (AttributeError, OSError, ValueError):
            return DEFAULT_COLUMNS, DEFAULT_ROWS
        return size.columns or DEFAULT_COLUMNS, size.lines or DEFAULT_ROWS

    def _line(self, fraction: float, message: str) -> None:
        step = int(fraction * LINES_PER_PHASE)
        if step == self._last_step:
            self._unprinted = True
            return
        self._last_step = step
        self._unprinted = False
        print(f"{fraction:6.1%}  {message}", file=self.stream, flush=True)

    def _end_phase(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._unprinted:
            # The phase ended between two tenths (cancelled, or the core's last call was below 1): say where it
            # stopped, so the log shows the last state, not the tenth before it.
            print(f"{self._last_fraction:6.1%}  {self._last_message}", file=self.stream, flush=True)
        self._unprinted = False
        self._last_step = -1
        self._done = False

    def close(self) -> None:
        """Finish the current phase (a bar's line stays on screen; a log gets the last state)."""
        self._end_phase()
        self._last_fraction = -1.0

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def progress_bar(*, quiet: bool = False) -> ProgressBar:
    """The one progress display of the CLI's long work (embedding, simulate, export --predicted)."""
    return ProgressBar(quiet=quiet)
