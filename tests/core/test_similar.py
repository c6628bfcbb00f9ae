"""Similarity search: one mat-vec + top-k, checked against a full sort; and a typed query embedded by the bundled
text model (real ONNX inference) ranks the texts that mean the same first."""

from __future__ import annotations

import numpy as np
import pytest

from aldesk.core.embed import default_card
from aldesk.core.embed.pipeline import embed_dataset
from aldesk.core.embed.query_text import can_embed_text, embed_query
from aldesk.core.progress import UserError
from aldesk.core.query.similar import top_k
from tests.core.conftest import clustered


def test_top_k_equals_a_full_sort_and_respects_the_mask() -> None:
    X, _ = clustered(2000, 32, 5, seed=2)
    q = X[17]
    items, sims = top_k(X, q, 25)
    full = np.argsort(-(X @ q), kind="stable")[:25]
    assert items.tolist() == full.tolist() and items[0] == 17
    assert np.all(np.diff(sims) <= 0)
    mask = np.zeros(2000, bool)
    mask[::3] = True
    got, _ = top_k(X, q, 25, mask)
    assert mask[got].all() and got.tolist() == [i for i in full_sort(X, q) if mask[i]][:25]
    few = np.zeros(2000, bool)
    few[[4, 9]] = True
    assert sorted(top_k(X, q, 25, few)[0].tolist()) == [4, 9]
    assert top_k(X, q, 0)[0].size == 0
    with pytest.raises(ValueError):
        top_k(X, np.ones(5, np.float32), 3)


def full_sort(X: np.ndarray, q: np.ndarray) -> list[int]:
    return np.argsort(-(X @ q), kind="stable").tolist()


def test_a_typed_query_finds_texts_by_meaning(tmp_path) -> None:
    from aldesk.core.dataset import Dataset

    texts = [
        "The chef cooked a delicious pasta dinner with fresh tomatoes.",
        "Our soccer team won the championship final last night.",
        "The stock market fell sharply after the interest rate decision.",
        "A kitten slept all afternoon on the warm windowsill.",
        "Heavy rain and strong winds are expected over the weekend.",
    ]
    card = default_card("text")
    assert can_embed_text(card) and not can_embed_text(default_card("image"))
    res = embed_dataset(Dataset("text", tmp_path / "t.csv", texts), card, cache_dir=tmp_path / "cache")
    for query, want in (
        ("a cute cat napping", 3),
        ("football match result", 1),
        ("weather forecast storm", 4),
    ):
        vec = embed_query(card, query)
        assert vec.shape == (card.dim,) and abs(float(np.linalg.norm(vec)) - 1.0) < 1e-4
        assert top_k(res.vectors, vec, 1)[0][0] == want, query
    with pytest.raises(UserError):
        embed_query(default_card("image"), "a cat")
    with pytest.raises(UserError):
        embed_query(card, "   ")
