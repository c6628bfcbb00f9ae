"""The long-work convention shared by the core and the UI's task runner.

A long function takes ``progress(fraction, message)`` and ``cancel()`` callables (both optional) and raises
:class:`Cancelled` when ``cancel()`` turns true. The core starts no background work (a kernel's own short-lived
threads, :mod:`aldesk.core.neighbours.threads`, end before it returns); the UI runs such functions in its
single task runner (see DESIGN.md, convention 2).
"""

from __future__ import annotations

from collections.abc import Callable

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]


class Cancelled(Exception):
    """Raised by long-running core functions when their cancel check turns true."""


class UserError(Exception):
    """An error the user can act on. Its message is shown as is (no traceback)."""


def check(cancel: CancelFn | None) -> None:
    """Raise :class:`Cancelled` if ``cancel`` says so."""
    if cancel is not None and cancel():
        raise Cancelled()
