"""Where a project lives: the one default project path for a data source, and the bundled demo's paths.

``aldesk init photos/`` and ``aldesk open photos/`` (and the window's Open) all call :func:`default_project_path`,
so with any data folder, writable or not, they find the same project.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_SUFFIX = ".aldesk"
DEMO_KINDS = ("images", "texts")


def projects_folder() -> Path:
    """The user's folder for projects whose data sits in a folder they cannot write (not created here)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("aldesk")) / "projects"


def folder_writable(folder: Path) -> bool:
    """Whether a new file can be made in ``folder``.

    ``os.access`` answers for the effective user, and the kernel answers EROFS for a read-only mount even to root
    (who may write anywhere else): the decision holds for root too. Nothing is written to find out — the folder
    may be the user's data, which aldesk never writes into to probe it."""
    try:
        return os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)
    except OSError:
        return False


def default_project_path(data: Path | str) -> Path:
    """``photos/`` -> ``photos.aldesk`` beside it; ``reviews.csv`` -> ``reviews.aldesk``; a folder of the user's
    (:func:`projects_folder`) when the data's folder cannot be written.

    A project made by an older aldesk in the user data folder itself (where ``aldesk init`` used to put it) is
    found there, so such a project still opens instead of a second one being set up."""
    data = Path(data).absolute()
    name = (data.name if data.is_dir() else data.stem) + PROJECT_SUFFIX
    beside = data.parent / name
    if folder_writable(data.parent):
        return beside
    if beside.exists():  # made while the folder was writable: the same project, not a second one
        return beside
    target = projects_folder() / name
    legacy = target.parent.parent / name
    if not target.exists() and legacy.is_file():
        return legacy
    return target


def demo_paths(which: str) -> tuple[Path, Path, list[str]]:
    """The bundled demo data, its project file in the user data folder (whose folder is made), and its classes."""
    from platformdirs import user_data_dir

    import aldesk

    if which not in DEMO_KINDS:
        raise ValueError(f"unknown demo {which!r}")
    base = Path(aldesk.__file__).parent / "resources" / "demo"
    data = base / ("images" if which == "images" else "texts.csv")
    project = Path(user_data_dir("aldesk")) / "demo" / f"demo-{which}{PROJECT_SUFFIX}"
    project.parent.mkdir(parents=True, exist_ok=True)
    if which == "images":
        classes = sorted(p.name for p in data.iterdir() if p.is_dir() and not p.name.startswith("."))
    else:
        classes = ["fresh", "rotten"]
    return data, project, classes
