"""A process-wide memory setting that aldesk's entry points apply (the window, the CLI), and the benchmarks that
compare against them.

numpy asks the kernel for transparent huge pages on every large array (``madvise(MADV_HUGEPAGE)``). Where the
kernel compacts memory on such a fault (``/sys/kernel/mm/transparent_hugepage/defrag`` = ``madvise``, Debian's and
Ubuntu's default), the first touch of a fresh large array waits for it: allocating and filling 44 MB took 36-89 ms
the first time in a process against 21 ms with plain pages, and growing a 100k-item project's k-NN state after a
rescan took 0.24-0.30 s instead of 0.05-0.07 s; opening a 1M-item project was the same either way
(benchmarks/README.md, "New items into a project"). So aldesk asks numpy not to advise. A user's own
``NUMPY_MADVISE_HUGEPAGE`` in the environment is left as it is.
"""

from __future__ import annotations

import os
import sys

ENV = "NUMPY_MADVISE_HUGEPAGE"


def no_huge_page_advice() -> bool:
    """No huge-page advice for the arrays allocated from now on, in this process and the processes it starts, unless
    the environment already says. numpy reads ``NUMPY_MADVISE_HUGEPAGE`` when it is imported: the variable is set
    for that (and for children), and numpy's switch is turned too when it is imported already. Imports nothing.
    True when this call turned the advice off."""
    if ENV in os.environ:
        return False
    os.environ[ENV] = "0"
    if "numpy" in sys.modules:
        try:
            from numpy._core import multiarray
        except ImportError:  # numpy 1.x
            from numpy.core import multiarray  # type: ignore[no-redef]
        setter = getattr(multiarray, "_set_madvise_hugepage", None)
        if setter is not None:
            setter(False)
    return True
