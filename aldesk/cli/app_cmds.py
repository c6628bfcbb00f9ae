"""``aldesk`` (start page), ``aldesk open PATH``, ``aldesk demo [images|texts]``: the desktop app.

PySide6 is imported only when one of these runs, so ``aldesk --help`` and the headless commands stay instant.
Each first checks that a display is there (aldesk/cli/display_check.py): Qt's own failure is an abort.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aldesk.app.paths import DEMO_KINDS, demo_paths  # noqa: F401 - demo_paths: the old import path
from aldesk.cli.args import add_source_options, path_arg


def _classes(text: str | None) -> list[str] | None:
    if text is None:
        return None
    from aldesk.core.names import parse_class_list  # the one reading of a class list (no Qt for a string)

    return parse_class_list(text)


def _path_text(text: str) -> str:
    """argparse type: a non-empty path, kept as the text the user typed (the app takes it as given)."""
    path_arg(text)
    return text


def cmd_open(args: argparse.Namespace) -> int:
    """Checked here, before Qt starts: a misuse is one line in the terminal, not a window that opens to refuse."""
    from aldesk.app.paths import PROJECT_SUFFIX, default_project_path
    from aldesk.cli.display_check import check_display
    from aldesk.core.progress import UserError

    path = Path(args.path)
    if not path.exists() and path.suffix != PROJECT_SUFFIX:
        raise UserError(f"{path} does not exist.")
    project = Path(args.project) if args.project else None
    if project is not None and not project.exists():
        from aldesk.cli.project_cmds import check_new_project

        check_new_project(project)  # created by the set-up: its folder must exist and be writable
    classes = _classes(args.classes)
    if args.classes is not None and not classes:
        raise UserError(f"--classes {args.classes!r} names no class (e.g. --classes cat,dog).")
    source = {
        "text_column": args.text_column,
        "label_column": args.label_column,
        "model_card": args.model_card,
    }
    given = [f"--{k.replace('_', '-')}" for k, v in source.items() if v is not None]
    target = path if path.suffix == PROJECT_SUFFIX else (project or default_project_path(path))
    if given and target.exists():
        # Said, not silently dropped: an existing project keeps the items and model it was made with.
        print(f"note: {target} exists; {', '.join(given)} only apply to a new project.", file=sys.stderr)
    check_display()
    if args.graph is not None and args.vectors is None:
        raise UserError("--graph goes with --vectors TABLE (the table it was built from).")
    if args.vectors is not None:
        project = _import_vectors(path, target, classes, args)
    if getattr(args, "labels_from_column", None):  # the project is made here, headless, then opened
        from aldesk.cli.prelabels import create_prelabeled

        project = create_prelabeled(path, project, classes, args.labels_from_column, args.text_column)
    from aldesk.ui.shell.app import open_and_run

    return open_and_run(path, project, classes, **source)


def _import_vectors(path: Path, target: Path, classes: list[str] | None, args: argparse.Namespace) -> Path:
    """``open SOURCE --vectors TABLE``: the project (made here, as ``init`` would, when it does not exist yet) gets
    the table's vectors and graph in its caches; the window then opens it and embeds only what is missing."""
    from aldesk.app.import_vectors import import_vectors
    from aldesk.app.workspace import create_project
    from aldesk.core.progress import UserError

    if not target.exists():
        if target == path:
            raise UserError(f"{target} does not exist.")
        from aldesk.core.sources import load_source

        ds = load_source(path, text_column=args.text_column, label_column=args.label_column)
        if classes is None:
            classes = sorted({c for c in ds.known_labels or () if c is not None})
        create_project(target, ds, classes, args.model_card).project.close()
        print(f"created {target}: {len(ds)} {ds.kind} items", file=sys.stderr)
    rep = import_vectors(target, Path(args.vectors), Path(args.graph) if args.graph else None)
    print(
        f"{rep.in_table:,} of {rep.items:,} items have vectors in {args.vectors}; {rep.missing:,} will be embedded; "
        f"graph: {rep.graph}",
        file=sys.stderr,
    )
    return target


def cmd_demo(args: argparse.Namespace) -> int:
    from aldesk.cli.display_check import check_display

    check_display()
    from aldesk.ui.shell.app import demo_and_run

    return demo_and_run(args.which)


def run_app(args: argparse.Namespace) -> int:
    from aldesk.cli.display_check import check_display

    check_display()
    from aldesk.ui.shell.app import run

    return run()


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("open", help="open a folder of images, a CSV of texts or a project in the app")
    p.add_argument("path", type=_path_text, help="image folder, CSV/TSV/TXT of texts, or *.aldesk project")
    add_source_options(
        p, project_help="project file to create or open (default: next to the data)", project_type=_path_text
    )
    p.add_argument(
        "--vectors",
        type=path_arg,
        default=None,
        metavar="TABLE",
        help="a vectors table made by `aldesk embed` (on a cluster): put into the project's caches first, so the "
        "open embeds only what the table lacks",
    )
    p.add_argument("--graph", type=path_arg, default=None, help="with --vectors: its graph (`aldesk graph`)")
    p.set_defaults(func=cmd_open)
    d = subparsers.add_parser(
        "demo", help="open the bundled demo (Fashion-MNIST images or movie-review texts)"
    )
    d.add_argument("which", nargs="?", choices=DEMO_KINDS, default="images")
    d.set_defaults(func=cmd_demo)
