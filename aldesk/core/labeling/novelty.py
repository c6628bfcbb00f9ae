"""New items the k-NN cannot place: "these N new items look like a new class" (issue 14.4). Qt-free.

After a rescan the new items are candidates at once (they are unlabeled pool items), but the ranking's measures
read the k-NN's votes, and a softmax kernel over a far neighbourhood still votes confidently: a group of items of
a class nobody has labeled yet (a new product type) looks certain and is ranked low. A group is new when its
members are

- far from every labeled item: the gap between an item's own neighbourhood (its mean similarity to its graph
  neighbours, the density) and its closest labeled item is wider than for ``FAR_QUANTILE`` of the items that were
  there before; and
- dense among themselves: connected by graph edges, and most of a member's graph neighbours are members too.

:func:`new_groups` finds such groups, :func:`surface` puts each group's most typical item at the head of a ranking
and :func:`describe` is the one-line suggestion the window can show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FAR_QUANTILE = 0.95
MIN_GROUP = 5
MIN_INSIDE = 0.5  # share of a member's graph neighbours that are members too, on average over the group


@dataclass(frozen=True)
class NewGroup:
    items: np.ndarray  # item indices, the most typical (densest) first
    inside: float  # mean share of the members' graph neighbours inside the group

    @property
    def size(self) -> int:
        return int(self.items.size)


def new_groups(
    best_sim: np.ndarray,
    density: np.ndarray,
    graph_idx: np.ndarray,
    new_items: np.ndarray,
    labeled: np.ndarray,
    *,
    far_quantile: float = FAR_QUANTILE,
    min_size: int = MIN_GROUP,
    min_inside: float = MIN_INSIDE,
) -> list[NewGroup]:
    """Groups of unlabeled ``new_items`` that look like a class nobody has labeled, largest first.

    ``best_sim`` (N,) is each item's similarity to its closest labeled item (IncrementalKNN.max_similarity),
    ``density`` (N,) and ``graph_idx`` (N, g) the whole-pool graph's (item numbering), ``labeled`` the labeled
    items. Nothing is new while nothing is labeled (everything is unplaced then: the cold start's business).
    """
    n = best_sim.shape[0]
    new_items = np.asarray(new_items, dtype=np.int64)
    labeled = np.asarray(labeled, dtype=np.int64)
    if labeled.size == 0 or new_items.size < min_size:
        return []
    is_new = np.zeros(n, bool)
    is_new[new_items] = True
    is_lab = np.zeros(n, bool)
    is_lab[labeled] = True
    gap = density - best_sim
    before = ~is_new & ~is_lab & np.isfinite(gap)
    if not before.any():
        return []
    limit = float(np.quantile(gap[before], far_quantile))
    far = is_new & ~is_lab & (gap > limit)
    members = np.flatnonzero(far)
    if members.size < min_size:
        return []
    comp = _components(members, graph_idx, far)
    groups = []
    for root in np.unique(comp[members]):
        items = members[comp[members] == root]
        if items.size < min_size:
            continue
        inside = float(far[graph_idx[items]].mean())  # graph neighbours that are far new items too
        if inside < min_inside:
            continue
        items = items[np.argsort(-density[items], kind="stable")]
        groups.append(NewGroup(items, inside))
    groups.sort(key=lambda g: -g.size)
    return groups


def _components(members: np.ndarray, graph_idx: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Connected components of the graph restricted to ``mask`` (edges taken both ways): a root per item."""
    comp = np.arange(graph_idx.shape[0])
    nb = graph_idx[members]
    u = np.repeat(members, nb.shape[1])
    v = nb.ravel()
    keep = mask[v] & (u != v)
    u, v = u[keep], v[keep]
    while True:
        before = comp.copy()
        lo = np.minimum(comp[u], comp[v])
        np.minimum.at(comp, u, lo)
        np.minimum.at(comp, v, lo)
        comp = comp[comp]  # pointer jumping
        if (comp == before).all():
            return comp


def surface(ranking: np.ndarray, groups: list[NewGroup], per_group: int = 1) -> np.ndarray:
    """The ranking with each group's ``per_group`` most typical items first (largest group first), the rest in
    their order: the one label that tells the k-NN about the new class is asked for at once."""
    ranking = np.asarray(ranking, dtype=np.int64)
    head = [int(i) for g in groups for i in g.items[:per_group]]
    if not head:
        return ranking
    rest = ranking[~np.isin(ranking, head)]
    return np.concatenate([np.array(head, dtype=np.int64), rest])


def describe(group: NewGroup) -> str:
    """The window's one-line suggestion."""
    return (
        f"These {group.size:,} new items look like a new class: they resemble each other and no labeled item. "
        "Add a class for them?"
    )
