"""Which ONNX Runtime execution providers a session asks for: CPU unless the user opts in, CPU as the fallback.

One setting, the environment variable ``ALDESK_PROVIDERS`` (read at each session's creation):

* unset, empty or ``cpu``: CPU only (the default: vectors identical on every machine, nothing to install);
* ``auto``: every accelerator the installed onnxruntime offers (CUDA, TensorRT is skipped, ROCm, CoreML,
  DirectML, OpenVINO, ...) in onnxruntime's own order of preference, then CPU;
* a comma list of names, short (``cuda,cpu``) or full (``CUDAExecutionProvider``): those the installed
  onnxruntime offers, in that order, then CPU; names it does not offer are left out with one logged line.

Why an opt-in and not ``auto`` by default: a GPU build of onnxruntime lists CUDA even where the driver is
missing or too old, and its vectors differ from CPU's in the last digits (1e-4), so a project's vectors would
depend on the machine it was opened on. :mod:`aldesk.core.embed.runtime` falls back to CPU, with one logged
line, when a chosen provider fails to start or fails the probe inference.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

ENV = "ALDESK_PROVIDERS"
CPU = "CPUExecutionProvider"
# Providers that compile the graph per input shape (minutes on the first batch of each new text length) or need
# an engine cache to be configured: never picked by "auto"; named explicitly they are still used.
# AzureExecutionProvider calls remote endpoints for its own operators only: no local speed, never automatic.
NOT_AUTO = frozenset({"TensorrtExecutionProvider", "MIGraphXExecutionProvider", "AzureExecutionProvider"})

log = logging.getLogger("aldesk.embed")


def _full_name(name: str, available: Sequence[str]) -> str | None:
    """``cuda`` / ``CUDA`` / ``CUDAExecutionProvider`` -> the available provider's full name, else None."""
    want = name.strip().lower().removesuffix("executionprovider")
    for full in available:
        if full.lower().removesuffix("executionprovider") == want:
            return full
    return None


def choose(request: str | None, available: Sequence[str]) -> list[str]:
    """The providers to ask for, in order, always ending with CPU.

    ``request`` is the setting's value (see the module docstring); ``available`` what
    ``onnxruntime.get_available_providers()`` returns.
    """
    value = (request or "").strip()
    if value.lower() in ("", "cpu"):
        return [CPU]
    if value.lower() == "auto":
        chosen = [p for p in available if p != CPU and p not in NOT_AUTO]
    else:
        chosen = []
        missing = []
        for name in value.split(","):
            if not name.strip():
                continue
            full = _full_name(name, available)
            if full is None:
                missing.append(name.strip())
            elif full not in chosen:
                chosen.append(full)
        if missing:
            log.warning(
                "%s=%s: onnxruntime here offers %s, not %s; those are left out.",
                ENV,
                value,
                ", ".join(available),
                ", ".join(missing),
            )
    return [p for p in chosen if p != CPU] + [CPU]


def requested() -> list[str]:
    """The providers the current setting asks for, among those the installed onnxruntime offers."""
    import onnxruntime as ort

    return choose(os.environ.get(ENV), ort.get_available_providers())
