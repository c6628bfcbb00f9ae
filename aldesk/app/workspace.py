"""From a path to a ready workspace: load or create the project -> embed -> a session with the saved settings.

The window (``aldesk.ui.opening.opening.Opener``, one step per task in its worker, with the new-project dialog between
load and create) and the CLI (``aldesk export --predicted``) call these same functions, so a session is built the
same way everywhere: the project's own strategy, k and audit interval (:mod:`aldesk.app.settings`), the stored
k-NN neighbour slots when they fit. Each slow step takes the core's ``progress``/``cancel`` callables. Heavy
modules (the embedder and its onnxruntime) are imported inside the functions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aldesk.app.paths import PROJECT_SUFFIX, default_project_path
from aldesk.app.settings import ProjectSettings, read_settings
from aldesk.core.dataset import Dataset, Problem
from aldesk.core.progress import CancelFn, ProgressFn, UserError, check


def vectors_key(model_id: str, hashes: list[str], ok: np.ndarray) -> str:
    """Same model, same item contents, same usable items -> same embeddings -> same density."""
    h = hashlib.sha1(model_id.encode())
    h.update("\n".join(hashes).encode())
    h.update(np.packbits(np.asarray(ok, dtype=bool)).tobytes())
    return h.hexdigest()


def graph_root(cache_dir: Path | None) -> Path | None:
    """Where density graphs and k-NN states are stored for an embedding cache (None: the default user cache)."""
    return Path(cache_dir) / "graphs" if cache_dir is not None else None


@dataclass
class Loaded:
    """A project open (its writer lock held unless read-only) and its data, not embedded yet."""

    project: Any  # aldesk.core.project.Project
    dataset: Dataset


@dataclass
class OpenedWorkspace:
    """Everything an open project holds in memory: what ``open_workspace`` returns. The caller closes
    ``project`` (``close()``)."""

    dataset: Dataset
    session: Any  # aldesk.core.labeling.session.Session
    project: Any
    problems: list[Problem] = field(default_factory=list)
    title: str = ""
    vectors_key: str = ""  # identifies the embeddings (model + item contents): keys derived caches
    settings: ProjectSettings = field(default_factory=ProjectSettings)

    def close(self) -> None:
        self.project.close()


def open_project(
    path: Path, *, readonly: bool = False, progress: ProgressFn | None = None, cancel: CancelFn | None = None
) -> Loaded:
    """Open a project file and read its data's item list. A failed or cancelled open leaves the project free."""
    from aldesk.core.project import Project

    if progress is not None:
        progress(0.0, f"Opening {Path(path).name}…")
    p = Project.open(path, readonly=readonly)
    try:
        ds = p.dataset()
        check(cancel)
    except BaseException:
        p.close()  # and its writer lock
        raise
    return Loaded(p, ds)


def card_for(project: Any, kind: str | None = None) -> Any:
    """The model card a project embeds with: its own card file, else the bundled model of its kind."""
    from aldesk.core.embed import default_card, load_card

    if project.card_path:
        return load_card(project.card_path)
    # The bundled card the project was made with, by the id it stores: a project embedded with an earlier
    # default (MiniLM for texts) reopens with its own vectors instead of being re-embedded by today's default.
    from aldesk.core.embed.cards import bundled_card_by_id

    kind = kind or project.kind
    own = bundled_card_by_id(getattr(project, "model_id", "") or "", kind)  # type: ignore[arg-type]
    return own if own is not None else default_card(kind)  # type: ignore[arg-type]  # "image" or "text"


def create_project(path: Path, dataset: Dataset, classes: list[str], card_path: Path | None = None) -> Loaded:
    """A new project for ``dataset`` at ``path`` (its folder is made: the default path may be the user's)."""
    from aldesk.core.embed import load_card
    from aldesk.core.embed.choose import choose_card
    from aldesk.core.project import Project

    # no card named: the bundled one that suits the data (small grey images get their pixels appended)
    card = load_card(card_path) if card_path else choose_card(dataset)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    p = Project.create(
        path,
        dataset,
        classes,
        model_id=card.id,
        card_path=str(Path(card_path).absolute()) if card_path else None,
    )
    return Loaded(p, dataset)


def embed_workspace(
    loaded: Loaded,
    *,
    cache_dir: Path | None = None,
    default_audit_every: int | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> OpenedWorkspace:
    """Embed the loaded project's items (cached vectors make a rerun resume where it stopped) and restore its
    session with the saved settings. A read-only project is not written (its item hashes are not stored)."""
    from aldesk.core.embed import embed_dataset

    p = loaded.project
    ds = loaded.dataset
    card = card_for(p, ds.kind)
    result = embed_dataset(ds, card, cache_dir=cache_dir, progress=progress, cancel=cancel)
    # Storing hashes and restoring the session (a k-NN rebuild when no stored state fits: seconds at 1M items)
    # run here too: in the window's worker, never on the GUI thread.
    if progress is not None:
        progress(1.0, "Restoring labels…")
    eligible, failed = result.ok, list(result.failed)
    if ds.missing:
        eligible, failed = _missing_items(p, ds, result, card, cache_dir)
    if not getattr(p, "readonly", False):
        p.set_hashes(result.hashes)
    key = vectors_key(result.model_id, list(result.hashes), eligible)
    settings = read_settings(p)
    session = restore_session(
        p,
        result.vectors,
        eligible,
        key,
        settings,
        cache_dir=cache_dir,
        default_audit_every=default_audit_every,
    )
    problems = list(ds.problems) + failed
    if ds.missing:
        problems.append(
            Problem(
                f"{len(ds.missing):,} items", "missing: their files were gone at the last rescan; labels kept"
            )
        )
    return OpenedWorkspace(ds, session, p, problems, Path(p.path).name, key, settings)


def _missing_items(p: Any, ds: Dataset, result: Any, card: Any, cache_dir: Path | None) -> tuple[Any, list]:
    """Items marked missing by a rescan: never candidates, not reported as failures one by one, their content
    hash kept (a rename is recognised by it) and their cached vector used, so their labels still teach the k-NN."""
    from aldesk.core.embed.cache import EmbeddingCache

    missing = np.zeros(len(ds), dtype=bool)
    missing[list(ds.missing)] = True
    stored = p.hashes()
    rows = [i for i in ds.missing if not result.hashes[i] and stored[i]]
    for i in rows:
        result.hashes[i] = stored[i]
    if rows and not result.ok[rows].all():
        with EmbeddingCache(cache_dir, card.id, card.dim, card.fingerprint) as cache:
            cache.read_into(
                [result.hashes[i] for i in rows], result.vectors, np.asarray(rows, dtype=np.int64)
            )
    keys = {ds.keys[i] for i in ds.missing}
    return result.ok & ~missing, [f for f in result.failed if f.key not in keys]


def detect_changes(
    loaded: Loaded, *, progress: ProgressFn | None = None, cancel: CancelFn | None = None
) -> Any:
    """What a rescan of the opened project would change (:class:`aldesk.core.project.rescan.Plan`), or None when
    nothing changed or its sources cannot be listed now (an unplugged drive must not stop the open)."""
    from aldesk.core.project.rescan import plan_rescan, record_scan, unchanged_since_scan

    p = loaded.project
    if getattr(p, "readonly", False) or unchanged_since_scan(p):
        return None
    try:
        plan = plan_rescan(p, dataset=loaded.dataset, progress=progress, cancel=cancel)
    except UserError:
        return None
    if plan.new_keys or plan.missing or plan.refound or plan.renamed:
        return plan
    record_scan(p, plan)  # the CSVs were read and hold nothing new: the next open need not read them again
    return None


def apply_changes(loaded: Loaded, plan: Any) -> tuple[Loaded, Any]:
    """Write a rescan plan into the open project; the project with its new item list, and the report."""
    from aldesk.core.project.rescan import apply

    report = apply(loaded.project, plan)
    return Loaded(loaded.project, loaded.project.dataset()), report


def rescan_loaded(
    loaded: Loaded,
    add_source: Path | None = None,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> tuple[Loaded, str]:
    """Rescan the open project (or add a source to it) and say what changed in one line; a rescan that is
    refused (a source gone, columns changed) leaves the project as it was and its reason is the line."""
    from aldesk.core.project.rescan import plan_add_source, plan_rescan

    try:
        if add_source is not None:
            plan = plan_add_source(loaded.project, add_source, progress=progress, cancel=cancel)
        else:
            plan = plan_rescan(loaded.project, progress=progress, cancel=cancel)
        if not plan.changed:
            return loaded, "Rescan: nothing changed."
        loaded, _ = apply_changes(loaded, plan)
    except UserError as exc:
        return loaded, " ".join(str(exc).split())
    return loaded, ("Added a source: " if add_source is not None else "Rescan: ") + plan.summary() + "."


def restore_session(
    project: Any,
    vectors: np.ndarray,
    eligible: np.ndarray,
    key: str,
    settings: ProjectSettings | None = None,
    *,
    cache_dir: Path | None = None,
    default_audit_every: int | None = None,
) -> Any:
    """The project's session over ``vectors`` with its saved settings, from the neighbour slots stored when it
    last closed when they fit (no N x L x d rebuild)."""
    settings = settings if settings is not None else read_settings(project)
    root = graph_root(cache_dir)
    k = settings.k
    # the state stored when the project last closed, if a rescan appended items since: it grows by the new rows
    last_key = project.get_setting(KNN_KEY_SETTING, None)
    last_items = project.get_setting(KNN_ITEMS_SETTING, None)

    def slots(labeled: np.ndarray) -> Any:
        from aldesk.core.neighbours.store import knn_state_key, load_knn_state

        stored = load_knn_state(knn_state_key(key, labeled, k), len(eligible), k, root)
        if (
            stored is None
            and isinstance(last_key, str)
            and last_key != key
            and isinstance(last_items, int)
            and 0 < last_items < len(eligible)
        ):
            from aldesk.core.labeling.growth import grown_slots

            old = load_knn_state(knn_state_key(last_key, labeled, k), last_items, k, root)
            stored = grown_slots(vectors, labeled, *old) if old is not None else None
        return stored

    return project.open_session(
        vectors, eligible=eligible, slots=slots, **settings.session_kwargs(default_audit_every)
    )


def open_workspace(
    path: Path,
    *,
    project_file: Path | None = None,
    classes: list[str] | None = None,
    readonly: bool = False,
    cache_dir: Path | None = None,
    default_audit_every: int | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> OpenedWorkspace:
    """A data folder, a CSV or a project file -> an embedded workspace, as the window opens it.

    For data, the project at ``project_file`` or :func:`default_project_path` is reopened when it exists, else
    created with ``classes`` (default: the data's known labels). ``readonly`` opens an existing project without
    writing anything, and refuses to create one."""
    path = Path(path)
    if path.suffix == PROJECT_SUFFIX and (path.is_file() or not path.exists()):
        target = path
    else:
        target = Path(project_file) if project_file else default_project_path(path)
    if target.exists():
        loaded = open_project(target, readonly=readonly, progress=progress, cancel=cancel)
    elif readonly or target == path:
        raise UserError(f"{target} does not exist.")
    else:
        from aldesk.core.sources import load_source

        ds = load_source(path, progress=progress, cancel=cancel)
        if len(ds) == 0:
            raise UserError(f"No items found in {ds.root}.")
        if classes is None:
            classes = sorted({lab for lab in (ds.known_labels or []) if lab})
        loaded = create_project(target, ds, classes)
    try:
        return embed_workspace(
            loaded,
            cache_dir=cache_dir,
            default_audit_every=default_audit_every,
            progress=progress,
            cancel=cancel,
        )
    except BaseException:
        loaded.project.close()
        raise


def reembed_project(
    loaded: Loaded,
    card: Any,
    *,
    cache_dir: Path | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> Any:
    """Embed the project's items with ``card`` and make it the project's model; every label stays.

    The explicit "re-embed with the new model" action: opening never changes a project's model. Labels, skips
    and the journal are keyed by item, not by vector, so they carry over; the stored k-NN and neighbour graph
    are keyed by the model id (:func:`vectors_key`) and are rebuilt on the next open. The project's model is
    switched only after every vector is computed, so a cancelled or failed run leaves the project as it was
    (the vectors computed so far stay cached: a rerun resumes).
    """
    from aldesk.core.embed import embed_dataset
    from aldesk.core.embed.cards import bundled_card_by_id

    p = loaded.project
    result = embed_dataset(loaded.dataset, card, cache_dir=cache_dir, progress=progress, cancel=cancel)
    bundled = bundled_card_by_id(card.id, card.kind) is not None
    p.set_model(card.id, None if bundled else str(Path(card.source).absolute()))
    p.set_hashes(result.hashes)
    return result


KNN_KEY_SETTING = "knn/key"  # the vectors key of the k-NN state stored at the last close
KNN_ITEMS_SETTING = "knn/items"  # how many items the project had then


def save_knn_state(ws: Any, root: Path | None) -> None:
    """Store the session's neighbour slots so the next open skips the rebuild (matters at 100k+ items), and
    record which vectors they are of: after a rescan appends items, the next open grows them by the new rows
    (:func:`aldesk.core.labeling.growth.grown_slots`) instead of rebuilding every row."""
    from aldesk.core.neighbours.store import knn_state_key
    from aldesk.core.neighbours.store import save_knn_state as save

    labeled, nbr, sim = ws.session.neighbour_slots()
    k = ws.session.k
    if not ws.vectors_key or labeled.size < k:
        return
    if save(nbr, sim, knn_state_key(ws.vectors_key, labeled, k), root) and not getattr(
        ws.project, "readonly", False
    ):
        import sqlite3

        try:
            ws.project.set_setting(KNN_KEY_SETTING, ws.vectors_key)
            ws.project.set_setting(KNN_ITEMS_SETTING, len(ws.session.eligible))
        except (
            sqlite3.Error
        ):  # a hint for a faster next open: a locked or full project must not stop the close
            pass


GRAPH_KEY_SETTING = "graph/key"  # the vectors key of the last whole-pool graph the window computed
GRAPH_ITEMS_SETTING = "graph/items"  # how many items the project had then


def density_graph(
    vectors: np.ndarray,
    eligible: np.ndarray,
    key: str,
    *,
    last_key: Any = None,
    last_items: Any = None,
    root: Path | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> Any:
    """The whole-pool neighbour graph of an opened project: the stored one for ``key``; else, when the project
    grew since its last graph (``last_key`` over its first ``last_items`` items: a rescan appended items), that
    graph grown by the new rows only (:func:`aldesk.core.neighbours.store.grow_graph_cached`); else built.
    ``last_key``/``last_items``: the project's settings :data:`GRAPH_KEY_SETTING` / :data:`GRAPH_ITEMS_SETTING`."""
    from aldesk.core.neighbours.store import grow_graph_cached, knn_graph_cached, load_graph

    n = len(eligible)
    if (
        isinstance(last_key, str)
        and last_key != key
        and isinstance(last_items, int)
        and 0 < last_items < n
        and load_graph(key, root) is None
    ):
        return grow_graph_cached(
            vectors, eligible, last_items, last_key, key, root=root, progress=progress, cancel=cancel
        )
    return knn_graph_cached(vectors, eligible, key, root=root, progress=progress, cancel=cancel)
