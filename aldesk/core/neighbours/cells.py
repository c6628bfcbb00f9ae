"""The cells of the probe growth (:mod:`.grow`): the pool split into ~sqrt(N) cells, and for each new item the
cells it is compared with.

- **Cells** are ~sqrt(N) random items, each item in the cell of the centre most similar to it in a SKETCH_DIM
  random projection (dot products kept approximately, Johnson-Lindenstrauss; the neighbours themselves are compared
  in full). Each new item probes its N_PROBE most similar cells. Measured and not taken (benchmarks/README.md,
  "New items into a project"): spherical k-means centres (even cells, so a probe's cost no longer depends on the
  data, but a recall of the exact new rows of 0.66 against 0.94 on Rotten Tomatoes' e5 vectors at 12 cells), and a
  probe count calibrated on the old graph's edges (it tracked the true share of neighbours within 0.01, but on e5
  vectors it asked for cells that compare most of the pool).
- **Balls**: a cell's members lie within an angle (its radius) of their mean direction, so no member is more
  similar to a unit vector q than cos(angle(q, mean) - radius): :func:`ball_allows` skips the (new item, cell)
  pairs that cannot change a row. Exact; it skips most far cells of well separated clusters and none on diffuse
  embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aldesk.core.neighbours.threads import in_threads, spans
from aldesk.core.progress import CancelFn, ProgressFn

SKETCH_DIM = 64
N_PROBE = 12
ROWS_PER_TASK = 4096
UNIT_TOLERANCE = 1e-3  # a squared norm this close to 1 is a unit vector (a ball's bound needs them)
BALL_MARGIN = 1e-4  # float32 rounding of the similarities and of the bound


@dataclass
class Cells:
    """Every item's cell, the items in cell order (a stable sort: within a cell its old items first, in item
    order, then its new ones), where each cell starts in that order, how many old items each cell holds, and each
    new item's probed cells (M, P)."""

    cell: np.ndarray
    order: np.ndarray
    bounds: np.ndarray
    n_old_in: np.ndarray
    probe: np.ndarray

    @property
    def count(self) -> int:
        return int(self.bounds.size - 1)

    def members(self, c: int) -> np.ndarray:
        return self.order[self.bounds[c] : self.bounds[c + 1]]


def make_cells(
    X_all: np.ndarray,
    n_old: int,
    n_probe: int,
    rng: np.random.Generator,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> Cells:
    """The cells of the pool ``X_all`` (its first ``n_old`` rows the old items) and the new items' probed cells:
    the ``n_probe`` most similar to each."""
    n = X_all.shape[0]
    m = n - n_old
    n_cells = max(1, int(np.sqrt(n)))
    R = sketch_matrix(X_all.shape[1], rng)
    centres = _sketched(X_all[rng.choice(n, n_cells, replace=False)], R)
    cell = np.empty(n, dtype=np.int64)
    n_probe = max(1, min(n_probe, n_cells))
    probe = np.empty((m, n_probe), dtype=np.int64)
    cut = n_cells - n_probe

    # every item to its most similar centre; a new item also to its n_probe most similar
    def assign(rows: range) -> None:
        S = _sketched(X_all[rows.start : rows.stop], R) @ centres.T
        cell[rows.start : rows.stop] = np.argmax(S, axis=1)
        if rows.stop > n_old:
            new = S[max(0, n_old - rows.start) :]
            probe[max(0, rows.start - n_old) : rows.stop - n_old] = np.argpartition(new, cut, axis=1)[:, cut:]

    tasks = spans(n, ROWS_PER_TASK)
    in_threads(assign, tasks, progress=progress, cancel=cancel, span=(0.0, 0.04), what="items placed")
    order = np.argsort(cell, kind="stable")
    return Cells(
        cell,
        order,
        np.searchsorted(cell[order], np.arange(n_cells + 1)),
        np.bincount(cell[:n_old], minlength=n_cells),
        probe,
    )


def sketch_matrix(d: int, rng: np.random.Generator) -> np.ndarray | None:
    """A (d, SKETCH_DIM) random projection; None when d is that small already. Assigning every item to ~sqrt(N)
    centres in 384-d cost as much as all the exact comparisons of the new items (measured at 100k + 10k)."""
    if d <= SKETCH_DIM:
        return None
    return (rng.standard_normal((d, SKETCH_DIM)) / np.sqrt(SKETCH_DIM)).astype(np.float32)


def _sketched(X: np.ndarray, R: np.ndarray | None) -> np.ndarray:
    return X if R is None else X @ R


def ball(Xm: np.ndarray) -> tuple[np.ndarray, float]:
    """A cell's members as a ball on the unit sphere: their mean direction and the largest angle from it to a
    member; radius pi (no bound) when a member is not a unit vector or the members cancel out."""
    norms = np.einsum("ij,ij->i", Xm, Xm)
    total = Xm.sum(axis=0, dtype=np.float64)
    length = float(np.linalg.norm(total))
    if length < 1e-9 or float(np.abs(norms - 1.0).max()) > UNIT_TOLERANCE:
        return np.zeros(Xm.shape[1], np.float32), float(np.pi)
    mean = (total / length).astype(np.float32)
    return mean, float(np.arccos(np.clip((Xm @ mean).min(), -1.0, 1.0)))


def ball_allows(Q: np.ndarray, mean: np.ndarray, radius: float, need: np.ndarray) -> np.ndarray:
    """Which vectors of ``Q`` may find, in the ball (mean, radius), an item more similar than ``need`` (one value
    per row): on the unit sphere the angle from q to any member is at least angle(q, mean) - radius, so no member
    is more similar than cos(max(0, angle(q, mean) - radius)). No pair it drops could have changed a row; rows of
    Q that are not unit vectors are kept."""
    if radius >= np.pi:
        return np.ones(Q.shape[0], bool)
    angle = np.arccos(np.clip(Q @ mean, -1.0, 1.0))
    ceiling = np.cos(np.maximum(0.0, angle - radius))
    unit = np.abs(np.einsum("ij,ij->i", Q, Q) - 1.0) <= UNIT_TOLERANCE
    return (ceiling >= need - BALL_MARGIN) | ~unit
