"""The checks of a model card's fields, each against a limit far above any real encoder's, and the reading of
the card file itself (never blocking on a FIFO, never reading an endless device). Every violation is ONE line
naming the card file and the field (see :mod:`aldesk.core.embed.cards`)."""

from __future__ import annotations

import json
import math
import os
import stat
from importlib import resources
from pathlib import Path
from typing import Any

from aldesk.core.progress import UserError

# Limits with their reasons. Real encoders: dim 128-4096, image_size 32-1024, max_length 64-8192.
DIM_RANGE = (1, 65536)  # a (1M, 65536) float32 result is already 256 GB; beyond this is a typo or an attack
IMAGE_SIZE_RANGE = (8, 2048)  # one 2048^2 RGB float32 input is 50 MB; a batch of 32 is 1.6 GB
RESIZE_MAX = 4096
MAX_LENGTH_RANGE = (2, 8192)  # the longest context of common text encoders
# max_length x dim of a text model's per-token output: 256 MB for one text (8192 x 8192).
TOKEN_STATES_MAX = 1 << 26
NORMALISE_MAX = 1e6  # |scale| and |offset| per channel: larger ones overflow float32 activations downstream
CARD_MAX_BYTES = 1 << 20  # a card is a few hundred bytes; never read a huge (or endless) file into memory
TEXT_FIELD_MAX = 1000  # id, name, licence, tensor names: shown in messages and used as folder names


def _fail(card_path: Path, message: str) -> UserError:
    return UserError(f"Model card {card_path}: {message}")


def _regular_file(path: Path, what: str, field_name: str, card_path: Path) -> Path:
    """``path`` resolved, required to be a regular file (not a folder, device, FIFO or dangling link)."""
    try:
        resolved = path.resolve(strict=True)
        st = resolved.stat()
    except FileNotFoundError:
        raise _fail(card_path, f"the {what} file {path} ({field_name!r}) does not exist.") from None
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop on older Pythons
        raise _fail(card_path, f"the {what} file {path} ({field_name!r}) cannot be read: {exc}.") from None
    if not stat.S_ISREG(st.st_mode):
        raise _fail(card_path, f"the {what} {path} ({field_name!r}) is not a regular file.")
    return resolved


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _resolve(value: str, base: Path, what: str, field_name: str, card_path: Path) -> Path:
    """The file a card field names, resolved and checked.

    A relative path (the usual case: the model ships beside its card) must stay inside the card's folder after
    every ``..`` and symlink is resolved, so a card shipped in a zip cannot make aldesk read a file elsewhere.
    An absolute path is the user's own explicit choice and may point anywhere, but must exist and be a regular
    file. ``package:`` paths must stay inside the installed package.
    """
    if not value.strip():
        raise _fail(card_path, f"{field_name!r} must not be empty.")
    if "\x00" in value:
        raise _fail(card_path, f"{field_name!r} contains a NUL character.")
    if value.startswith("package:"):
        spec = value.removeprefix("package:")
        module, _, rel = spec.partition("/")
        if not module or not rel:
            raise _fail(
                card_path, f"{what} {value!r} ({field_name!r}) must look like 'package:<module>/<file>'."
            )
        try:
            root = resources.files(module)
        except (ModuleNotFoundError, ValueError, TypeError):
            raise _fail(
                card_path, f"{field_name!r} needs the Python package {module!r}, which is not installed."
            ) from None
        # Installed packages (wheels, PyInstaller bundles) are plain directories, so this is a real path.
        root_path = Path(str(root))
        path = _regular_file(root_path.joinpath(*rel.split("/")), what, field_name, card_path)
        if not _inside(path, root_path.resolve()):
            raise _fail(card_path, f"{field_name!r} {value!r} leads outside the package {module!r}.")
        return path
    raw = Path(value).expanduser()
    if raw.is_absolute():
        return _regular_file(raw, what, field_name, card_path)
    path = _regular_file(base / raw, what, field_name, card_path)
    folder = base.resolve()
    if not _inside(path, folder):
        raise _fail(
            card_path,
            f"{field_name!r} {value!r} leads outside the card's folder (to {path}); a relative path must stay "
            "in the card's folder (write an absolute path to use a model elsewhere).",
        )
    return path


def _number(value: Any, what: str, card_path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(card_path, f"{what} must be a number, not {type(value).__name__}.")
    number = float(value)
    if not math.isfinite(number):
        raise _fail(card_path, f"{what} must be a finite number, not {value!r}.")
    return number


def _three(value: Any, what: str, card_path: Path) -> tuple[float, float, float]:
    if isinstance(value, list):
        if len(value) != 3:
            raise _fail(card_path, f"{what} must be a number or a list of 3 numbers (one per RGB channel).")
        return tuple(_number(v, what, card_path) for v in value)  # type: ignore[return-value]
    return (_number(value, what, card_path),) * 3


def _normalisation(spec: dict[str, Any], card_path: Path) -> tuple[tuple[float, ...], tuple[float, ...]]:
    unknown = set(spec) - {"mean", "std", "scale", "offset"}
    if unknown or ({"mean", "std"} & set(spec) and {"scale", "offset"} & set(spec)):
        raise _fail(
            card_path,
            "'normalize' must hold either mean/std or scale/offset"
            + (f" (unknown: {', '.join(sorted(map(str, unknown)))})." if unknown else ", not both."),
        )
    if "mean" in spec or "std" in spec:
        mean = _three(spec.get("mean", 0.0), "normalize.mean", card_path)
        std = _three(spec.get("std", 1.0), "normalize.std", card_path)
        if any(s == 0 for s in std):
            raise _fail(card_path, "normalize.std must not be 0.")
        scale = tuple(1.0 / s for s in std)
        offset = tuple(-m / s for m, s in zip(mean, std, strict=True))
        names = ("normalize.std", "normalize.mean")
    else:
        scale = _three(spec.get("scale", 1.0), "normalize.scale", card_path)
        offset = _three(spec.get("offset", 0.0), "normalize.offset", card_path)
        names = ("normalize.scale", "normalize.offset")
        if any(s == 0 for s in scale):
            raise _fail(card_path, "normalize.scale must not be 0 (every image would look the same).")
    if any(abs(v) > NORMALISE_MAX for v in scale) or any(abs(v) > NORMALISE_MAX for v in offset):
        raise _fail(
            card_path,
            f"{names[0]}/{names[1]} give pixel values beyond +-{NORMALISE_MAX:g} per unit (scale {scale}, "
            f"offset {offset}); real models use values near 1.",
        )
    return scale, offset


def _require(data: dict[str, Any], key: str, typ: type | tuple[type, ...], card_path: Path) -> Any:
    if key not in data:
        raise _fail(card_path, f"the field {key!r} is missing.")
    return _typed(data[key], key, typ, card_path)


def _typed(value: Any, key: str, typ: type | tuple[type, ...], card_path: Path) -> Any:
    if not isinstance(value, typ) or isinstance(value, bool) and typ is int:
        names: dict[Any, str] = {int: "an integer", str: "a string", dict: "an object"}
        want = names.get(typ, str(typ))
        raise _fail(
            card_path, f"the field {key!r} must be {want}, not {type(value).__name__} ({value!r:.40})."
        )
    if isinstance(value, str) and len(value) > TEXT_FIELD_MAX:
        raise _fail(card_path, f"the field {key!r} is longer than {TEXT_FIELD_MAX} characters.")
    return value


def _integer(
    data: dict[str, Any], key: str, default: int | None, bounds: tuple[int, int], card_path: Path
) -> int:
    if key not in data and default is not None:
        value = default
    else:
        value = _require(data, key, int, card_path)
    lo, hi = bounds
    if not lo <= value <= hi:
        raise _fail(card_path, f"the field {key!r} must be from {lo} to {hi}, not {value}.")
    return value


def _read_card(card_path: Path) -> Any:
    """The parsed JSON of a card, read without ever blocking on a FIFO or reading an endless device."""
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
        fd = os.open(card_path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise UserError(f"Model card {card_path} does not exist.") from None
    except OSError as exc:
        raise UserError(f"Model card {card_path} cannot be read: {exc.strerror or exc}.") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise UserError(f"Model card {card_path} is not a regular file.")
        raw = fh.read(CARD_MAX_BYTES + 1)
    if len(raw) > CARD_MAX_BYTES:
        raise UserError(
            f"Model card {card_path} is larger than {CARD_MAX_BYTES >> 10} KiB; a card is a small JSON file."
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"Model card {card_path} is not UTF-8 text (byte {exc.start}).") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"Model card {card_path} is not valid JSON (line {exc.lineno}: {exc.msg}).") from None
    except RecursionError:
        raise UserError(f"Model card {card_path} is nested too deeply to be a model card.") from None
