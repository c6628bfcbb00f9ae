"""The ``aldesk`` command: the app with no sub-command, and the headless sub-commands.

Each sub-command lives in a module of this package with a ``register(subparsers)`` function that adds its
parser and sets ``func`` (a function taking the parsed ``argparse.Namespace`` and returning an exit code).
Only ``argparse`` is imported here, so ``aldesk --help`` is instant.

Every misuse is one line on stderr and a non-zero exit, found before any long work: argument errors by argparse
(exit 2; :class:`OneLineParser` keeps them to one line), outputs by :func:`check_output` before the data is read.
A reader that closes the pipe early (``aldesk info p | head -1``) ends the command quietly, as Python's
documentation on SIGPIPE advises.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

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


# 128 + SIGPIPE: what a shell reports for a command whose reader went away (``yes | head`` exits so).
EXIT_BROKEN_PIPE = 141
# Files beside a project that are part of it: an output written over one of them destroys the project.
COMPANION_SUFFIXES = ("-wal", "-shm", "-journal", ".lock")


class OneLineParser(argparse.ArgumentParser):
    """argparse, with its errors on ONE line (the usage block it prints first buries the one line that matters);
    the sub-command's --help is named instead. Exit code 2, as argparse's own."""

    def error(self, message: str) -> None:  # type: ignore[override] - argparse's signature returns NoReturn
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (a budget, k)."""
    return _int_at_least(text, 1)


def int_at_least(low: int) -> Callable[[str], int]:
    """argparse type: an integer >= ``low`` (folds >= 2, a seed >= 0)."""

    def parse(text: str) -> int:
        return _int_at_least(text, low)

    parse.__name__ = "int"  # argparse names the type in "invalid int value"
    return parse


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low} (got {value})")
    return value


def path_arg(text: str) -> Path:
    """argparse type: a path that is not the empty string (``Path("")`` would silently mean the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path names no file")
    return Path(text)


def existing_file(text: str) -> Path:
    """argparse type: an existing regular file (a model card, a CSV of labels); a folder is named as such."""
    path = path_arg(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder, not a file")
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{path} does not exist")
    return path


def check_output(path: Path, what: str, *, suffixes: Iterable[str] = (), not_over: Iterable[Path] = ()) -> None:
    """Refuse, before any long work, an output file that cannot be written or must not be.

    Its folder must exist and be writable; it must not be a folder, a project (``*.aldesk``) or a project's
    companion file, nor any of ``not_over`` (the input data, another output). ``suffixes``: the ones the writer
    supports. Raises :class:`aldesk.core.progress.UserError` with one line.
    """
    from aldesk.core.progress import UserError

    suffixes = tuple(suffixes)
    if suffixes and path.suffix.lower() not in suffixes:
        raise UserError(f"{what} {path}: the file name must end in {' or '.join(suffixes)}.")
    if path.is_dir():
        raise UserError(f"{what} {path} is a folder; give a file name.")
    name = path.name
    if name.endswith(".aldesk") or any(name.endswith(".aldesk" + c) for c in COMPANION_SUFFIXES):
        raise UserError(f"{what} {path} would replace an aldesk project file; choose another name.")
    for other in not_over:
        if _same_file(path, other):
            raise UserError(f"{what} {path} is the same file as {other}; choose another name.")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise UserError(f"{what} {path}: the folder {parent} does not exist.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{what} {path}: the folder {parent} is not writable.")
    if path.exists() and not path.is_file():
        raise UserError(f"{what} {path} exists and is not a regular file.")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): the same only if they name the same place
        return a.absolute().resolve() == b.absolute().resolve()


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
        print(f"aldesk: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except Cancelled:
        print("aldesk: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("aldesk: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
