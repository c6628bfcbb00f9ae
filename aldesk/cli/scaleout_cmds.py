"""Scale-out commands: embed (a source -> a vectors table, locally or on Ray), graph (a table -> its k-NN graph),
import-vectors (a table and its graph -> a project's caches). docs/scale-out.md tells how to run them on a cluster."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from aldesk.cli.args import existing_file, path_arg, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "embed",
        help="embed a folder of images or a CSV of texts into a vectors table (Parquet), locally or on Ray",
        description="Embed with exactly the app's preprocessing and model into TABLE (a folder: Parquet parts "
        "and manifest.json). A rerun into the same TABLE embeds only what is missing.",
        epilog="examples:\n  aldesk embed photos/ --out photos.vectors\n"
        "  aldesk embed photos/ --out photos.vectors --engine ray --workers 8\n"
        "  aldesk embed photos/ --out photos.vectors --engine ray --address ray://head:10001 --gpus-per-worker 1",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", type=path_arg, help="image folder or CSV/TSV/TXT of texts")
    p.add_argument(
        "--out", type=path_arg, required=True, help="the vectors table folder (new, or one to resume)"
    )
    p.add_argument("--engine", choices=("local", "ray"), default="local")
    p.add_argument("--address", default=None, help="a running Ray cluster (default: start a local one)")
    p.add_argument(
        "--model-card", type=existing_file, default=None, help="a model card JSON (default: bundled)"
    )
    p.add_argument("--text-column", default=None)
    p.add_argument("--batch", type=positive_int, default=None, help="items per model batch and table part")
    p.add_argument("--workers", type=positive_int, default=2, help="Ray actors (one ONNX session each)")
    p.add_argument("--gpus-per-worker", type=float, default=0.0, help="GPUs per Ray actor (CUDA provider)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=run_embed)

    p = sub.add_parser(
        "graph",
        help="the whole-pool k-NN graph of a vectors table (exact, blocked), locally or on Ray",
    )
    p.add_argument("table", type=path_arg, help="a vectors table made by aldesk embed")
    p.add_argument("--k", type=positive_int, default=10, help="neighbours per item (the app uses 10)")
    p.add_argument("--out", type=path_arg, required=True, help="a new folder for the graph")
    p.add_argument("--engine", choices=("local", "ray"), default="local")
    p.add_argument("--address", default=None)
    p.add_argument("--workers", type=positive_int, default=2)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_graph)

    p = sub.add_parser(
        "import-vectors",
        help="put a vectors table (and its graph) into a project's caches: the app then embeds nothing",
    )
    p.add_argument("project", type=path_arg)
    p.add_argument("table", type=path_arg)
    p.add_argument("--graph", type=path_arg, default=None, help="a graph made by aldesk graph from TABLE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_import)


def _progress(quiet: bool):
    """A bar on a terminal, a few plain lines in a log (aldesk/cli/progress_bar.py); nothing with --json."""
    from aldesk.cli.progress_bar import progress_bar

    return progress_bar(quiet=quiet)


def _report(args: argparse.Namespace, report: dict, lines: list[str]) -> int:
    if args.json:
        print(json.dumps(report))
    else:
        print("\n".join(lines))
    return 0


def run_embed(args: argparse.Namespace) -> int:
    from aldesk.core.scaleout.embed import run_embed as embed

    rep = embed(
        Path(args.source),
        Path(args.out),
        engine=args.engine,
        card_path=str(args.model_card) if args.model_card else None,
        batch=args.batch,
        workers=args.workers,
        gpus_per_worker=args.gpus_per_worker,
        address=args.address,
        text_column=args.text_column,
        progress=_progress(args.json),
    )
    lines = [
        f"{rep.table}: {rep.embedded:,} items embedded, {rep.skipped:,} already there, "
        f"{len(rep.failed):,} failed ({rep.engine}, {rep.seconds:.1f} s)"
    ]
    lines += [f"  failed: {f['item']}: {f['reason']}" for f in rep.failed[:20]]
    if len(rep.failed) > 20:
        lines.append(f"  … and {len(rep.failed) - 20:,} more in {rep.table}/manifest.json")
    return _report(args, rep.to_json(), lines)


def run_graph(args: argparse.Namespace) -> int:
    from aldesk.core.scaleout.graph import run_graph as graph

    rep = graph(
        Path(args.table),
        Path(args.out),
        k=args.k,
        engine=args.engine,
        workers=args.workers,
        address=args.address,
        progress=_progress(args.json),
    )
    return _report(
        args, rep.to_json(), [f"{rep.graph}: {rep.rows:,} rows x {rep.k} neighbours ({rep.seconds:.1f} s)"]
    )


def run_import(args: argparse.Namespace) -> int:
    from aldesk.app.import_vectors import import_vectors

    rep = import_vectors(
        Path(args.project),
        Path(args.table),
        Path(args.graph) if args.graph else None,
        progress=_progress(args.json),
    )
    lines = [
        f"{rep.project}: {rep.in_table:,} of {rep.items:,} items have vectors in the table "
        f"({rep.cached_new:,} new to the cache); {rep.missing:,} will be embedded when the project opens; "
        f"graph: {rep.graph}"
    ]
    return _report(args, rep.to_json(), lines)
