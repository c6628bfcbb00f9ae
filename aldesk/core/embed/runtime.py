"""ONNX Runtime sessions and output pooling, shared by the image and text pipelines.

onnxruntime is imported here, inside functions, so ``import aldesk.core.embed`` stays cheap (DESIGN.md, 4).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from aldesk.core.embed.cards import ModelCard
from aldesk.core.progress import UserError

_sessions: dict[tuple[str, int, int], Any] = {}
_lock = threading.Lock()


def session(card: ModelCard) -> Any:
    """A CPU InferenceSession for the card's model, reused across calls (creation costs ~0.1-0.5 s)."""
    path = Path(card.onnx)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _lock:
        sess = _sessions.get(key)
        if sess is None:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # Idle ORT threads otherwise busy-wait between kernels, taking the cores that image decoding
            # (overlapped with inference) needs; measured neutral for model-only speed on 2 cores.
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            try:
                sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
            except Exception as exc:  # noqa: BLE001 - ORT raises its own untyped errors for bad files
                raise UserError(f"The model {path} cannot be loaded by ONNX Runtime: {exc}") from None
            _check_names(card, sess)
            _sessions[key] = sess
    return sess


def _check_names(card: ModelCard, sess: Any) -> None:
    inputs = {i.name for i in sess.get_inputs()}
    outputs = {o.name for o in sess.get_outputs()}
    missing = [n for n in card.inputs.values() if n not in inputs]
    if missing or card.output not in outputs:
        raise UserError(
            f"Model card {card.source}: the model has inputs {sorted(inputs)} and outputs {sorted(outputs)}; "
            f"the card names inputs {sorted(card.inputs.values())} and output {card.output!r}."
        )


def l2_normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def pool(card: ModelCard, out: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Model output -> (n, dim) L2-normalised vectors, per the card's pooling."""
    out = np.asarray(out, dtype=np.float32)
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
    if out.ndim != 2 or out.shape[1] != card.dim:
        raise UserError(
            f"Model card {card.source}: the model's output {card.output!r} has shape {tuple(out.shape)} after "
            f"{card.pooling!r} pooling, but the card says {card.dim} values per item."
        )
    return l2_normalise(out)
