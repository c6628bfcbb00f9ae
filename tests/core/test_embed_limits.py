"""Embedding input limits (issue 11, items 16 and 17): hostile model cards, hostile ONNX models, huge texts.

The models are real ONNX files built here with the ``onnx`` helper API and run by the real onnxruntime; the
cards are real JSON files; the huge text runs the bundled MiniLM in a second process whose peak memory is read
with ``resource.getrusage``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aldesk.core.dataset import Dataset
from aldesk.core.embed import default_card, embed_dataset, load_card, runtime
from aldesk.core.embed import text as text_io
from aldesk.core.embed.pipeline import NON_FINITE, max_batch
from aldesk.core.progress import UserError

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 17)]
ZEBRA = 29145  # the MiniLM tokenizer's id of "zebra" (the tiny test models use that vocabulary)
HANG_GUARD_S = 600  # a subprocess still running after this has hung: fail instead of blocking the suite


def _minilm():
    from aldesk.core.embed.cards import resolve_card

    return resolve_card("minilm_l6_int8")


def python(code: str, hang: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a second Python; fail with ``hang`` if it is still running after HANG_GUARD_S."""
    try:
        return subprocess.run(
            [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=HANG_GUARD_S
        )
    except subprocess.TimeoutExpired:
        pytest.fail(hang)


def _save(path: Path, nodes: list, inputs: list, outputs: list, inits: list, functions: list = ()) -> Path:
    graph = helper.make_graph(nodes, path.stem, inputs, outputs, initializer=inits)
    opsets = OPSET + [helper.make_opsetid(f.domain, 1) for f in functions]
    model = helper.make_model(graph, opset_imports=opsets, functions=list(functions))
    model.ir_version = 8  # what every onnxruntime >= 1.17 reads
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _const(name: str, value: np.ndarray) -> TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def _loop_nodes(value_in: str, value_out: str, trips: int) -> list:
    """``value_out = value_in`` after a Loop of ``trips`` empty iterations; the value flows through the loop,
    so onnxruntime cannot prune it away."""
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Identity", ["v"], ["v_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v", TensorProto.FLOAT, None),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_out", TensorProto.FLOAT, None),
        ],
    )
    return [
        helper.make_node("Constant", [], ["trips"], value=_const("t", np.array(trips, dtype=np.int64))),
        helper.make_node("Constant", [], ["true"], value=_const("c", np.array(True))),
        helper.make_node("Loop", ["trips", "true", value_in], [value_out], body=body),
    ]


def text_model(
    path: Path,
    dim: int = 4,
    *,
    weight: float = 1.0,
    inf_at: int | None = None,
    loop_trips: int | None = None,
    hide: str = "",
    seq: str | int = "sequence",
    declared_dim: int | None = None,
) -> Path:
    """last_hidden_state[b, s, :] = f(input_ids[b, s]) * w: f is the id itself, or 1 / (id - inf_at).

    With ``loop_trips``, the result also flows through a Loop of that many trips, in the main graph, or hidden in
    an If branch (``hide="if"``) or in a model-local function (``hide="function"``).
    """
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", seq])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", seq])
    out = helper.make_tensor_value_info(
        "last_hidden_state", TensorProto.FLOAT, ["batch", seq, declared_dim or dim]
    )
    inits = [
        _const("w", np.full((1, 1, dim), weight, np.float32) * np.arange(1, dim + 1, dtype=np.float32)),
        _const("axes", np.array([2], np.int64)),
    ]
    nodes = [helper.make_node("Cast", ["input_ids"], ["x"], to=TensorProto.FLOAT)]
    if inf_at is not None:
        inits.append(_const("k", np.array(float(inf_at), np.float32)))
        nodes += [helper.make_node("Sub", ["x", "k"], ["xk"]), helper.make_node("Reciprocal", ["xk"], ["f"])]
    else:
        inits.append(_const("scale", np.array(1e-3, np.float32)))
        nodes.append(helper.make_node("Mul", ["x", "scale"], ["f"]))
    nodes += [
        helper.make_node("Unsqueeze", ["f", "axes"], ["f3"]),
        helper.make_node("Mul", ["f3", "w"], ["y"]),
    ]
    functions = []
    if loop_trips is None:
        nodes.append(helper.make_node("Identity", ["y"], ["last_hidden_state"]))
    elif hide == "function":
        wrap = helper.make_function("local", "Wrap", ["a"], ["b"], _loop_nodes("a", "b", loop_trips), OPSET)
        functions.append(wrap)
        nodes.append(helper.make_node("Wrap", ["y"], ["last_hidden_state"], domain="local"))
    elif hide != "if":
        nodes += _loop_nodes("y", "last_hidden_state", loop_trips)
    else:
        # The Loop hidden one level down, in the branch of an If that is always taken.
        branch_out = helper.make_tensor_value_info("z", TensorProto.FLOAT, None)
        then = helper.make_graph(_loop_nodes("y", "z", loop_trips), "then", [], [branch_out])
        other = helper.make_graph([helper.make_node("Identity", ["y"], ["z"])], "else", [], [branch_out])
        nodes += [
            helper.make_node("Constant", [], ["go"], value=_const("g", np.array(True))),
            helper.make_node("If", ["go"], ["last_hidden_state"], then_branch=then, else_branch=other),
        ]
    return _save(path, nodes, [ids, mask], [out], inits, functions)


def image_model(path: Path, dim: int = 4, *, log: bool = False, declared_size: int | str = "h") -> Path:
    """features = (log of) the mean of each colour channel, times a (3, dim) matrix."""
    width = declared_size if isinstance(declared_size, int) else "w"
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, declared_size, width])
    out = helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", dim])
    inits = [_const("w", np.arange(1, 3 * dim + 1, dtype=np.float32).reshape(3, dim))]
    nodes = [helper.make_node("ReduceMean", ["image"], ["m"], axes=[2, 3], keepdims=0)]
    if log:
        nodes += [
            helper.make_node("Log", ["m"], ["lm"]),
            helper.make_node("MatMul", ["lm", "w"], ["features"]),
        ]
    else:
        nodes.append(helper.make_node("MatMul", ["m", "w"], ["features"]))
    return _save(path, nodes, [image], [out], inits)


def write_card(folder: Path, card: dict, name: str = "m.card.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(card), encoding="utf-8")
    return path


def image_card(onnx_name: str = "img.onnx", **fields: object) -> dict:
    card = {
        "id": "tiny-image",
        "kind": "image",
        "onnx": onnx_name,
        "inputs": {"image": "image"},
        "output": "features",
        "dim": 4,
        "pooling": "none",
        "image_size": 8,
        "normalize": {"scale": 1.0, "offset": 0.0},
    }
    return card | fields


def text_card(folder: Path, onnx_name: str = "txt.onnx", **fields: object) -> dict:
    tok = folder / "tokenizer.json"
    if not tok.exists():
        tok.write_bytes(Path(_minilm().tokenizer).read_bytes())
    card = {
        "id": "tiny-text",
        "kind": "text",
        "onnx": onnx_name,
        "tokenizer": "tokenizer.json",
        "inputs": {"input_ids": "input_ids", "attention_mask": "attention_mask"},
        "output": "last_hidden_state",
        "dim": 4,
        "pooling": "mean",
        "max_length": 32,
    }
    return card | fields


def one_line_error(path: Path, field: str) -> str:
    """load_card(path) must fail with ONE line naming the card file and the field."""
    with pytest.raises(UserError) as info:
        load_card(path)
    message = str(info.value)
    assert "\n" not in message, message
    assert str(path) in message, message
    assert field in message, message
    return message


# -- item 17: card fields -----------------------------------------------------------------------------------
IMAGE_FIELD_CASES = [
    ("dim", {"dim": 1e12}),
    ("dim", {"dim": 10**12}),
    ("dim", {"dim": 0}),
    ("dim", {"dim": "384"}),
    ("image_size", {"image_size": 20000}),
    ("image_size", {"image_size": 4}),
    ("resize", {"resize": 10**9}),
    ("normalize.mean", {"normalize": {"mean": float("nan"), "std": 1.0}}),
    ("normalize.std", {"normalize": {"mean": 0.0, "std": [1.0, float("inf"), 1.0]}}),
    ("normalize.std", {"normalize": {"mean": 0.0, "std": 1e-300}}),
    ("normalize.scale", {"normalize": {"scale": 0}}),
    ("normalize.offset", {"normalize": {"scale": 1.0, "offset": [0.0, 0.0]}}),
    ("normalize", {"normalize": {"scale": 1.0, "std": 2.0}}),
    ("pooling", {"pooling": "max"}),
    ("layout", {"layout": "CHWN"}),
    ("id", {"id": ""}),
    ("id", {"id": "a\nb"}),
    ("onnx", {"onnx": "absent.onnx"}),
    ("onnx", {"onnx": "../outside.onnx"}),
    ("onnx", {"onnx": "link.onnx"}),
    ("onnx", {"onnx": "/dev/zero"}),
    ("onnx", {"onnx": "sub"}),
]


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "card"
    folder.mkdir()
    image_model(folder / "img.onnx")
    image_model(tmp_path / "outside.onnx")
    (folder / "link.onnx").symlink_to(tmp_path / "outside.onnx")  # a symlink out of the card's folder
    (folder / "sub").mkdir()
    return folder


@pytest.mark.parametrize(
    ("field", "change"), IMAGE_FIELD_CASES, ids=[f"{f}-{c}" for f, c in IMAGE_FIELD_CASES]
)
def test_bad_image_card_field_is_one_line_naming_file_and_field(image_folder, field, change) -> None:
    # json.dumps writes NaN and Infinity, which Python's json (and so aldesk before the fix) reads back.
    path = write_card(image_folder, image_card(**change))
    one_line_error(path, field)


def test_valid_tiny_cards_load_and_embed(image_folder, tmp_path) -> None:
    """The hostile cases above differ from a working card in one field only: this one embeds."""
    card = load_card(write_card(image_folder, image_card()))
    assert card.dim == 4 and card.image_size == 8
    Image.new("RGB", (20, 20), (200, 100, 50)).save(tmp_path / "a.png")
    res = embed_dataset(Dataset("image", tmp_path, ["a.png"]), card, cache_dir=tmp_path / "cache")
    assert res.ok.all() and np.isfinite(res.vectors).all()
    # An absolute path anywhere is the user's explicit choice, and allowed.
    absolute = load_card(
        write_card(image_folder, image_card(str(tmp_path / "outside.onnx")), "abs.card.json")
    )
    assert absolute.onnx == (tmp_path / "outside.onnx").resolve()


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("tokenizer", {"tokenizer": None}),
        ("tokenizer", {"tokenizer": "nope.json"}),
        ("tokenizer", {"tokenizer": "../tokenizer.json"}),
        ("max_length", {"max_length": 10**9}),
        ("max_length", {"max_length": 1.5}),
        ("max_length", {"max_length": 1}),
        ("max_length", {"max_length": 8192, "dim": 65536}),  # 2 GB of token states for one text
        ("inputs", {"inputs": {"input_ids": "input_ids"}}),
        ("output", {"output": 7}),
    ],
)
def test_bad_text_card_field_is_one_line_naming_file_and_field(tmp_path, field, change) -> None:
    folder = tmp_path / "card"
    folder.mkdir()
    text_model(folder / "txt.onnx")
    (tmp_path / "tokenizer.json").write_bytes(Path(_minilm().tokenizer).read_bytes())
    card = text_card(folder, **change)
    card = {k: v for k, v in card.items() if v is not None}
    one_line_error(write_card(folder, card), field)


def test_card_file_that_is_no_small_regular_file(tmp_path) -> None:
    huge = tmp_path / "huge.card.json"
    huge.write_text(json.dumps(image_card(name="x" * (2 << 20))))
    assert "larger than" in str(pytest.raises(UserError, load_card, huge).value)
    deep = tmp_path / "deep.card.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    message = str(pytest.raises(UserError, load_card, deep).value)
    assert "\n" not in message and str(deep) in message
    assert "regular file" in str(pytest.raises(UserError, load_card, "/dev/zero").value)
    # A FIFO: a plain open() would wait for a writer for ever; run it in a second process to see it return.
    fifo = tmp_path / "fifo.card.json"
    os.mkfifo(fifo)
    code = (
        "from aldesk.core.embed import load_card\n"
        "from aldesk.core.progress import UserError\n"
        f"try:\n    load_card({str(fifo)!r})\nexcept UserError as e:\n    print(e)\n"
    )
    proc = python(code, "load_card blocked on a FIFO")
    assert "is not a regular file" in proc.stdout and str(fifo) in proc.stdout, proc.stdout + proc.stderr


def test_largest_allowed_sizes_get_bounded_batches_and_a_clear_memory_error(tmp_path) -> None:
    image_model(tmp_path / "img.onnx")
    card = load_card(write_card(tmp_path, image_card(image_size=2048), "big.card.json"))
    assert max_batch(card) * 3 * 2048 * 2048 * 4 <= 256 << 20 and max_batch(default_card("image")) >= 32
    for k in range(3):
        Image.new("RGB", (300, 200), (40 * k, 90, 200)).save(tmp_path / f"{k}.png")
    res = embed_dataset(
        Dataset("image", tmp_path, ["0.png", "1.png", "2.png"]), card, cache_dir=tmp_path / "c"
    )
    assert res.ok.all() and np.isfinite(res.vectors).all()
    text_model(tmp_path / "wide.onnx", dim=65536)
    wide = load_card(
        write_card(tmp_path, text_card(tmp_path, "wide.onnx", dim=65536, max_length=64), "w.json")
    )
    many = Dataset("text", tmp_path, ["same text"] * 5_000_000)  # 5M x 65536 floats: 1.2 TiB
    with pytest.raises(UserError, match=r"5,000,000 items x 65,536 values .* do not fit in memory"):
        embed_dataset(many, wide, cache_dir=tmp_path / "c")


# -- item 17: the model against its card --------------------------------------------------------------------
def test_declared_shapes_are_checked_against_the_card(tmp_path) -> None:
    image_model(tmp_path / "img32.onnx", declared_size=32)
    card = load_card(write_card(tmp_path, image_card("img32.onnx"), "a.card.json"))
    with pytest.raises(UserError, match=r"image_size 8.*\[.N., 3, 8, 8\]"):
        runtime.session(card)
    image_model(tmp_path / "img7.onnx", dim=7)
    card = load_card(write_card(tmp_path, image_card("img7.onnx"), "b.card.json"))
    with pytest.raises(UserError, match=r"7 values per item.*'dim' 4"):
        runtime.session(card)
    text_model(tmp_path / "fixed.onnx", seq=128)
    card = load_card(write_card(tmp_path, text_card(tmp_path, "fixed.onnx"), "c.card.json"))
    with pytest.raises(UserError, match="exactly 128 tokens"):
        runtime.session(card)
    # The same file under a card that names a different output: checked per card, not once per file.
    text_model(tmp_path / "ok.onnx")
    good = load_card(write_card(tmp_path, text_card(tmp_path, "ok.onnx"), "d.card.json"))
    runtime.session(good)
    wrong = load_card(
        write_card(tmp_path, text_card(tmp_path, "ok.onnx", id="other", output="nope"), "e.card.json")
    )
    with pytest.raises(UserError, match="output 'nope'"):
        runtime.session(wrong)


def test_a_model_that_outputs_nan_fails_the_run_with_one_line(tmp_path) -> None:
    text_model(tmp_path / "nan.onnx", weight=float("nan"))
    card = load_card(write_card(tmp_path, text_card(tmp_path, "nan.onnx")))
    with pytest.raises(UserError) as info:
        embed_dataset(Dataset("text", tmp_path, ["hello", "world"]), card, cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert "NaN or infinite" in message and "broken" in message and "\n" not in message
    assert not list((tmp_path / "cache").rglob("*.npy"))  # nothing cached


def test_nan_for_some_texts_is_reported_per_item_and_never_cached(tmp_path) -> None:
    text_model(tmp_path / "inf.onnx", inf_at=ZEBRA)  # 1 / (id - id("zebra")): infinite on that one word
    card = load_card(write_card(tmp_path, text_card(tmp_path, "inf.onnx")))
    texts = ["a cat sits", "a zebra runs", "dogs bark loudly"]
    res = embed_dataset(Dataset("text", tmp_path, texts), card, cache_dir=tmp_path / "cache")
    assert res.ok.tolist() == [True, False, True]
    assert [(p.key, p.reason) for p in res.failed] == [("a zebra runs", NON_FINITE)]
    assert np.isfinite(res.vectors).all() and not res.vectors[1].any()
    again = embed_dataset(Dataset("text", tmp_path, texts), card, cache_dir=tmp_path / "cache")
    assert again.n_cached == 2 and again.n_computed == 0 and again.ok.tolist() == [True, False, True]


def test_nan_for_some_images_is_reported_per_item(tmp_path) -> None:
    image_model(tmp_path / "log.onnx", log=True)  # log of the channel means: -inf for a black image
    card = load_card(write_card(tmp_path, image_card("log.onnx")))
    for name, colour in (("black.png", (0, 0, 0)), ("grey.png", (128, 128, 128)), ("red.png", (250, 20, 20))):
        Image.new("RGB", (16, 16), colour).save(tmp_path / name)
    ds = Dataset("image", tmp_path, ["black.png", "grey.png", "red.png"])
    res = embed_dataset(ds, card, cache_dir=tmp_path / "cache")
    assert res.ok.tolist() == [False, True, True]
    assert [(p.key, p.reason) for p in res.failed] == [("black.png", NON_FINITE)]
    assert np.isfinite(res.vectors).all()


@pytest.mark.parametrize("hide", ["", "if", "function"], ids=["loop", "loop-inside-if", "loop-in-a-function"])
def test_graph_with_an_unbounded_loop_is_refused_not_run(tmp_path, hide) -> None:
    model = text_model(tmp_path / "loop.onnx", loop_trips=2**62, hide=hide)
    card = write_card(tmp_path, text_card(tmp_path, "loop.onnx"))
    # A second process: without the refusal this run never ends (2**62 iterations), which must fail the test,
    # not hang the suite.
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from aldesk.core.dataset import Dataset
        from aldesk.core.embed import embed_dataset, load_card
        from aldesk.core.progress import UserError
        try:
            embed_dataset(Dataset("text", Path({str(tmp_path)!r}), ["hi there"]), load_card({str(card)!r}),
                          cache_dir=Path({str(tmp_path / "cache")!r}))
            print("EMBEDDED")
        except UserError as e:
            print("REFUSED", e)
        """
    )
    proc = python(code, "a model with an unbounded Loop ran instead of being refused")
    assert proc.stdout.startswith("REFUSED"), proc.stdout + proc.stderr
    assert "Loop" in proc.stdout and str(model) in proc.stdout and proc.stdout.count("\n") == 1


def test_a_bounded_model_with_if_is_accepted_and_bundled_models_pass_the_scan(tmp_path) -> None:
    runtime.check_graph(Path(default_card("image").onnx))
    runtime.check_graph(Path(default_card("text").onnx))
    (tmp_path / "junk.onnx").write_bytes(b"\xff" * 64)
    with pytest.raises(UserError, match="not a readable ONNX file|not an ONNX model"):
        runtime.check_graph(tmp_path / "junk.onnx")
    (tmp_path / "empty.onnx").write_bytes(b"")
    with pytest.raises(UserError, match="empty.onnx"):
        runtime.check_graph(tmp_path / "empty.onnx")


# -- item 16: texts longer than the model reads -------------------------------------------------------------
PROSE = (
    "The committee met on Tuesday to discuss the new budget, which, after months of debate, finally "
    "allocates funds for the library's renovation (estimated at $2.4M) and a 3-year maintenance plan. "
)


@pytest.mark.parametrize(
    "text",
    [
        PROSE * 400,  # ~80k characters of ordinary prose
        "東京都の図書館で新しい展示が始まりました。" * 2000,  # no blanks at all
        " " * 100_000 + PROSE * 2000,  # a run of blanks longer than the first budgets: the budget grows
        "x" * 50_000 + " " + PROSE * 2000,  # one enormous word first
        "\n".join(f"line {k}: value={k * 37 % 101}" for k in range(20_000)),  # log/CSV-like
    ],
    ids=["prose", "cjk", "blanks-first", "huge-word-first", "log-lines"],
)
def test_cutting_a_long_text_never_changes_the_tokens_the_model_sees(text) -> None:
    card = default_card("text")
    tok = text_io.tokenizer(card)
    cut = text_io.fit(card, text)
    assert len(cut) < len(text)  # it was cut ...
    assert tok.encode(cut).ids == tok.encode(text).ids  # ... and the model reads exactly the same tokens
    assert len(tok.encode(text).ids) == card.max_length


def test_a_200_mb_text_cell_embeds_with_bounded_memory(tmp_path) -> None:
    """Peak RSS of a second process embedding a 200 MB cell: a memory bound (11.4 GB before), not a timing."""
    code = textwrap.dedent(
        f"""
        import json, resource
        from pathlib import Path
        from aldesk.core.dataset import Dataset
        from aldesk.core.embed import embed_dataset
        big = "word " * 40_000_000  # 200 MB
        # "word " * 600 fills the default card's window (512 tokens for e5, 256 for MiniLM) as the cut cell does.
        texts = [big, "a short text about trains", "word " * 600]
        res = embed_dataset(Dataset("text", Path({str(tmp_path)!r}), texts), cache_dir=Path({str(tmp_path / "cache")!r}))
        # This process's own peak (VmHWM): Linux keeps ru_maxrss across exec, so it would also count the RSS of
        # the pytest process that started this one (1.6 GB late in the suite, with the e5 model loaded).
        try:
            with open("/proc/self/status") as fh:
                peak_kb = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:"))
        except (OSError, StopIteration):
            peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"ok": res.ok.tolist(), "peak_mb": peak_kb / 1024,
                          "same": float(res.vectors[0] @ res.vectors[2])}}))
        """
    )
    proc = python(code, "embedding a 200 MB text did not finish")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["ok"] == [True, True, True]
    assert out["peak_mb"] < 1536, out  # the text itself is 200 MB; the model and runtime ~0.3 GB
    assert out["same"] > 0.999  # both fill the 256-token window with the same tokens


def _poison_cache(cache: Path, value: float = float("nan")) -> None:
    """Write NaN into row 0 of every cached shard, as an aldesk that cached model output unchecked left it."""
    for vec_file in cache.rglob("*.vec.npy"):
        vecs = np.load(vec_file)
        vecs[0] = value
        np.save(vec_file, vecs)


def test_nan_vectors_cached_by_an_older_aldesk_are_never_served(tmp_path) -> None:
    text_model(tmp_path / "txt.onnx")
    card = load_card(write_card(tmp_path, text_card(tmp_path)))
    ds = Dataset("text", tmp_path, ["a cat sits", "dogs bark loudly"])
    first = embed_dataset(ds, card, cache_dir=tmp_path / "cache")
    _poison_cache(tmp_path / "cache")
    again = embed_dataset(ds, card, cache_dir=tmp_path / "cache")
    assert again.ok.all() and again.n_computed == 1 and again.n_cached == 1  # the poisoned one re-embedded
    np.testing.assert_allclose(again.vectors, first.vectors, atol=1e-6)
    third = embed_dataset(ds, card, cache_dir=tmp_path / "cache")  # the new vector was stored, and wins
    assert third.n_computed == 0 and third.ok.all()
    np.testing.assert_allclose(third.vectors, first.vectors, atol=1e-6)

    image_model(tmp_path / "img.onnx")
    icard = load_card(write_card(tmp_path, image_card(), "i.card.json"))
    for k in range(2):
        Image.new("RGB", (16, 16), (100 + 50 * k, 60, 30)).save(tmp_path / f"{k}.png")
    ids = Dataset("image", tmp_path, ["0.png", "1.png"])
    embed_dataset(ids, icard, cache_dir=tmp_path / "icache")
    _poison_cache(tmp_path / "icache", float("inf"))
    healed = embed_dataset(ids, icard, cache_dir=tmp_path / "icache")
    assert healed.ok.all() and healed.n_computed == 1 and healed.n_cached == 1 and not healed.failed
    assert np.isfinite(healed.vectors).all()
    assert embed_dataset(ids, icard, cache_dir=tmp_path / "icache").n_computed == 0
