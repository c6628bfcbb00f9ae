"""The ``aldesk`` command: the app with no sub-command, and the headless sub-commands.

Each sub-command lives in a module of this package with a ``register(subparsers)`` function that adds its
parser and sets ``func`` (a function taking the parsed ``argparse.Namespace`` and returning an exit code).
Only ``argparse`` is imported here, so ``aldesk --help`` is instant.

Every misuse is one line on stderr and a non-zero exit, found before any long work: argument errors by argparse
(exit 2; :class:`OneLineParser` keeps them to one line), outputs by :func:`check_output` before the data is read.
A reader that closes the pipe early (``aldesk info p | head -1``) ends the command quietly, as Python's
documentation on SIGPIPE advises; Ctrl+C ends any command with one line and exit code 130 (128 + SIGINT), as a
shell reports it. ``aldesk PATH.aldesk`` (what a file manager runs for a double-clicked project, the desktop
entry's ``Exec=aldesk %f``) is ``aldesk open PATH.aldesk``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from aldesk import __version__
from aldesk.cli.args import (  # noqa: F401 - the argument types, re-exported for the commands' modules
    OneLineParser,
    check_output,
    existing_file,
    int_at_least,
    path_arg,
    positive_int,
)

# Modules that contribute sub-commands, in the order --help lists them.
_COMMAND_MODULES = (
    "aldesk.cli.app_cmds",
    "aldesk.cli.project_cmds",
    "aldesk.cli.rescan_cmds",
    "aldesk.cli.exchange_cmds",
    "aldesk.cli.simulate_cmd",
    "aldesk.cli.scaleout_cmds",
    "aldesk.cli.quality_cmds",
    "aldesk.cli.embed_cmds",
)

EPILOG = """examples:
  aldesk                                   open the start page
  aldesk demo                              open the bundled demo project
  aldesk open photos/ --classes cat,dog    label a folder of images
  aldesk simulate reviews.csv --label-column sentiment --out curves.json
  aldesk init photos/ --project photos.aldesk --classes cat,dog
  aldesk export photos.aldesk --format csv --out labels.csv
  aldesk export photos.aldesk --format imagefolder --split --out for-training/
  aldesk import-labels photos.aldesk labels.csv
"""


# 128 + SIGPIPE: what a shell reports for a command whose reader went away (``yes | head`` exits so).
EXIT_BROKEN_PIPE = 141
# 128 + SIGINT: what a shell reports for a command ended by Ctrl+C.
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
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
    try:
        try:
            return _main(argv)
        finally:  # also after --help (SystemExit): a reader gone away shows here, not at the interpreter's exit
            sys.stdout.flush()
    except KeyboardInterrupt:
        # Anywhere: while the heavy modules import, in argparse, in a command. One line, never a traceback.
        return _interrupted()
    except BrokenPipeError:
        # Python's documented way (signal module, "Note on SIGPIPE"): the remaining output goes to /dev/null,
        # so the flush at exit cannot raise again, and the exit is quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.stdout, sys.stderr):
            try:
                os.dup2(devnull, stream.fileno())
            except (OSError, ValueError):  # a stream without a file descriptor (tests capture them)
                pass
        return EXIT_BROKEN_PIPE


def _main(argv: list[str] | None) -> int:
    from aldesk.core.progress import Cancelled, UserError
    from aldesk.logsetup import setup_logging

    setup_logging()  # a rotating file in the user log dir; the UI shows its path in error dialogs
    from aldesk.core.memory import no_huge_page_advice

    no_huge_page_advice()  # before numpy allocates anything large (aldesk/core/memory.py)
    parser = build_parser()
    args = parser.parse_args(_with_open_for_a_path(parser, sys.argv[1:] if argv is None else list(argv)))
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
        func = run_app  # the start page: its refusals (no display) are one line too
    try:
        return int(func(args) or 0)
    except UserError as exc:
        print(f"aldesk: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except Cancelled:
        print("aldesk: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        return _interrupted()


def _interrupted() -> int:
    """Ctrl+C: one line. On a terminal it starts on a line of its own (a progress bar and the echoed ``^C`` are
    on the current one)."""
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    print(("\n" if tty else "") + "aldesk: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def _with_open_for_a_path(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``aldesk PATH ...`` -> ``aldesk open PATH ...`` when PATH is no sub-command but a project or an existing
    path: a file manager starts ``aldesk /home/me/photos.aldesk`` for a double-clicked project. Anything else is
    left to argparse (a mistyped command is still "invalid choice")."""
    if not argv or argv[0].startswith("-"):
        return argv
    commands: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            commands.update(action.choices)
    first = argv[0]
    if first in commands:
        return argv
    if first.endswith(".aldesk") or os.path.exists(first):
        return ["open", *argv]
    return argv


def gui_main() -> int:
    """The ``aldesk-gui`` entry point (pyproject ``gui-scripts``): on Windows it starts without a console window,
    and then ``sys.stdout``/``sys.stderr`` are ``None``; writes go to the null device (the log file keeps what
    matters) instead of failing."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - for the whole process
    return main()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
