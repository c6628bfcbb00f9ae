"""What the lasso's preview says and shows: true counts in the k-NN's own numbers, the doubtful items first.

The old preview said "the k-NN already agrees with 50 of them" and nothing else: read as "these are right", while
the k-NN (after a few labels) predicted the lasso's class for items that were not (the demo: 42 of 51 predicted
as the class, 9 truly of it). The count itself equalled each item's own prediction; the wording and the missing
picture misled. Now the preview names how many the k-NN predicts as another class and which, and shows every
target in a grid, least likely to be of the class first, so the wrong ones are seen and dropped before Apply.
"""

from __future__ import annotations

import html

import numpy as np

from aldesk.core.labeling.session import Session
from aldesk.core.labeling.views import Preview


def preview_order(session: Session, targets: np.ndarray, cls: str) -> np.ndarray:
    """The targets the k-NN predicts as another class first, then the rest; least likely to be ``cls`` first
    within each (the ones the user should look at before applying)."""
    if targets.size == 0 or session.n_labeled == 0:
        return targets
    probs = session.probabilities(targets)
    c = session.class_index(cls)
    agrees = probs.argmax(axis=1) == c
    return targets[np.lexsort((targets, probs[:, c], agrees))]


def preview_text(pv: Preview, dropped: int = 0) -> str:
    """The preview's one paragraph (rich text)."""
    n = pv.targets.size
    cls = html.escape(pv.cls)
    kept = f" ({pv.already_labeled:,} already labeled stay as they are)" if pv.already_labeled else ""
    dropped_text = f" {dropped:,} dropped." if dropped else ""
    if pv.no_prediction:
        judged = "The k-NN has no prediction yet (nothing is labeled)."
    else:
        other = sum(pv.others.values())
        which = ", ".join(f"{html.escape(c)} {k:,}" for c, k in pv.others.items())
        judged = f"The k-NN agrees with {pv.agree:,} of them" + (
            f"; it predicts <b>{other:,}</b> as another class ({which}), shown first in red."
            if other
            else "."
        )
    return (
        f"Label {n:,} items as <b>{cls}</b>?{kept}{dropped_text} {judged} Click or Space drops an item. "
        "Enter = apply, Esc = cancel; Ctrl+Z undoes the whole batch."
    )
