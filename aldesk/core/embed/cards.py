"""Model cards: a small JSON file that tells aldesk how to run any ONNX encoder.

A card names the ONNX file, its input/output tensors, the output size, how to pool and how to prepare the input
(image normalisation and size, or the tokenizer and maximum length). Its ``id`` is the embedding cache key, so it
must change whenever the vectors would change.

Paths in a card are relative to the card file, absolute, or ``package:<module>/<file>`` for a file shipped inside
an installed Python package (found through :mod:`importlib.resources`, never a hard-coded site-packages path).

Image normalisation is in 0-255 pixel units, either ``{"mean": [..3], "std": [..3]}`` (y = (x - mean) / std) or
``{"scale": s, "offset": o}`` (y = x * s + o); both may be a number or one value per RGB channel.

A card may come from anyone (a shared folder, a zip), so every field is checked against limits before anything
is allocated from it, and every violation is ONE line naming the card file and the field: sizes that would make
numpy or ONNX Runtime allocate terabytes (``dim``, ``image_size``, ``max_length``), normalisation values that
are not finite (JSON allows ``NaN``), and files the card names that are not regular files or that a relative
path or a symlink would fetch from outside the card's folder. The limits are far above any real encoder's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from aldesk.core.dataset import Kind
from aldesk.core.embed.card_checks import (
    DIM_RANGE,
    IMAGE_SIZE_RANGE,
    MAX_LENGTH_RANGE,
    RESIZE_MAX,
    TEXT_FIELD_MAX,
    TOKEN_STATES_MAX,
    _fail,
    _integer,
    _normalisation,
    _read_card,
    _require,
    _resolve,
    _typed,
)
from aldesk.core.progress import UserError

_BUNDLED = {"image": "efficientnet_lite0.card.json", "text": "e5_small_q4.card.json"}
# Every card shipped with aldesk, the default of each kind first. A project remembers its card's id, so one made
# with an earlier default (MiniLM for texts) keeps embedding with that card (:func:`bundled_card_by_id`).
BUNDLED_CARDS = {
    "image": ("efficientnet_lite0.card.json", "efficientnet_lite0_px32.card.json"),
    "text": ("e5_small_q4.card.json", "minilm_l6_int8.card.json"),
}
PIXELS_MAX = 64  # the pixel block's side: 64 x 64 = 4,096 values at most
PREFIX_MAX = 100  # "query: ", "passage: ", an instruction: a short line put before every text
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
    # the item's own grey pixels, pixels x pixels, appended to the model's features (aldesk/core/embed/pixels.py);
    # 0: none. ``dim`` is then the whole vector's: the model's values plus pixels².
    pixels: int = 0
    # text
    tokenizer: Path | None = None
    max_length: int = 256
    prefix: str = ""  # put before every text (e5 models read "query: ..."); part of the fingerprint when set
    source: Path | None = field(default=None, compare=False)

    @property
    def model_dim(self) -> int:
        """Values per item that the ONNX model itself gives (``dim`` without the pixel block)."""
        return self.dim - self.pixels * self.pixels

    @property
    def fingerprint(self) -> str:
        """A digest of everything that shapes the vectors besides the id (preprocessing, pooling, weights size).

        The cache stores it so vectors made under an edited card with an unchanged id are not served.
        """
        parts: dict[str, Any] = {
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
            if (
                self.pixels
            ):  # only when set: the digests of cards without a block (every cache) stay as they were
                parts["pixels"] = self.pixels
        else:
            parts |= {"max_length": self.max_length, "tokenizer_bytes": _size(self.tokenizer)}
            if (
                self.prefix
            ):  # only when set: the digests of cards without one (MiniLM's cache) stay as they were
                parts["prefix"] = self.prefix
        return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _size(path: Path | None) -> int:
    try:
        return path.stat().st_size if path is not None else -1
    except OSError:
        return -1


def load_card(path: str | Path) -> ModelCard:
    """Read and check a model card.

    Raises
    ------
    UserError
        The file is missing or not JSON, a field is missing, of the wrong type or outside its limits, or the
        ONNX/tokenizer file is missing, not a regular file, or (by a relative path) outside the card's folder.
    """
    card_path = Path(path).expanduser()
    data = _read_card(card_path)
    if not isinstance(data, dict):
        raise UserError(f"Model card {card_path} must be a JSON object.")

    card_id = _require(data, "id", str, card_path).strip()
    if not card_id or not card_id.isprintable():
        raise _fail(card_path, "'id' must be a non-empty line of printable characters.")
    kind = _require(data, "kind", str, card_path)
    if kind not in _BUNDLED:
        raise _fail(card_path, f"'kind' must be 'image' or 'text', not {kind!r:.40}.")
    inputs = _require(data, "inputs", dict, card_path)
    unknown = set(inputs) - set(_INPUT_ROLES[kind])
    missing = [r for r in _REQUIRED_ROLES[kind] if r not in inputs]
    if (
        unknown
        or missing
        or not all(isinstance(v, str) and 0 < len(v) <= TEXT_FIELD_MAX for v in inputs.values())
    ):
        raise _fail(
            card_path,
            f"'inputs' must map {', '.join(_INPUT_ROLES[kind])} to input names "
            f"(missing: {', '.join(missing) or 'none'}; unknown: {', '.join(sorted(unknown))[:200] or 'none'}).",
        )
    output = _require(data, "output", str, card_path)
    if not output:
        raise _fail(card_path, "'output' must name the model's output tensor.")
    dim = _integer(data, "dim", None, DIM_RANGE, card_path)
    pooling = data.get("pooling", "none" if kind == "image" else "mean")
    if pooling not in _POOLINGS[kind]:
        raise _fail(card_path, f"'pooling' must be one of {', '.join(_POOLINGS[kind])}, not {pooling!r:.40}.")
    onnx = _resolve(_require(data, "onnx", str, card_path), card_path.parent, "ONNX model", "onnx", card_path)
    common = {
        "id": card_id,
        "kind": kind,
        "onnx": onnx,
        "inputs": dict(inputs),
        "output": output,
        "dim": dim,
        "pooling": pooling,
        "licence": str(data.get("licence", data.get("license", "unknown")))[:TEXT_FIELD_MAX],
        "name": str(data.get("name", card_id))[:TEXT_FIELD_MAX],
        "source": card_path,
    }
    if kind == "image":
        size = _integer(data, "image_size", None, IMAGE_SIZE_RANGE, card_path)
        resize = _integer(data, "resize", size, (size, RESIZE_MAX), card_path)
        layout = data.get("layout", "NCHW")
        if layout not in ("NCHW", "NHWC"):
            raise _fail(card_path, f"'layout' must be 'NCHW' or 'NHWC', not {layout!r:.40}.")
        scale, offset = _normalisation(_require(data, "normalize", dict, card_path), card_path)
        pixels = _integer(data, "pixels", 0, (0, PIXELS_MAX), card_path)
        if pixels and dim <= pixels * pixels:
            raise _fail(
                card_path, f"'dim' {dim} must count the model's values plus the {pixels}x{pixels} pixels."
            )
        image_fields = {
            "image_size": size,
            "resize": resize,
            "layout": layout,
            "scale": scale,
            "offset": offset,
            "pixels": pixels,
        }
        return ModelCard(**common, **image_fields)
    tokenizer = _resolve(
        _require(data, "tokenizer", str, card_path), card_path.parent, "tokenizer", "tokenizer", card_path
    )
    max_length = _integer(data, "max_length", 256, MAX_LENGTH_RANGE, card_path)
    if max_length * dim > TOKEN_STATES_MAX:
        raise _fail(
            card_path,
            f"'max_length' {max_length} x 'dim' {dim} values of token states per text is more than "
            f"{TOKEN_STATES_MAX:,} ({TOKEN_STATES_MAX * 4 >> 20} MB for ONE text); lower either.",
        )
    prefix = _typed(data.get("prefix", ""), "prefix", str, card_path)
    if len(prefix) > PREFIX_MAX or not prefix.isprintable():
        raise _fail(card_path, f"'prefix' must be one line of at most {PREFIX_MAX} printable characters.")
    return ModelCard(**common, tokenizer=tokenizer, max_length=max_length, prefix=prefix)


def bundled_models_dir() -> Path:
    """The folder of the models shipped with aldesk."""
    return Path(str(resources.files("aldesk").joinpath("resources", "models")))


def default_card(kind: Kind) -> ModelCard:
    """The bundled encoder for ``kind``: EfficientNet-Lite0 for images, multilingual-e5-small (4-bit) for texts."""
    if kind not in _BUNDLED:
        raise ValueError(f"kind must be 'image' or 'text', not {kind!r}")
    return load_card(bundled_models_dir() / _BUNDLED[kind])


def bundled_cards(kind: Kind) -> list[ModelCard]:
    """Every card shipped with aldesk for ``kind``, the default first."""
    return [load_card(bundled_models_dir() / name) for name in BUNDLED_CARDS[kind]]


def bundled_card_by_id(card_id: str, kind: Kind | None = None) -> ModelCard | None:
    """The bundled card whose id is ``card_id`` (the id a project stores), or None.

    Why: a project made with an earlier default card must keep its vectors (the cache is keyed by the id) and
    its k-NN state, so opening it looks its card up by id instead of taking today's default.
    """
    kinds = [kind] if kind is not None else list(BUNDLED_CARDS)
    for k in kinds:
        for name in BUNDLED_CARDS[k]:
            card = load_card(bundled_models_dir() / name)
            if card.id == card_id:
                return card
    return None


def resolve_card(spec: str | Path, kind: Kind | None = None) -> ModelCard:
    """A card named by the user: a bundled card's id or file stem (``e5_small_q4``, ``minilm_l6_int8``), or a path.

    Raises UserError naming the bundled choices when it is neither.
    """
    text = str(spec)
    kinds = [kind] if kind is not None else list(BUNDLED_CARDS)
    for k in kinds:
        for name in BUNDLED_CARDS[k]:
            if text in (name, name.removesuffix(".card.json")):
                return load_card(bundled_models_dir() / name)
    found = bundled_card_by_id(text, kind)
    if found is not None:
        return found
    if Path(text).expanduser().exists():
        return load_card(text)
    choices = ", ".join(n.removesuffix(".card.json") for k in kinds for n in BUNDLED_CARDS[k])
    raise UserError(f"No model card {text!r}: give a card file or a bundled card ({choices}).")
