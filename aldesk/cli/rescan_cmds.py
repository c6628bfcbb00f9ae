"""``aldesk rescan`` and ``aldesk add-source``: a project's item list brought up to date with its data.

Both plan without writing, then write the plan and its one logged action in one transaction
(:mod:`aldesk.core.project.rescan`); a refusal (a source gone, a CSV whose columns changed, a project open in
another aldesk) is one line and changes nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from aldesk.cli.args import path_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rescan",
        help="add the new files (or CSV rows) of a project's data; mark the gone ones missing",
        description="List the project's folders and CSVs again: new items join (only they are embedded on the "
        "next open), items whose file is gone are marked missing (labels kept; they come back with the file), "
        "renamed files keep their labels. One logged action; labels, classes and undo history are kept.",
        epilog="example:\n  aldesk rescan photos.aldesk --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("project", type=path_arg)
    p.add_argument("--json", action="store_true", help="print what changed as JSON")
    p.set_defaults(func=run_rescan)

    p = sub.add_parser(
        "add-source",
        help="add a second folder of images (or CSV of texts) to a project",
        description="Its items join the project with keys of their own (SOURCE//path for images), read only "
        "from inside that folder; items already in the project (same content) are not added twice.",
        epilog="example:\n  aldesk add-source photos.aldesk more_photos/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("project", type=path_arg)
    p.add_argument("source", type=path_arg, help="a folder of images or a CSV/TSV/TXT of texts")
    p.add_argument("--json", action="store_true", help="print what changed as JSON")
    p.set_defaults(func=run_add_source)


def _run(project: Path, source: Path | None, as_json: bool) -> int:
    from aldesk.core.progress import UserError
    from aldesk.core.project import Project
    from aldesk.core.project.rescan import apply, plan_add_source, plan_rescan

    if not project.is_file():  # before the open: a typo makes no backup and takes no lock
        raise UserError(f"{project} does not exist or is not a project file; nothing was changed.")
    with Project.open(project) as p:
        plan = plan_add_source(p, source) if source is not None else plan_rescan(p)
        report = apply(p, plan)
        n_items, n_missing = p.n_items, len(p.missing())
    if as_json:
        print(json.dumps(report.to_json() | {"items": n_items, "missing_now": n_missing}))
        return 0
    where = f"added source {report.source!r}: " if report.source else ""
    print(
        f"{where}{len(report.added):,} new item{'s' * (len(report.added) != 1)}, {len(report.missing):,} marked missing, "
        f"{len(report.refound):,} found again, {len(report.renamed):,} renamed "
        f"({n_items:,} items, {n_missing:,} missing)"
    )
    _list("marked missing (labels kept; they come back with their files)", report.missing)
    _list("found again", report.refound)
    _list("renamed (labels kept)", [f"{a} -> {b}" for a, b in report.renamed])
    _list("cannot be read now, left as they were", report.unreadable)
    _list("copies of items already in the project, not added", report.copies)
    _list("skipped", report.problems)
    return 0


def _list(title: str, items: list[str]) -> None:
    from aldesk.cli.project_cmds import _print_list

    _print_list(title, items)


def run_rescan(args: argparse.Namespace) -> int:
    return _run(args.project, None, args.json)


def run_add_source(args: argparse.Namespace) -> int:
    return _run(args.project, args.source, args.json)
