"""Bulk reads of the embedding cache into a caller's array (the 1M-item reopen path) and hash bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest

from aldesk.core.dataset import Dataset
from aldesk.core.embed.cache import EmbeddingCache
from aldesk.core.project import Project


def _vecs(n: int, d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


def test_read_into_rows_across_shards_pending_and_missing(tmp_path):
    d = 8
    digests = [f"{i:040x}" for i in range(50)]
    vecs = _vecs(50, d, 0)
    with EmbeddingCache(tmp_path, "m", d, flush_rows=7) as cache:
        cache.put(digests[:30], vecs[:30])  # several shards
        cache.compact(max_shards=1, small_rows=100, target_rows=12)
        cache.put(digests[30:40], vecs[30:40])  # flushed (10 >= 7 rows)
        cache.put(digests[40:44], vecs[40:44])  # pending, readable already
        assert cache._pending_keys
        want = [digests[i] for i in (41, 3, 31, 45, 3, 0, 29)]
        out = np.full((10, d), -1.0, np.float32)
        rows = np.array([9, 0, 5, 1, 2, 7, 8])
        found = cache.read_into(want, out, rows)
        assert found.tolist() == [True, True, True, False, True, True, True]
        for r, i, ok in zip(rows, (41, 3, 31, 45, 3, 0, 29), found, strict=True):
            np.testing.assert_array_equal(out[r], vecs[i] if ok else -1.0)
        np.testing.assert_array_equal(out[[3, 4, 6]], -1.0)  # rows nobody asked for are left alone
        with pytest.raises(KeyError):
            cache.get_many(want)
    with EmbeddingCache(tmp_path, "m", d) as cache:  # reopened: everything on disk, in any order
        order = np.random.default_rng(1).permutation(44)
        got = cache.get_many([digests[i] for i in order])
        np.testing.assert_array_equal(got, vecs[order])
        out = np.zeros((40, d), np.float32)
        assert cache.get_many([digests[i] for i in range(40)], out=out) is out
        np.testing.assert_array_equal(out, vecs[:40])


def test_set_hashes_twice_stores_once(tmp_path):
    ds = Dataset("text", tmp_path / "t.csv", ["a", "b", "c"])
    with Project.create(tmp_path / "p.aldesk", ds, ["x"], model_id="m") as p:
        p.set_hashes(["h1", "h2", "h3"])
        p.set_hashes(["h1", "h2", "h3"])  # unchanged: no write
        assert p.hashes() == ["h1", "h2", "h3"]
        p.set_hashes(["h1", "h9", "h3"])
    with Project.open(tmp_path / "p.aldesk") as p:
        assert p.hashes() == ["h1", "h9", "h3"]
        p.set_hashes(["h1", "h2", "h3"])
        assert p.hashes() == ["h1", "h2", "h3"]
