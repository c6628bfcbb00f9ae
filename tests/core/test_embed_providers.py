"""Execution providers: the one setting, the installed onnxruntime's real list, and the fallback to the CPU."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from aldesk.core.dataset import Dataset
from aldesk.core.embed import default_card, embed_dataset, providers, runtime
from aldesk.core.embed.text import encode

CPU = "CPUExecutionProvider"
# What a CUDA build of onnxruntime lists (onnxruntime-gpu 1.2x on Linux).
GPU_BUILD = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]


def test_default_and_cpu_ask_for_the_cpu_only() -> None:
    real = ort.get_available_providers()
    assert CPU in real
    for value in (None, "", "cpu", " CPU "):
        assert providers.choose(value, real) == [CPU]
        assert providers.choose(value, GPU_BUILD) == [CPU]


def test_auto_takes_the_accelerators_of_the_build_then_the_cpu() -> None:
    assert providers.choose("auto", GPU_BUILD) == ["CUDAExecutionProvider", CPU]  # TensorRT: by name only
    assert providers.choose("tensorrt,cuda", GPU_BUILD) == [
        "TensorrtExecutionProvider",
        "CUDAExecutionProvider",
        CPU,
    ]
    real = ort.get_available_providers()
    auto = providers.choose("auto", real)
    assert auto[-1] == CPU and set(auto) <= set(real) and not set(auto) & providers.NOT_AUTO


def test_a_name_the_build_lacks_is_left_out_with_one_line(caplog) -> None:
    real = ort.get_available_providers()
    with caplog.at_level(logging.WARNING, logger="aldesk.embed"):
        chosen = providers.choose("cuda,CoreMLExecutionProvider", real)
    assert chosen == [CPU]
    (record,) = caplog.records
    assert "\n" not in record.getMessage() and "cuda" in record.getMessage()


def test_an_accelerator_that_cannot_start_falls_back_to_the_cpu_with_one_line(caplog) -> None:
    """The real onnxruntime here has no CUDA: asking for it is the failure path a broken GPU driver takes."""
    card = default_card("text")
    with caplog.at_level(logging.WARNING, logger="aldesk.embed"):
        sess = runtime._create(Path(card.onnx), ("CUDAExecutionProvider", CPU))
    assert sess.get_providers()[0] == CPU
    assert len(caplog.records) == 1 and "CPU" in caplog.records[0].getMessage()
    feeds = encode(card, ["Ein kurzer Satz.", "A short sentence."])
    cpu = runtime._create(Path(card.onnx), (CPU,))
    np.testing.assert_allclose(sess.run([card.output], feeds)[0], cpu.run([card.output], feeds)[0], atol=1e-5)


def test_the_setting_reaches_the_pipeline_and_vectors_match_the_cpu(tmp_path, monkeypatch, caplog) -> None:
    texts = ["Der Zug fährt um acht Uhr ab.", "The train leaves at eight."]
    base = embed_dataset(Dataset("text", tmp_path, texts), cache_dir=tmp_path / "a").vectors
    monkeypatch.setenv(providers.ENV, "auto")
    auto = embed_dataset(Dataset("text", tmp_path, texts), cache_dir=tmp_path / "b").vectors
    np.testing.assert_allclose(auto, base, atol=1e-3)  # the bound for an accelerator's vectors
    monkeypatch.setenv(providers.ENV, "cuda")
    with caplog.at_level(logging.WARNING, logger="aldesk.embed"):
        named = embed_dataset(Dataset("text", tmp_path, texts), cache_dir=tmp_path / "c").vectors
    np.testing.assert_allclose(named, base, atol=1e-3)
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        assert any("cuda" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("value", ["cpu", "auto"])
def test_requested_reads_the_environment(monkeypatch, value) -> None:
    monkeypatch.setenv(providers.ENV, value)
    assert providers.requested() == providers.choose(value, ort.get_available_providers())
