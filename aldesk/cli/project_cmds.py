"""Headless project commands: init, info, export, import-labels, relink, recover."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from aldesk.cli.args import add_source_options, existing_file, path_arg

if TYPE_CHECKING:
    import numpy as np

    from aldesk.core.project import Project

FORMATS = (
    "csv",
    "jsonl",
    "imagefolder",
    "labelstudio",
    "hf-imagefolder",
)  # export.FORMATS, without importing it


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
    p.set_defaults(func=run_info)

    p = sub.add_parser(
        "export",
        help="write the labels as csv, jsonl, imagefolder, labelstudio or hf-imagefolder",
        epilog="examples:\n  aldesk export p.aldesk --format csv --out labels.csv\n"
        "  aldesk export p.aldesk --format imagefolder --mode hardlink --out sorted/\n"
        "  aldesk export p.aldesk --format csv --predicted --min-confidence 0.9 --out all.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("project", type=path_arg)
    p.add_argument("--format", choices=FORMATS, required=True)
    p.add_argument(
        "--out",
        type=path_arg,
        required=True,
        help="file (csv, jsonl, labelstudio) or folder: new, empty or an earlier aldesk export",
    )
    p.add_argument(
        "--mode",
        choices=("copy", "hardlink", "symlink"),
        default="copy",
        help="how image exports place files (default copy)",
    )
    p.add_argument(
        "--predicted",
        action="store_true",
        help="also export predicted labels of unlabeled items (embeds the data, from the cache if it can)",
    )
    p.add_argument(
        "--min-confidence",
        type=fraction,
        default=0.0,
        help="with --predicted: lowest confidence kept, 0 to 1",
    )
    p.add_argument(
        "--image-url-prefix",
        default=None,
        help="labelstudio: URL prefix of the images (default: Label Studio local file serving)",
    )
    p.set_defaults(func=run_export)

    p = sub.add_parser("import-labels", help="label items from a CSV with columns item,label")
    p.add_argument("project", type=path_arg)
    p.add_argument("csv", type=existing_file)
    p.add_argument("--overwrite", action="store_true", help="replace labels that differ (default: keep them)")
    p.set_defaults(func=run_import)

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
    _print_list("skipped while reading the data", [f"{pr.key}: {pr.reason}" for pr in ds.problems])
    p.close()
    return 0


def _open_to_read(path: Path, doing: str) -> Project:
    """For commands that only read: opened read-only, as last committed. Nothing is written (no lock, no backup,
    no migration, no -wal), so it works on a read-only medium and beside an aldesk that has it open."""
    from aldesk.core.project import Project
    from aldesk.core.project.lock import read_holder

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
        print(f"project:  {p.path}")
        print(f"data:     {p.root} ({p.kind}, {p.n_items} items)")
        print(f"model:    {p.model_id}" + (f" (card {p.card_path})" if p.card_path else ""))
        print(f"labeled:  {sum(counts.values())}, skipped: {len(p.skipped())}, actions: {p.next_seq()}")
        width = max((len(c) for c in counts), default=0)
        for c, n in counts.items():
            print(f"  {c:<{width}}  {n}")
    return 0


def fraction(text: str) -> float:
    """argparse type: a number from 0 to 1 (a confidence)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"must be from 0 to 1 (got {text})")
    return value


def run_export(args: argparse.Namespace) -> int:
    from aldesk.core.exchange.export import export_project
    from aldesk.core.progress import UserError

    # Before the project is opened (and, with --predicted, the data embedded): a mistyped folder is said at once,
    # naming --out, not the temporary file the export would have written first.
    parent = Path(
        os.path.normpath(args.out.absolute())
    ).parent  # "sub/../p.aldesk" is still p.aldesk's folder
    if not parent.is_dir():
        raise UserError(f"--out {args.out}: the folder {parent} does not exist.")
    with _open_to_read(args.project, "exporting") as p:
        predicted = confidence = None
        if args.predicted:
            predicted, confidence = _predictions(p)
        report = export_project(
            p,
            args.format,
            args.out,
            mode=args.mode,
            predicted=predicted,
            confidence=confidence,
            include_predicted=args.predicted,
            min_confidence=args.min_confidence,
            image_url_prefix=args.image_url_prefix,
        )
    print(
        f"wrote {report.path}: {report.n_labeled} labeled"
        + (f", {report.n_predicted} predicted" if args.predicted else "")
    )
    for note in report.notes:
        print(note)
    _print_list("image files not found (run `aldesk relink` if the folder moved)", report.missing)
    _print_list("refused, not exported (not a regular file inside the data folder)", report.refused)
    return 0 if not (report.missing or report.refused) else 1


def _predictions(p: Project) -> tuple[list[str | None], np.ndarray]:
    """Predictions of the session the window would open: the project's saved k and strategy (not the defaults),
    from the app layer's one way of building it. The project is read-only here: nothing is written to it."""
    from aldesk.app.workspace import Loaded, card_for, embed_workspace
    from aldesk.core.exchange.export import session_predictions

    card = card_for(p)
    if card.id != p.model_id:
        print(f"note: the project was embedded with {p.model_id}; predicting with {card.id}", file=sys.stderr)
    ws = embed_workspace(Loaded(p, p.dataset()), progress=_progress)
    return session_predictions(ws.session)


def _progress(fraction: float, message: str) -> None:
    print(f"\r{fraction:6.1%}  {message[:60]:<60}", end="" if fraction < 1 else "\n", file=sys.stderr)


def run_import(args: argparse.Namespace) -> int:
    from aldesk.core.exchange.imports import import_labels
    from aldesk.core.project import Project

    with Project.open(args.project) as p:
        r = import_labels(p, args.csv, overwrite=args.overwrite)
    print(f"{r.rows} rows: {r.labeled} items labeled, {r.unchanged} already so, {r.empty} without a label")
    if r.new_classes:
        print(f"new classes: {', '.join(r.new_classes)}")
    if r.actions:
        print("one undo in the app reverts this whole import")
    _print_list("labeled otherwise already, kept (use --overwrite to replace)", r.conflicts)
    _print_list("not in the project", r.unmatched)
    return 0


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
