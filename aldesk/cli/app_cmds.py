"""``aldesk`` (start page), ``aldesk open PATH``, ``aldesk demo [images|texts]``: the desktop app.

PySide6 is imported only when one of these runs, so ``aldesk --help`` and the headless commands stay instant.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aldesk.app.paths import DEMO_KINDS, demo_paths  # noqa: F401 - demo_paths: the old import path
from aldesk.cli.args import path_arg


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
    from aldesk.core.progress import UserError

    path = Path(args.path)
    if not path.exists() and path.suffix != ".aldesk":
        raise UserError(f"{path} does not exist.")
    project = Path(args.project) if args.project else None
    if project is not None and not project.exists():
        from aldesk.cli.project_cmds import check_new_project

        check_new_project(project)  # created by the set-up: its folder must exist and be writable
    classes = _classes(args.classes)
    if args.classes is not None and not classes:
        raise UserError(f"--classes {args.classes!r} names no class (e.g. --classes cat,dog).")
    if getattr(args, "labels_from_column", None):  # the project is made here, headless, then opened
        from aldesk.cli.prelabels import create_prelabeled

        project = create_prelabeled(path, project, classes, args.labels_from_column)
    from aldesk.ui.shell.app import open_and_run

    return open_and_run(path, project, classes)


def cmd_demo(args: argparse.Namespace) -> int:
    from aldesk.ui.shell.app import demo_and_run

    return demo_and_run(args.which)


def run_app(args: argparse.Namespace) -> int:
    from aldesk.ui.shell.app import run

    return run()


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("open", help="open a folder of images, a CSV of texts or a project in the app")
    p.add_argument("path", type=_path_text, help="image folder, CSV/TSV/TXT of texts, or *.aldesk project")
    p.add_argument(
        "--project", type=_path_text, help="project file to create or open (default: next to the data)"
    )
    p.add_argument("--classes", help="comma-separated class names; skips the set-up dialog")
    p.add_argument(
        "--labels-from-column",
        metavar="COL",
        help="a new project from a CSV: this column's values become pre-labels (origin 'prelabel')",
    )
    p.set_defaults(func=cmd_open)
    d = subparsers.add_parser(
        "demo", help="open the bundled demo (Fashion-MNIST images or movie-review texts)"
    )
    d.add_argument("which", nargs="?", choices=DEMO_KINDS, default="images")
    d.set_defaults(func=cmd_demo)
