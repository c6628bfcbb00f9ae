"""The CLI's argument types and output checks: every misuse is one line and a non-zero exit, before any work.

Only argparse and the standard library: ``aldesk --help`` stays instant.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable
from pathlib import Path

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


def add_source_options(
    parser: argparse.ArgumentParser, *, project_help: str, project_type: Callable[[str], object] | None = None
) -> None:
    """The options that say how to read the data and set up its project, shared by ``init`` and ``open`` (one
    definition, so the two can never drift apart: the README's ``aldesk open reviews.csv --text-column ...``).
    ``project_type``: how ``--project`` is parsed (default :func:`path_arg`; ``open`` keeps the typed text)."""
    parser.add_argument("--project", type=project_type or path_arg, default=None, help=project_help)
    parser.add_argument(
        "--classes",
        default=None,
        help="comma list of class names, e.g. cat,dog (default: the data's known labels; open: skips the "
        "set-up dialog)",
    )
    parser.add_argument(
        "--text-column", default=None, help="CSV: the column with the texts (default: detected)"
    )
    parser.add_argument(
        "--label-column",
        default=None,
        help="CSV: a column of known labels (simulate uses them; init and open take their classes from it)",
    )
    parser.add_argument(
        "--model-card", type=existing_file, default=None, help="a model card JSON for your own ONNX encoder"
    )
    parser.add_argument(
        "--labels-from-column",
        default=None,
        metavar="COL",
        help="a new project from a CSV: this column's values become labels (origin 'prelabel', one undo), "
        "to review in the app",
    )


def check_output(
    path: Path, what: str, *, suffixes: Iterable[str] = (), not_over: Iterable[Path] = ()
) -> None:
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
