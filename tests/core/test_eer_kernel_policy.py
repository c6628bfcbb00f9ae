"""The desktop app ranks small pools with numpy and never loads numba for them (aldesk/core/query/eer_kernel.py):
loading numba and the cached kernel in a worker stalled the window during an open (benchmarks/gui_stall.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip()


RANK = """
    import sys
    import numpy as np
    from aldesk.core.synthetic import clustered
    from aldesk.core.model.knn import IncrementalKNN
    from aldesk.core.neighbours import builder
    from aldesk.core.query import eer_kernel
    from aldesk.core.query.eer import expected_error_reduction

    eer_kernel.set_min_items({min_items})
    X, y = clustered(900, 16, 5, seed=3)
    knn = IncrementalKNN(X, 10)
    for i in range(0, 900, 60):
        knn.add(i, int(y[i]))
    g_idx, g_sim = builder.knn_graph(X, 10)
    gain = expected_error_reduction(knn, 5, np.flatnonzero(knn.label < 0), g_idx, g_sim)
    print(len(gain), "numba" in sys.modules, eer_kernel.kernel(900) is None)
"""


def test_a_pool_below_the_threshold_is_ranked_without_importing_numba() -> None:
    assert _run(RANK.format(min_items=1000)) == "885 False True"


def test_at_or_above_the_threshold_the_kernel_is_used_when_numba_works() -> None:
    n, numba_loaded, no_kernel = _run(RANK.format(min_items=900)).split()
    assert n == "885"
    # numba is a dependency (through pynndescent): the kernel loads, unless ALDESK_NUMBA=0 switched it off
    assert (numba_loaded, no_kernel) == ("True", "False")


def test_the_desktop_app_sets_the_threshold() -> None:
    out = _run(
        """
        import os
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from aldesk.core.query import eer_kernel
        from aldesk.ui.shell.app import make_app
        make_app()
        print(eer_kernel.wanted(eer_kernel.APP_MIN_ITEMS - 1), eer_kernel.wanted(eer_kernel.APP_MIN_ITEMS))
        """
    )
    assert out == "False True"
