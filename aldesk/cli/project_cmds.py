"""Headless project commands: init, info, relink, recover (export and import-labels: exchange_cmds.py)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from aldesk.cli.args import add_source_options, path_arg

if TYPE_CHECKING:
    from aldesk.core.project import Project


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init",
        help="create a project from a folder of images or a CSV of texts, without the app",
        description="Create a project file. Default location: next to the data (<name>.aldesk), "
        "or the user data folder when that folder is not writable.",
    )
    p.add_argument("data", type=path_arg, help="image folder or CSV/TSV/TXT of texts")
    add_source_options(p, project_help="project file to create (*.aldesk, in an existing folder)")
    p.set_defaults(func=run_init)

    p = sub.add_parser("info", help="items, classes, label counts and model of a project (writes nothing)")
    p.add_argument("project", type=Path)
    p.add_argument(
        "--json",
        action="store_true",
        help='one JSON object: {"items", "labeled", "missing", "classes", "sources", ...}',
    )
    p.set_defaults(func=run_info)

    p = sub.add_parser("relink", help="point a project at its moved image folder (or CSV)")
    p.add_argument("project", type=path_arg)
    p.add_argument("new_root", type=path_arg)
    p.set_defaults(func=run_relink)

    p = sub.add_parser("recover", help="replace a damaged project by its newest good backup")
    p.add_argument("project", type=Path)
    p.add_argument(
        "--backup", type=Path, default=None, help="a specific backup file (default: the newest good one)"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="restore even a project that is not damaged (what it would drop is shown without this)",
    )
    p.set_defaults(func=run_recover)


def _print_list(title: str, items: list[str], limit: int = 10) -> None:
    if not items:
        return
    print(f"{title} ({len(items)}):")
    for s in items[:limit]:
        print(f"  {s[:100]!r}" if "\n" in s or len(s) > 100 else f"  {s}")
    if len(items) > limit:
        print(f"  … and {len(items) - limit} more")


def default_project_path(data: Path) -> Path:
    """The one default (:func:`aldesk.app.paths.default_project_path`): ``aldesk open`` and the window find it."""
    from aldesk.app.paths import default_project_path as default

    return default(data)


def check_new_project(path: Path) -> None:
    """Refuse, before the data is read (minutes for a big folder), a project file that cannot be created."""
    from aldesk.core.progress import UserError

    if path.suffix != ".aldesk":
        raise UserError(
            f"--project {path}: a project file's name ends in .aldesk (e.g. {path.stem or 'p'}.aldesk)."
        )
    if path.exists() or path.is_symlink():
        raise UserError(f"{path} exists already; choose another name or open it.")
    folder = path.absolute().parent
    if not folder.is_dir():
        raise UserError(f"--project {path}: the folder {folder} does not exist.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"--project {path}: the folder {folder} is not writable.")


def run_init(args: argparse.Namespace) -> int:
    from aldesk.app.workspace import create_project
    from aldesk.core.progress import UserError
    from aldesk.core.sources import load_source

    if args.project is not None:
        check_new_project(args.project)
    if args.classes is not None and not [c for c in args.classes.split(",") if c.strip()]:
        raise UserError(f"--classes {args.classes!r} names no class (e.g. --classes cat,dog).")
    pre = None
    if args.labels_from_column:
        from aldesk.cli.prelabels import read_prelabels

        pre = read_prelabels(args.data, args.text_column, args.labels_from_column)
    ds = load_source(args.data, text_column=args.text_column, label_column=args.label_column)
    if args.classes:
        from aldesk.core.names import parse_class_list

        classes = parse_class_list(
            args.classes
        )  # as `aldesk open --classes` and the new-project dialog read it
    else:
        classes = sorted({c for c in ds.known_labels or () if c is not None})
    path = args.project or default_project_path(args.data)
    if path.exists() or path.is_symlink():
        raise UserError(f"{path} exists already: `aldesk open {args.data}` opens it (or give --project).")
    # the app layer's create, as the window's set-up does it (it makes the user's projects folder if needed)
    p = create_project(path, ds, classes, args.model_card).project
    print(f"created {path}: {len(ds)} {ds.kind} items, classes: {', '.join(classes) or '(none yet)'}")
    if pre is not None:
        from aldesk.cli.prelabels import apply_prelabels

        apply_prelabels(p, pre, args.labels_from_column)
    _print_list("skipped while reading the data", [f"{pr.key}: {pr.reason}" for pr in ds.problems])
    p.close()
    return 0


def _open_to_read(path: Path, doing: str) -> Project:
    """For commands that only read: opened read-only, as last committed. Nothing is written (no lock, no backup,
    no migration, no -wal), so it works on a read-only medium and beside an aldesk that has it open."""
    from aldesk.core.project import Project
    from aldesk.core.project.lock_note import read_holder

    p = Project.open(path, readonly=True)
    if p.open_elsewhere:
        holder = read_holder(path)
        who = f" ({holder.describe()})" if holder is not None else ""
        print(
            f"note: {path} is open in another aldesk{who}; {doing} what it has saved so far.", file=sys.stderr
        )
    return p


def run_info(args: argparse.Namespace) -> int:
    with _open_to_read(args.project, "showing") as p:
        counts = p.counts()
        if args.json:
            import json

            print(json.dumps(info_json(p, counts)))
            return 0
        missing = len(p.missing())
        sources = p.sources()
        print(f"project:  {p.path}")
        print(f"data:     {p.root} ({p.kind}, {p.n_items} items)")
        print(f"model:    {p.model_id}" + (f" (card {p.card_path})" if p.card_path else ""))
        for src in sources[1:]:
            print(f"source:   {src.root} (keys {src.prefix}//…)")
        if missing:
            print(f"missing:  {missing} items (their files were gone at the last rescan; labels kept)")
        print(f"labeled:  {sum(counts.values())}, skipped: {len(p.skipped())}, actions: {p.next_seq()}")
        width = max((len(c) for c in counts), default=0)
        for c, n in counts.items():
            print(f"  {c:<{width}}  {n}")
    return 0


def info_json(p: Project, counts: dict[str, int]) -> dict:
    """What ``aldesk info --json`` prints; others parse it, so these keys stay."""
    return {
        "project": str(p.path),
        "kind": p.kind,
        "items": p.n_items,
        "labeled": sum(counts.values()),
        "missing": len(p.missing()),
        "skipped": len(p.skipped()),
        "classes": list(counts),
        "counts": counts,
        "sources": [{"root": str(s.root), "prefix": s.prefix} for s in p.sources()],
        "model": p.model_id,
        "actions": p.next_seq(),
    }


def run_relink(args: argparse.Namespace) -> int:
    from aldesk.core.progress import UserError
    from aldesk.core.project import Project

    if not args.new_root.exists():  # before the open (lock, backup): a typo changes nothing, not even backups
        raise UserError(f"{args.new_root} does not exist; nothing was changed.")
    with Project.open(args.project) as p:
        r = p.relink(args.new_root)
    print(f"relinked to {args.new_root.absolute()}: {r.found} items found")
    _print_list("missing", r.missing)
    return 0 if not r.missing else 1


def run_recover(args: argparse.Namespace) -> int:
    from aldesk.core.project import backup_time, recover

    done = recover(args.project, args.backup, force=args.force)
    kept = f"; the file it replaced was kept as {done.aside[0]}" if done.aside else ""
    print(f"restored {args.project} from the backup of {backup_time(done.backup)} ({done.backup}){kept}")
    return 0
