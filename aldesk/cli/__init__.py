"""The ``aldesk`` command: the app with no sub-command, and the headless sub-commands.

Each sub-command lives in a module of this package with a ``register(subparsers)`` function that adds its
parser and sets ``func`` (a function taking the parsed ``argparse.Namespace`` and returning an exit code).
Only ``argparse`` is imported here, so ``aldesk --help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from aldesk import __version__

# Modules that contribute sub-commands, in the order --help lists them.
_COMMAND_MODULES = (
    "aldesk.cli.app_cmds",
    "aldesk.cli.project_cmds",
    "aldesk.cli.simulate_cmd",
)

EPILOG = """examples:
  aldesk                                   open the start page
  aldesk demo                              open the bundled demo project
  aldesk open photos/ --classes cat,dog    label a folder of images
  aldesk simulate reviews.csv --label-column sentiment --out curves.json
  aldesk init photos/ --project photos.aldesk --classes cat,dog
  aldesk export photos.aldesk --format csv --out labels.csv
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aldesk",
        description="Label a folder of images or a CSV of texts with as few labels as possible (active learning).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"aldesk {__version__}")
    parser.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add aldesk to this user's application menu (.desktop file and icons in ~/.local/share)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a module not written yet must not break the others
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from aldesk.core.progress import Cancelled, UserError
    from aldesk.logsetup import setup_logging

    setup_logging()  # a rotating file in the user log dir; the UI shows its path in error dialogs
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.install_desktop_entry:
        from aldesk.desktop_entry import main as install_desktop_entry

        return install_desktop_entry()
    func = getattr(args, "func", None)
    if func is None:
        try:
            from aldesk.cli.app_cmds import run_app
        except ModuleNotFoundError:
            parser.print_help()
            return 0
        return run_app(args)
    try:
        return int(func(args) or 0)
    except UserError as exc:
        print(f"aldesk: {exc}", file=sys.stderr)
        return 2
    except Cancelled:
        print("aldesk: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("aldesk: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
