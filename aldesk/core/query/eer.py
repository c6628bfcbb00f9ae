"""Expected error reduction (eer), the default measure: what one label would settle in the k-NN.

Roy & McCallum's expected error reduction restricted to the neighbourhood a label can reach in the whole-pool
graph (SCORING.md). The pair sum runs in a compiled kernel (:mod:`.eer_kernel`) with a numpy fallback.
"""

from __future__ import annotations

import numpy as np

from aldesk.core.model.knn import PRIOR, TAU, IncrementalKNN, weight


def expected_error_reduction(
    knn: IncrementalKNN,
    n_classes: int,
    rows: np.ndarray,
    graph_idx: np.ndarray,
    graph_sim: np.ndarray,
    *,
    probs: np.ndarray | None = None,
    chunk: int = 65536,
) -> np.ndarray:
    """For each item x of ``rows``: how much the k-NN's expected error over x and its neighbours would drop if x
    were labeled (Roy & McCallum's expected error reduction, restricted to the neighbourhood a label can reach).

    The label is drawn from x's own predicted probabilities p(c|x). Labeling x removes x's own expected error
    (1 - max p(x)); each unlabeled neighbour u of x in the whole-pool graph (``graph_idx``/``graph_sim`` in the
    k-NN's row numbering: row x lists x's neighbours) for which x would enter u's top-k labeled neighbours gets
    x's vote (its weakest labeled neighbour leaves), and its confidence max p(u) changes:
        (1 - max p(x)) + sum_u E_c[max p'(u | x labeled c)] - max p(u).
    Unlike uncertainty alone it is small where many labels already agree or already disagree (a new label there
    moves nothing: noise the k-NN cannot learn) and large where one label would settle many unsure items.
    O(reached pairs x classes), no similarity computed: a compiled loop (eer_kernel) when numba works, else numpy
    (``probs`` over ``rows`` spares that version computing them).
    """
    rows = np.asarray(rows)
    out = np.zeros(rows.size, dtype=np.float64)
    if rows.size == 0:
        return out
    C = n_classes
    knn._ensure_classes(C - 1)
    n = knn.n
    a = PRIOR / C
    f32 = np.float32  # the pair arithmetic is memory-bound: float32 halves it, and ranks the same
    inv_tau = f32(1.0 / TAU)
    full = knn.n_labeled >= knn.k
    from aldesk.core.query.eer_kernel import kernel

    compiled = kernel(n)
    if compiled is not None:
        row_state, pair_gain = compiled
        st = row_state(
            knn.votes, knn.total, knn.nbr, knn.worst_slot, knn.worst_sim, knn.label, C, full, inv_tau, PRIOR
        )
        return pair_gain(
            rows.astype(np.int64, copy=False),
            graph_idx,
            graph_sim,
            knn.votes,
            knn.total,
            st,
            inv_tau,
            PRIOR,
            out,
        )
    p_rows = knn.probabilities(C, rows) if probs is None else probs
    p32 = np.ascontiguousarray(p_rows, dtype=f32)
    own = 1.0 - p_rows.max(axis=1)
    votes = knn.votes[:, :C]
    total = knn.total
    # Current confidence of every item, as probabilities() would give it.
    top_now = votes.max(axis=1)
    safe = np.where(total > 0, total, 1.0)
    conf_now = np.where(total > 0, (top_now + a * total) / ((1.0 + PRIOR) * safe), 1.0 / C)
    if full:
        # What x's vote meets in u: u's votes after its weakest labeled neighbour leaves.
        worst = knn.nbr[np.arange(n), knn.worst_slot]
        w_out = weight(knn.worst_sim)
        votes = votes.copy()
        votes[np.arange(n), knn.label[worst]] -= w_out
        np.maximum(votes, 0.0, out=votes)  # float rounding must not make a vote negative
        total = np.maximum(total - w_out, 0.0)
    votes = votes.astype(f32)
    total = total.astype(f32)
    conf_now = conf_now.astype(f32)
    threshold = np.where(knn.label < 0, knn.worst_sim, np.inf).astype(
        f32
    )  # labeled items are not in the pool
    # numpy: per item, its two strongest classes and the third strongest vote. x's vote w for class c lifts u's
    # top vote only when w > top - votes_c, which for the third class on is rare: those pairs are summed in full.
    rr = np.arange(n)
    a1 = votes.argmax(axis=1)
    top = votes[rr, a1]
    rest = votes.copy()
    rest[rr, a1] = -np.inf
    a2 = rest.argmax(axis=1)
    gap2 = top - rest[rr, a2]  # +inf with one class
    rest[rr, a2] = -np.inf
    gap3 = top - rest.max(axis=1) if C > 2 else np.full(n, np.inf, dtype=f32)
    for start in range(0, rows.size, chunk):
        stop = min(rows.size, start + chunk)
        g = graph_idx[rows[start:stop]]
        s = graph_sim[rows[start:stop]]
        r, j = np.nonzero(s > threshold[g])  # the pairs (x, u) where x's label would reach u
        u = g[r, j]
        w = np.exp((s[r, j] - f32(1.0)) * inv_tau, dtype=f32)
        t_new = total[u] + w
        px = p32[start:stop]
        flat = px.ravel()
        rc = r * C
        # E_c[max over classes of the new votes] = top + sum_c p(c|x) * max(0, w - (top - votes_c))
        e_max = (
            top[u]
            + flat.take(rc + a1.take(u)) * w
            + flat.take(rc + a2.take(u)) * np.maximum(w - gap2[u], 0.0)
        )
        more = np.flatnonzero(w > gap3[u])
        if more.size:
            um, wm = u[more], w[more]
            lift = np.maximum(wm[:, None] - (top[um, None] - votes[um]), 0.0)
            lift[np.arange(more.size), a1[um]] = 0.0
            lift[np.arange(more.size), a2[um]] = 0.0
            e_max[more] += (px[r[more]] * lift).sum(axis=1)
        gain = (e_max + f32(a) * t_new) / (f32(1.0 + PRIOR) * t_new) - conf_now[u]
        out[start:stop] = np.bincount(r, weights=gain, minlength=stop - start) + own[start:stop]
    return out
