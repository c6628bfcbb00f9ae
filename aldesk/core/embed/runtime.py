"""ONNX Runtime sessions and output pooling, shared by the image and text pipelines.

A model file may come from anyone, so before a session is used it is checked in three steps, each failing with
one line that names the card or the model: the graph is scanned for operators whose run time no input size
bounds (:func:`check_graph`); the declared input and output tensors are compared with the card (names, element
types, ranks, fixed sizes); and one probe inference on a tiny plain input must give ``dim`` finite values.

onnxruntime is imported here, inside functions, so ``import aldesk.core.embed`` stays cheap (DESIGN.md, 4).
"""

from __future__ import annotations

import mmap
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from aldesk.core.embed import providers
from aldesk.core.embed.cards import ModelCard
from aldesk.core.progress import UserError

_SessionKey = tuple[str, int, int, tuple[str, ...]]  # (model path, size, mtime, providers asked for)
_sessions: dict[_SessionKey, Any] = {}
_verified: set[tuple[_SessionKey, str, str]] = set()  # (session key, card id, card fingerprint)
_lock = threading.Lock()

# Operators that repeat a sub-graph a number of times read from the graph or its data, not bounded by the size
# of the input: a Loop with 2**62 trips runs for ever and ONNX Runtime cannot be interrupted inside it by
# anything but a terminate flag. Encoders (CNNs, transformers) never need them; recurrent and generative graphs
# (beam search, decoders) do, and aldesk does not run those.
UNBOUNDED_OPS = frozenset({"Loop", "Scan", "BeamSearch", "GreedySearch", "Sampling", "WhisperBeamSearch"})
_MAX_GRAPH_DEPTH = 32  # sub-graphs nested in If/Loop attributes; real models nest 1-3 deep


def session(card: ModelCard) -> Any:
    """An InferenceSession for the card's model, reused across calls (creation costs ~0.1-0.5 s).

    It runs on the execution providers the user allows (:mod:`aldesk.core.embed.providers`; CPU by default) and
    falls back to the CPU, with one logged line, when an accelerator fails to start or fails the probe.
    The first time a card meets a model file, the file's graph, its declared tensors and one probe inference
    are checked against the card (see the module docstring); a failure is a :class:`UserError`.
    """
    path = Path(card.onnx)
    stat = path.stat()
    wanted = tuple(providers.requested())
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, wanted)
    with _lock:
        sess = _sessions.get(key)
        if sess is None:
            check_graph(path)
            sess = _create(path, wanted)
            _sessions[key] = sess
        checked = (key, card.id, card.fingerprint)
        if checked not in _verified:
            # Per card, not per file: two cards may describe one file differently, and only one may be right.
            _check_signature(card, sess)
            try:
                _probe(card, sess)
            except UserError as exc:
                if sess.get_providers()[0] == providers.CPU:
                    raise
                providers.log.warning(
                    "The model %s fails its probe on %s (%s); running it on the CPU.",
                    path.name,
                    sess.get_providers()[0],
                    exc,
                )
                sess = _sessions[key] = _create(path, (providers.CPU,))
                _probe(card, sess)
            _verified.add(checked)
    return sess


def _create(path: Path, wanted: tuple[str, ...]) -> Any:
    """A session on ``wanted`` (ending with CPU); on any failure of an accelerator, a CPU one and one log line."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle ORT threads otherwise busy-wait between kernels, taking the cores that image decoding
    # (overlapped with inference) needs; measured neutral for model-only speed on 2 cores.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Errors only: ORT's own warnings (shape-merge notes of fused graphs, a provider that is not usable) would
    # print several lines per session; a fallback is logged once below, in words.
    opts.log_severity_level = 3
    if wanted[0] != providers.CPU:
        try:
            with warnings.catch_warnings():  # onnxruntime also warns in Python about a provider it lacks
                warnings.simplefilter("ignore", UserWarning)
                sess = ort.InferenceSession(str(path), sess_options=opts, providers=list(wanted))
        except Exception as exc:  # noqa: BLE001 - any accelerator failure means: run on the CPU
            providers.log.warning(
                "The model %s cannot start on %s (%s); running it on the CPU.",
                path.name,
                ", ".join(wanted[:-1]),
                _one_line(exc),
            )
        else:
            used = sess.get_providers()
            if used[0] == providers.CPU:
                providers.log.warning(
                    "The model %s runs on the CPU: %s did not start here.", path.name, ", ".join(wanted[:-1])
                )
            return sess
    try:
        return ort.InferenceSession(str(path), sess_options=opts, providers=[providers.CPU])
    except Exception as exc:  # noqa: BLE001 - ORT raises its own untyped errors for bad files
        raise UserError(f"The model {path} cannot be loaded by ONNX Runtime: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("…" if len(text) > 300 else "")


# -- the graph --------------------------------------------------------------------------------------------------
def _varint(buf: memoryview, pos: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise ValueError("bad varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(buf: memoryview, start: int, end: int) -> Any:
    """(field number, (start, end)) of every length-delimited field of one protobuf message; others skipped."""
    pos = start
    while pos < end:
        tag, pos = _varint(buf, pos, end)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            _, pos = _varint(buf, pos, end)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            if pos + length > end:
                raise ValueError("truncated field")
            yield field, (pos, pos + length)
            pos += length
        else:
            raise ValueError(f"wire type {wire}")
        if pos > end:
            raise ValueError("truncated message")


def _graph_ops(buf: memoryview) -> set[str]:
    """Every operator type in an ONNX ModelProto: the main graph, sub-graphs of any depth, local functions.

    A small reader of the protobuf wire format (ModelProto.graph = 7, .functions = 25; GraphProto.node = 1;
    FunctionProto.node = 7; NodeProto.op_type = 4, .attribute = 5; AttributeProto.g = 6, .graphs = 11), so the
    check needs no ``onnx`` package at run time. Weights are skipped by their length, never copied.
    """
    ops: set[str] = set()
    # (kind, start, end, depth); kinds: m model, g graph, f function, n node, a attribute
    stack: list[tuple[str, int, int, int]] = [("m", 0, len(buf), 0)]
    children = {"m": {7: "g", 25: "f"}, "g": {1: "n"}, "f": {7: "n"}, "n": {5: "a"}, "a": {6: "g", 11: "g"}}
    while stack:
        kind, start, end, depth = stack.pop()
        if depth > _MAX_GRAPH_DEPTH:
            raise ValueError("sub-graphs nested too deeply")
        wanted = children[kind]
        for field, (s, e) in _fields(buf, start, end):
            if kind == "n" and field == 4:
                ops.add(bytes(buf[s:e]).decode("utf-8", "replace"))
            elif field in wanted:
                child = wanted[field]
                stack.append((child, s, e, depth + (child == "g")))
    return ops


def check_graph(path: Path) -> None:
    """Refuse a model whose graph holds an operator with an unbounded number of iterations (Loop, Scan, ...).

    Why a static refusal and not a run timeout: a timeout is a guess about the machine's speed (a loaded 2-core
    laptop runs one batch ten times slower than an idle desktop), so it either stops honest slow runs or is too
    long to help; and ONNX Runtime only looks at ``RunOptions.terminate`` between kernels, so a watchdog cannot
    stop every hang either. Without these operators, every kernel's work is bounded by its tensors' sizes, and
    those are bounded by the card's checked limits and the batch. No encoder aldesk is meant for needs them.
    """
    try:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            buf = memoryview(mm)
            try:
                ops = _graph_ops(buf)
            finally:
                buf.release()
    except (OSError, ValueError) as exc:
        raise UserError(f"The model {path} is not a readable ONNX file ({exc}).") from None
    if not ops:
        raise UserError(f"The model {path} is not an ONNX model (no graph found in it).")
    bad = sorted(ops & UNBOUNDED_OPS)
    if bad:
        raise UserError(
            f"The model {path} contains {', '.join(bad)} operators, whose number of iterations no input bounds; "
            "aldesk runs only encoders without them (export the model without loops)."
        )


# -- the declared tensors ---------------------------------------------------------------------------------------
_FLOAT_TYPES = ("tensor(float)", "tensor(double)", "tensor(float16)")


def _fixed(dim: Any) -> int | None:
    return dim if isinstance(dim, int) and dim > 0 else None


def _check_signature(card: ModelCard, sess: Any) -> None:
    """The model's declared inputs and output against the card: names, element types, ranks, fixed sizes."""
    where = f"Model card {card.source}: the model {Path(card.onnx).name}"
    inputs = {i.name: i for i in sess.get_inputs()}
    outputs = {o.name: o for o in sess.get_outputs()}
    missing = [n for n in card.inputs.values() if n not in inputs]
    if missing or card.output not in outputs:
        raise UserError(
            f"{where} has inputs {sorted(inputs)} and outputs {sorted(outputs)}; "
            f"the card names inputs {sorted(card.inputs.values())} and output {card.output!r}."
        )
    unfed = sorted(set(inputs) - set(card.inputs.values()))
    if unfed:
        raise UserError(f"{where} also needs the inputs {unfed}, which the card does not map to a role.")
    for role, name in card.inputs.items():
        arg = inputs[name]
        shape = arg.shape if isinstance(arg.shape, list) else None
        if card.kind == "image":
            want_type, want_rank = "tensor(float)", 4
        else:
            want_type, want_rank = "tensor(int64)", 2
        if arg.type != want_type:
            raise UserError(
                f"{where}: input {name!r} takes {arg.type}, but aldesk feeds {role} as {want_type}."
            )
        if shape is None:
            continue
        if len(shape) != want_rank:
            raise UserError(
                f"{where}: input {name!r} has {len(shape)} axes {shape}; {role} needs {want_rank}."
            )
        if card.kind == "image":
            s = card.image_size
            want = [None, 3, s, s] if card.layout == "NCHW" else [None, s, s, 3]
            for axis, (have, need) in enumerate(zip(shape, want, strict=True)):
                if need is not None and _fixed(have) is not None and have != need:
                    raise UserError(
                        f"{where}: input {name!r} has the shape {shape}, but the card's image_size {s} and "
                        f"layout {card.layout} give {['N', *want[1:]]} (axis {axis})."
                    )
        elif _fixed(shape[1]) is not None:
            raise UserError(
                f"{where}: input {name!r} takes exactly {shape[1]} tokens per text; aldesk pads each batch to "
                "its longest text and needs a model with a variable sequence length."
            )
    out = outputs[card.output]
    if out.type not in _FLOAT_TYPES:
        raise UserError(f"{where}: output {card.output!r} is {out.type}, not a float tensor.")
    shape = out.shape if isinstance(out.shape, list) else None
    if shape is None:
        return
    if card.kind == "text":
        rank_ok = len(shape) == (2 if card.pooling == "none" else 3)
        feature_axis = len(shape) - 1
    elif card.pooling == "none":
        rank_ok, feature_axis = len(shape) == 2, 1
    else:
        rank_ok = len(shape) >= 2
        feature_axis = 1 if card.layout == "NCHW" else len(shape) - 1
    if not rank_ok:
        raise UserError(
            f"{where}: output {card.output!r} has {len(shape)} axes {shape}, which {card.pooling!r} pooling "
            f"of a {card.kind} model cannot turn into one vector per item."
        )
    have = _fixed(shape[feature_axis])
    if have is not None and have != card.model_dim:
        raise UserError(
            f"{where}: output {card.output!r} has {have} values per item (shape {shape}), but the card says "
            f"'dim' {card.model_dim}" + (f" (+ {card.pixels}² pixels)." if card.pixels else ".")
        )


def _probe(card: ModelCard, sess: Any) -> None:
    """One inference on a tiny plain input (a mid-grey image, a short sentence): the right size, all finite."""
    mask = None
    if card.kind == "image":
        from aldesk.core.embed.image import normalise

        grey = np.full((card.image_size, card.image_size, 3), 128, dtype=np.uint8)
        feeds = {card.inputs["image"]: normalise(grey, card)[None]}
        what = "a mid-grey image"
    else:
        from aldesk.core.embed.text import encode

        feeds = encode(card, ["A short plain sentence to check the model."])
        mask = feeds[card.inputs["attention_mask"]]
        what = "a short sentence"
    try:
        out = sess.run([card.output], feeds)[0]
    except Exception as exc:  # noqa: BLE001 - ORT's errors are untyped
        raise UserError(f"Model card {card.source}: the model fails on {what}: {_one_line(exc)}") from None
    vec = _pool(card, out, mask)
    if not np.isfinite(vec).all():
        raise UserError(
            f"Model card {card.source}: the model gives NaN or infinite values for {what}; it is broken "
            "(or the card's normalisation does not fit it), so none of its vectors can be trusted."
        )


# -- outputs ----------------------------------------------------------------------------------------------------
def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; norms in float64, so huge finite values do not overflow to infinity.

    A non-finite row stays non-finite (NaN), so :func:`finite_rows` still sees it after normalising.
    """
    x = np.asarray(x, dtype=np.float32)
    # NaN/inf rows are the caller's to report, not warnings.
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)
        return (x / np.maximum(norms, 1e-12)).astype(np.float32)


def finite_rows(x: np.ndarray) -> np.ndarray:
    """bool (n,): which vectors hold only finite values (a model's NaN must never reach a ranking)."""
    return np.isfinite(x).all(axis=1)


def pool(card: ModelCard, out: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Model output -> (n, dim) L2-normalised vectors, per the card's pooling."""
    return _pool(card, out, mask)


def _pool(card: ModelCard, out: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    try:
        # A model's NaN/inf is reported per item, not warned about.
        with np.errstate(invalid="ignore", over="ignore"):
            out = _pooled(card, np.asarray(out, dtype=np.float32), mask)
    except (ValueError, IndexError):
        out = np.asarray(out)  # axes that do not fit the pooling (the rank was not declared): refused below
    if out.ndim != 2 or out.shape[1] != card.model_dim:
        raise UserError(
            f"Model card {card.source}: the model's output {card.output!r} has shape {tuple(out.shape)} after "
            f"{card.pooling!r} pooling, but the card says {card.model_dim} values per item."
        )
    return l2_normalise(out)


def _pooled(card: ModelCard, out: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    if card.pooling == "mean" and mask is not None:
        # Mean over real tokens only: padding must not dilute short texts.
        m = mask.astype(np.float32)[:, :, None]
        out = (out * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    elif card.pooling == "mean":
        # Image feature maps: average every axis after the batch and channel ones.
        channel_axis = 1 if card.layout == "NCHW" else out.ndim - 1
        spatial = tuple(a for a in range(1, out.ndim) if a != channel_axis)
        out = out.mean(axis=spatial) if spatial else out
    elif card.pooling == "cls":
        out = out[:, 0]
    return out
