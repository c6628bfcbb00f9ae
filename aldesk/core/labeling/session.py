"""The labeling loop the GUI drives: label / skip / undo / redo, classes, reopening; the ranked candidates
(:mod:`.ranking`) and the predictions (:mod:`.predicting`) are its two other parts, mixed into :class:`Session`.

Every state change is an :class:`Action`. Before the in-memory state changes, the action is handed to the
``journal`` callable (the project file commits it there); if the journal raises, nothing changes. Reopening a
project restores the state from the project's materialised labels plus its action log (:meth:`Session.restore`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

import numpy as np

from aldesk.core.labeling.actions import INTERACTIVE, Action, stacks
from aldesk.core.labeling.ops import op
from aldesk.core.labeling.predicting import Predicting, Prediction
from aldesk.core.labeling.ranking import Candidate, Ranking
from aldesk.core.model.knn import IncrementalKNN
from aldesk.core.neighbours import builder
from aldesk.core.query import measures, registry
from aldesk.core.query.baselines import PoolContext
from aldesk.core.query.registry import DEFAULT_STRATEGY  # the app's default strategy, named with the others

DEFAULT_K = 10
# The app shows an audit item (a uniform random pick) every DEFAULT_AUDIT_EVERY labels; ``simulate`` runs the app's
# default as the strategy "eer@10", which makes the same random picks.
DEFAULT_AUDIT_EVERY = 10
DEFAULT_SIMULATION_STRATEGY = f"{DEFAULT_STRATEGY}@{DEFAULT_AUDIT_EVERY}"
DEFAULT_CANDIDATES = 24

__all__ = ["Candidate", "Prediction", "Session"]  # Candidate and Prediction live in .ranking and .predicting


class Session(Ranking, Predicting):
    """Labels, classes and the ranking over one set of embeddings.

    Parameters
    ----------
    vectors : (N, d) float32, L2-normalised; rows of unusable items may be zero.
    classes : class names, in key order (key 1 = classes[0]).
    eligible : bool (N,), items that may be ranked/labeled (False for items that failed to embed).
    density : (N,) density values, or None to start with global density (instant); see :meth:`set_density`.
    journal : called with each Action BEFORE the state changes; must persist it (commit) or raise.
    """

    def __init__(
        self,
        vectors: np.ndarray,
        classes: Iterable[str] = (),
        *,
        k: int = DEFAULT_K,
        strategy: str | registry.Strategy = DEFAULT_STRATEGY,
        eligible: np.ndarray | None = None,
        density: np.ndarray | None = None,
        graph: tuple[np.ndarray, np.ndarray] | None = None,
        journal: Callable[[Action], None] | None = None,
        n_candidates: int = DEFAULT_CANDIDATES,
        seed: int = 0,
        audit_every: int = 0,
    ) -> None:
        self.X = vectors
        self.classes: list[str] = []
        for c in classes:
            self._check_new_class(c)
            self.classes.append(c)
        self.knn = IncrementalKNN(vectors, k)
        self.strategy = (
            strategy if isinstance(strategy, registry.Strategy) else registry.parse_strategy(strategy)
        )
        n = vectors.shape[0]
        self.eligible = (
            np.ones(n, dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool).copy()
        )
        self.skipped = np.zeros(n, dtype=bool)
        self.density_kind = "global"
        self.density = builder.global_density(vectors) if density is None else np.asarray(density, np.float32)
        if density is not None:
            self.density_kind = "knn"
        self._density_cdf: measures.PresortedCDF | None = None  # sorted once, lazily, per density
        self.graph: tuple[np.ndarray, np.ndarray] | None = None  # whole-pool k-NN graph, for "eer"
        self._eer: np.ndarray | None = (
            None  # expected error reduction per item, updated where the k-NN changed
        )
        self._eer_key: tuple | None = None
        if graph is not None:
            self._set_graph(graph)
        self.journal = journal
        self.n_candidates = n_candidates
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self._ctx: PoolContext | None = None  # see _pool_context
        self._ctx_key: tuple | None = None
        self.history: list[Action] = []  # undo stack
        self.redo_stack: list[
            tuple[Action, ...]
        ] = []  # what undos reverted, newest last (see actions.stacks)
        # Every audit_every-th single label is an audit item drawn uniformly from the pool (0 = no audit).
        self.audit_every = int(audit_every)
        self._audit_item: int | None = None
        self._next_seq = 0
        self._ranking: list[Candidate] | None = None
        self.zero_shot: np.ndarray | None = None  # (N, classes) prior from class descriptions: set_zero_shot

    # ------------------------------------------------------------ read state
    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def labels(self) -> dict[int, str]:
        """Current labels, item -> class name."""
        lab = self.knn.labeled
        return {int(i): self.classes[self.knn.label[i]] for i in lab}

    def label_of(self, index: int) -> str | None:
        c = self.knn.label[index]
        return None if c < 0 else self.classes[c]

    @property
    def n_labeled(self) -> int:
        return self.knn.n_labeled

    def counts(self) -> dict[str, int]:
        """Labeled items per class (every class listed, zeros included)."""
        lab = self.knn.label[self.knn.labeled]
        bc = np.bincount(lab, minlength=len(self.classes)) if lab.size else np.zeros(len(self.classes), int)
        return {c: int(bc[i]) for i, c in enumerate(self.classes)}

    def pool_mask(self, include_skipped: bool = False) -> np.ndarray:
        m = self.eligible & (self.knn.label < 0)
        if not include_skipped:
            m &= ~self.skipped
        return m

    # --------------------------------------------------------------- actions
    def _commit(self, action: Action) -> Action:
        action = replace(action, seq=self._next_seq)
        if self.journal is not None:
            self.journal(action)  # persists or raises; the state below changes only after it succeeded
        self._next_seq += 1
        self._apply(action)
        self._ranking = None
        return action

    def _class_index(self, name: str) -> int:
        try:
            return self.classes.index(name)
        except ValueError:
            raise KeyError(f"unknown class {name!r}") from None

    def label(self, index: int, cls: str, origin: str = "user") -> Action:
        """Label one item (relabel if it has a label)."""
        return self.label_many([index], cls, origin)

    def label_many(
        self, indices: Iterable[int], cls: str, origin: str = "batch", group: int | None = None
    ) -> Action:
        """Label several items in one action: one undo reverts them all (and every action of ``group``)."""
        self._class_index(cls)
        items = tuple(int(i) for i in indices)
        if not items:
            raise ValueError("nothing to label")
        for i in items:
            if not self.eligible[i]:
                raise ValueError(f"item {i} cannot be labeled (it has no embedding)")
        prev = tuple(self.label_of(i) for i in items)
        prev_ids = tuple(int(self.knn.label[i]) for i in items)
        predicted = None
        if len(items) == 1 and items[0] == self._audit_item and origin in INTERACTIVE:
            origin = "audit"
            predicted = self._predict_row(items[0])[0]
        action = self._commit(
            Action("label", items, cls, prev, origin, predicted=predicted, prev_ids=prev_ids, group=group)
        )
        if origin == "audit":
            self._audit_item = None
        return action

    def label_by_class(self, by_class: dict[str, list[int]], origin: str) -> list[Action]:
        """Each class its items, one label action per class, all one undo (the grid's Enter on mixed predictions)."""
        for cls in by_class:
            self._class_index(cls)
        group = self._next_seq
        return [self.label_many(items, cls, origin, group=group) for cls, items in by_class.items()]

    def skip(self, index: int) -> Action:
        return self._commit(Action("skip", (int(index),)))

    def unskip(self, index: int) -> Action:
        return self._commit(Action("unskip", (int(index),)))

    def keep(self, index: int) -> Action:
        """The review queue's K: the label of labeled item ``index`` stays; logged so the queue does not ask again
        (:func:`aldesk.core.quality.review.reviewed_items`). Undoable like a skip."""
        if self.knn.label[index] < 0:
            raise ValueError(f"item {index} has no label to keep")
        return self._commit(Action("keep", (int(index),), cls=self.label_of(index), origin="review"))

    def undo(self) -> Action | None:
        """Revert the most recent label/skip still in force; None when there is nothing to undo."""
        if not self.history:
            return None
        target = self.history[-1]
        targets: tuple[int, ...] = ()
        if target.group is not None:
            group = []
            for a in reversed(self.history):
                if a.group != target.group:
                    break
                group.append(a.seq)
            targets = tuple(group)
        self._commit(
            Action(
                "undo",
                target.items,
                target.cls,
                target.prev,
                target.origin,
                target=target.seq,
                targets=targets,
            )
        )
        return target

    def redo(self) -> tuple[Action, ...] | None:
        """Apply again what the most recent undo reverted; None when there is nothing to redo (nothing was undone,
        or an action since then emptied the redo stack)."""
        if not self.redo_stack:
            return None
        entry = self.redo_stack[-1]
        last = entry[-1]
        self._commit(
            Action("redo", last.items, last.cls, last.prev, last.origin, targets=tuple(a.seq for a in entry))
        )
        return entry

    def class_items(self, name: str) -> list[int]:
        """The items labeled ``name``, in labeling order (what a merge or delete of the class touches)."""
        c = self._class_index(name)
        return [int(i) for i in self.knn.labeled if self.knn.label[i] == c]

    def merge_class(self, source: str, target: str) -> Action:
        """Class ``source`` goes into ``target``: its items get ``target`` and it leaves the class list (undoable)."""
        pos = self._class_index(source)
        self._class_index(target)
        if source == target:
            raise ValueError("a class cannot be merged into itself")
        items = tuple(self.class_items(source))
        return self._commit(Action("merge_class", items, target, (source,), prev_ids=(pos,)))

    def delete_class(self, name: str) -> Action:
        """Class ``name`` leaves the class list; its items become unlabeled, back in the pool (undoable)."""
        pos = self._class_index(name)
        items = tuple(self.class_items(name))
        return self._commit(Action("delete_class", items, name, prev_ids=(pos,)))

    def add_class(self, name: str) -> Action:
        self._check_new_class(name)
        return self._commit(Action("add_class", cls=name))

    def rename_class(self, old: str, new: str) -> Action:
        self._class_index(old)
        if new != old:
            self._check_new_class(new)
        return self._commit(Action("rename_class", cls=new, prev=(old,)))

    def _check_new_class(self, name: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a class name cannot be empty")
        if name != name.strip():
            raise ValueError("a class name cannot start or end with spaces")
        if name in self.classes:
            raise ValueError(f"class {name!r} exists already")

    # ------------------------------------------------------ applying actions
    def _apply(self, a: Action, *, log: bool = True) -> None:
        """What ``a`` does to the session in memory: its op says (:mod:`aldesk.core.labeling.ops`)."""
        kind = op(a.op)
        kind.apply(self, a)
        if log and kind.undoable:
            self.history.append(a)
        if a.op not in ("undo", "redo"):
            self.redo_stack.clear()  # a redo must meet the state its actions met (see actions.stacks)

    # The surface ops.py applies actions through (besides knn, skipped and classes).
    def class_index(self, name: str) -> int:
        return self._class_index(name)

    def pop_history(self, seq: int | None) -> Action:
        return self._pop(seq)

    def push_redo(self, entry: tuple[Action, ...]) -> None:
        self.redo_stack.append(entry)

    def pop_redo(self, seqs: tuple[int, ...]) -> tuple[Action, ...]:
        if not self.redo_stack or tuple(a.seq for a in self.redo_stack[-1]) != tuple(seqs):
            raise ValueError(f"cannot redo actions {list(seqs)}: they are not the last undone")
        return self.redo_stack.pop()

    def _pop(self, seq: int | None) -> Action:
        for j in range(len(self.history) - 1, -1, -1):
            if self.history[j].seq == seq:
                return self.history.pop(j)
        raise ValueError(f"cannot undo action {seq}: it is not in the undo history")

    # ------------------------------------------------------------- reopening
    def replay(self, actions: Iterable[Action]) -> None:
        """Re-apply a log action by action (no journal). Exact, but one mat-vec per label: for small logs."""
        for a in actions:
            self._apply(a)
            self._next_seq = max(self._next_seq, a.seq + 1)
        self._ranking = None

    def restore(
        self,
        labels: dict[int, str],
        skipped: Iterable[int],
        actions: list[Action],
        slots: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray] | None] | None = None,
    ) -> None:
        """Reopen from a project's materialised state: labels and skips in one block, undo stack from the log.

        ``self.classes`` must already be the project's current class list. ``slots(labeled)``, when given, may
        return stored neighbour slots for exactly these labeled items (see aldesk.core.neighbours.store), which replaces
        the N x L x d rebuild.
        """
        idx = np.fromiter(labels.keys(), dtype=np.int64, count=len(labels))
        cls = np.fromiter((self._class_index(c) for c in labels.values()), dtype=np.int32, count=len(labels))
        # Keep the labeling order of the log so that "last picks" and learning curves replay faithfully.
        order: dict[int, int] = {}
        for a in actions:
            if a.op == "label":
                for i in a.items:
                    order.setdefault(i, a.seq)
        if idx.size:
            perm = np.argsort([order.get(int(i), 1 << 62) for i in idx], kind="stable")
            idx, cls = idx[perm], cls[perm]
        stored = slots(idx) if slots is not None and idx.size >= self.knn.k else None
        if stored is not None:
            self.knn.set_labels_with_slots(idx, cls, *stored)
        else:
            self.knn.add_many(idx, cls)
        self.skipped[:] = False
        self.skipped[np.fromiter(skipped, dtype=np.int64)] = True
        self.history, self.redo_stack = stacks(actions)
        self._next_seq = max((a.seq for a in actions), default=-1) + 1
        self._ranking = None
