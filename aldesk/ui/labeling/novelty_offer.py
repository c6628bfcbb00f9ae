"""After a rescan brought new items in: when some of them form a group the k-NN cannot place (a new product type),
show its most typical item and offer a new class for it (issue 14.4), once per rescan.

Runs when the whole-pool neighbour graph is ready (the grouping needs it); the finding is Qt-free
(:func:`aldesk.core.labeling.novelty.new_groups`). The offer is remembered in the project (setting
``novelty/offered``, the rescan's action number), so reopening does not ask again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

OFFERED = "novelty/offered"


def offer_new_class(win: Any, graph: Any) -> object | None:
    """Show the hint for the largest new group, if any (returns the box); ``win`` is the main window."""
    from aldesk.core.labeling.novelty import new_groups
    from aldesk.ui.labeling.new_class_hint import new_class_hint

    ws, ctl = win.ws, win.ctl
    if ws is None or ctl is None or ws.project is None or getattr(ws.project, "readonly", False):
        return None
    from aldesk.core.project.rescan import last_rescan

    found = last_rescan(ws.project)
    if found is None or not found.items or ws.project.get_setting(OFFERED, None) == found.seq:
        return None
    seq, new = found.seq, sorted(found.items)
    s = ctl.session
    labeled = s.knn.labeled
    new_items = np.asarray([i for i in new if i < len(s.eligible) and s.eligible[i]], dtype=np.int64)
    groups = new_groups(s.knn.max_similarity(), graph.density, graph.indices, new_items, labeled)
    if not groups:
        return None
    ctl.set_setting(OFFERED, seq)  # asked once per rescan, whatever the answer
    ctl.jump(int(groups[0].items[0]))  # its most typical item, on screen while the user decides
    return new_class_hint(win, groups[0], lambda _group: win.ask_new_class())
