"""``--labels-from-column COL`` of ``init`` and ``open``: a CSV column as the new project's pre-labels.

Read before the project is created (a mistyped column is one line and no project), journaled after it with the
origin "prelabel" in one transaction (:func:`aldesk.core.exchange.imports.prelabel`), so an export, the audit
and a review can tell them from labels a person gave. Only argparse-free standard imports at module level.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aldesk.core.project import Project


def read_prelabels(data: Path, text_column: str | None, column: str) -> tuple[list[str], list[str | None]]:
    """``--labels-from-column COL`` (init, open): (items, the column's value per item), read BEFORE the project
    is created, so a mistyped column is one line and no project."""
    from aldesk.core.progress import UserError
    from aldesk.core.sources import load_source

    if Path(data).is_dir():
        raise UserError("--labels-from-column is for a CSV of texts (an image folder has no columns).")
    ds = load_source(Path(data), text_column=text_column, label_column=column)
    return list(ds.keys), list(ds.known_labels or [None] * len(ds))


def apply_prelabels(project: Project, prelabels: tuple[list[str], list[str | None]], column: str) -> None:
    """Journal the pre-labels into the new project: origin "prelabel", one transaction, one undo."""
    from aldesk.core.exchange.imports import prelabel
    from aldesk.core.progress import UserError

    keys, labels = prelabels
    if keys != list(project.dataset().keys):
        raise UserError(f"--labels-from-column {column}: the CSV changed while the project was created.")
    r = prelabel(project, labels)
    print(
        f"pre-labeled {r.labeled} items from the column {column!r} (origin 'prelabel'), "
        f"{r.empty} without a value" + (f"; new classes: {', '.join(r.new_classes)}" if r.new_classes else "")
    )


def create_prelabeled(
    data: Path, project: Path | None, classes: list[str] | None, column: str, text_column: str | None = None
) -> Path:
    """``aldesk open DATA --labels-from-column COL``: the project the window then opens, created here (as
    ``init`` would) with the column's values as pre-labels. An existing project is opened as it is (pre-labels
    belong to a new project: a second open must not journal them again)."""
    from aldesk.app.paths import default_project_path
    from aldesk.app.workspace import create_project
    from aldesk.core.sources import load_source

    target = Path(project) if project else default_project_path(Path(data))
    if target.exists():
        print(f"note: {target} exists; --labels-from-column applies only to a new project", file=sys.stderr)
        return target
    pre = read_prelabels(Path(data), text_column, column)
    ds = load_source(Path(data), text_column=text_column)
    if classes is None:
        classes = sorted({c for c in ds.known_labels or () if c is not None})
    with create_project(target, ds, classes).project as p:
        apply_prelabels(p, pre, column)
    return target
