"""``aldesk simulate DATA``: learning curves of query strategies vs random on data with known labels."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from aldesk.cli.args import check_output, int_at_least, path_arg, positive_int
from aldesk.cli.embed_cmds import card_arg
from aldesk.core.progress import UserError

if TYPE_CHECKING:
    import numpy as np

PLOT_SUFFIXES = (
    ".png",
)  # what --plot writes (aldesk.app.curves_png); any other name would silently write nothing


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="learning curves: active strategies vs random on data with known labels",
        description="Run the evaluation protocol (K-fold; each step a strategy picks one pool item, its known label "
        "is revealed, and the k-NN's accuracy on the held-out fold is recorded). 'random' always runs beside.",
        epilog="examples:\n  aldesk simulate reviews.csv --label-column sentiment --folds 4 --budget 200 --out rt.json\n"
        "  aldesk simulate photos/ --strategies eer,uid,uid-global,margin --plot curves.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "data", type=path_arg, help="image folder (ImageFolder layout gives labels) or CSV of texts"
    )
    p.add_argument(
        "--strategies",
        default=None,
        help="comma list, e.g. eer,uid,margin,entropy*knn_density*diversity; '@m' adds a random pick every m "
        "labels as the app's audit does (default: the app's own, eer@10)",
    )
    p.add_argument(
        "--folds",
        type=int_at_least(2),
        default=16,
        help="K of the K-fold split, at least 2 (default 16, as in the seed)",
    )
    p.add_argument(
        "--budget", type=positive_int, default=200, help="labels per fold, at least 1 (default 200)"
    )
    p.add_argument("--seed", type=int_at_least(0), default=0)
    p.add_argument(
        "--k",
        type=positive_int,
        default=None,
        help="neighbours of the k-NN classifier, at least 1 (default: the app's)",
    )
    p.add_argument("--text-column", default=None)
    p.add_argument("--label-column", default=None)
    p.add_argument(
        "--model-card",
        type=card_arg,
        default=None,
        help="a bundled card (e5_small_q4, minilm_l6_int8, efficientnet_lite0) or a model card JSON file",
    )
    p.add_argument(
        "--zero-shot",
        nargs="?",
        const="",
        default=None,
        metavar="DESCRIPTIONS",
        help="texts only: accuracy after 0, 5 and 10 labels with the zero-shot prior vs without, instead of the "
        "curves; the class names, or 'class=a short description;...' (e.g. 'fresh=a positive movie review')",
    )
    p.add_argument(
        "--out", type=path_arg, default=None, help="write the results as JSON here (its folder must exist)"
    )
    p.add_argument(
        "--plot",
        type=path_arg,
        default=None,
        help="write the learning curves as PNG here (*.png; its folder must exist)",
    )
    p.add_argument(
        "--stopping",
        action="store_true",
        help="also evaluate the stopping signal on the first strategy: where it fires vs where the curve reaches "
        "95 / 98 %% of its final accuracy (in the table and the JSON)",
    )
    p.add_argument(
        "--drift",
        default=None,
        metavar="CLASS[,CLASS]",
        help="hold these classes out of the pool until --drift-at labels, then add them; reports labels until "
        "each is first labeled and until accuracy recovers (the default strategy, with the new-group hint, random)",
    )
    p.add_argument(
        "--drift-at",
        type=positive_int,
        default=100,
        help="labels before the --drift classes arrive (default 100)",
    )
    p.add_argument(
        "--effort",
        choices=["grid"],
        default=None,
        help="'grid': count expert actions (a grid page of predicted-as-X items costs one key plus one per "
        "correction) and compare the strategy with and without the grid; --budget is then in actions",
    )
    p.add_argument(
        "--page", type=positive_int, default=20, help="items per grid page with --effort (default 20)"
    )
    p.add_argument(
        "--grid-singles",
        type=positive_int,
        default=10,
        help="with --effort grid: strategy picks between two grid pages (default 10)",
    )
    p.add_argument(
        "--grid-page",
        choices=["confident", "candidates"],
        default="confident",
        help="with --effort grid: what a page shows: 'confident' (the items predicted as one class, most "
        "confident first; the default) or 'candidates' (the strategy's top items, each accepted as its shown "
        "prediction by Enter, the wrong ones clicked off)",
    )
    p.add_argument(
        "--grid-start",
        type=int_at_least(0),
        default=0,
        help="with --effort grid: labels given one by one before the first page (default 0)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run)


def _progress(quiet: bool):
    """A bar on a terminal, a few plain lines in a log (aldesk/cli/progress_bar.py); each phase closes itself at
    100 %, so the table printed after it starts on a line of its own."""
    from aldesk.cli.progress_bar import progress_bar

    return progress_bar(quiet=quiet)


def run(args: argparse.Namespace) -> int:
    from aldesk.core.embed import default_card, embed_dataset
    from aldesk.core.embed.cards import resolve_card
    from aldesk.core.evaluate.simulate import simulate
    from aldesk.core.labeling.session import DEFAULT_K, DEFAULT_SIMULATION_STRATEGY
    from aldesk.core.query.registry import parse_strategy
    from aldesk.core.sources import load_source

    spec = DEFAULT_SIMULATION_STRATEGY if args.strategies is None else args.strategies
    strategies = [s.strip() for s in spec.split(",") if s.strip()]
    if not strategies:
        raise UserError(
            f"--strategies {args.strategies!r} names no strategy (e.g. --strategies eer,uid,margin)."
        )
    # Everything a misuse can break is checked before the (slow) embedding, so it fails at once, not after it.
    if not args.data.exists():
        raise UserError(f"{args.data} does not exist.")
    if args.out is not None:
        check_output(args.out, "--out", not_over=[args.data] + ([args.plot] if args.plot else []))
    if args.plot is not None:
        check_output(args.plot, "--plot", suffixes=PLOT_SUFFIXES, not_over=[args.data])
    for s in strategies:
        try:
            parse_strategy(s)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    if args.drift is not None and args.effort is not None:
        raise UserError("--drift and --effort are separate protocols: run them one at a time.")
    if (args.drift is not None or args.effort is not None) and args.plot is not None:
        raise UserError(
            "--plot draws the plain learning curves; with --drift or --effort use --out for the JSON."
        )
    drift = [c.strip() for c in args.drift.split(",") if c.strip()] if args.drift is not None else None
    if drift is not None and not drift:
        raise UserError(f"--drift {args.drift!r} names no class (e.g. --drift bag,trouser).")
    if drift is not None and args.drift_at >= args.budget:
        raise UserError(f"--drift-at {args.drift_at} must be below --budget {args.budget}.")
    ds = load_source(args.data, text_column=args.text_column, label_column=args.label_column)
    if not ds.has_known_labels:
        raise UserError(
            f"{args.data} has no known labels: simulate needs them (an ImageFolder layout, or --label-column)"
        )
    if args.model_card:
        card = resolve_card(args.model_card, ds.kind)
    else:  # as a new project would: the bundled card that suits the data
        from aldesk.core.embed.choose import choose_card

        card = choose_card(ds)
    if args.zero_shot is not None and ds.kind != "text":
        raise UserError(
            "--zero-shot needs texts: no bundled image encoder has a text tower (docs/architecture.md)."
        )
    res = embed_dataset(ds, card, progress=_progress(args.quiet))
    for prob in res.failed[:10]:
        print(f"skipped {prob.key}: {prob.reason}", file=sys.stderr)
    if len(res.failed) > 10:
        print(f"… and {len(res.failed) - 10} more skipped items", file=sys.stderr)
    ok = res.ok
    labels = [lab for lab, good in zip(ds.known_labels, ok, strict=True) if good]
    if args.zero_shot is not None:
        from aldesk.cli.zeroshot_report import run_zero_shot

        return run_zero_shot(
            args,
            res.vectors[ok],
            labels,
            card or default_card("text"),
            strategies[0],
            _progress(args.quiet),
            _write_json,
        )
    variant = _variant(args, drift, res.vectors[ok], labels, strategies)
    if variant is not None:
        if args.out:
            _write_json(variant, args.out)
        return 0
    try:
        result = simulate(
            res.vectors[ok],
            labels,
            strategies=strategies,
            folds=args.folds,
            budget=args.budget,
            k=DEFAULT_K if args.k is None else args.k,
            seed=args.seed,
            dataset=str(args.data),
            progress=_progress(args.quiet),
        )
    except ValueError as exc:
        raise UserError(str(exc)) from None
    out = result.to_dict()
    print_table(out)
    if args.stopping:
        from aldesk.core.evaluate.stopping_eval import evaluate_stopping, print_stopping

        out["stopping"] = evaluate_stopping(
            res.vectors[ok],
            labels,
            strategy=strategies[0],
            folds=args.folds,
            budget=args.budget,
            k=DEFAULT_K if args.k is None else args.k,
            seed=args.seed,
            progress=_progress(args.quiet),
        ).to_dict()
        print_stopping(out["stopping"])
    if args.out:
        _write_json(out, args.out)
    if args.plot:
        from aldesk.app.curves_png import curves_png  # Pillow: no Qt, no display needed

        try:
            curves_png(out, args.plot)
        except OSError as exc:
            raise UserError(
                f"Cannot write the plot {args.plot}: {exc.strerror or exc}; the table above has the results."
            ) from None
    return 0


def _variant(
    args: argparse.Namespace, drift: list[str] | None, X: np.ndarray, labels: list, strategies: list[str]
) -> dict | None:
    """Run --drift or --effort when asked (their own modules), print the table; None for the plain protocol."""
    from aldesk.core.labeling.session import DEFAULT_K

    k = DEFAULT_K if args.k is None else args.k
    report = _progress(args.quiet)
    try:
        if drift is not None:
            from aldesk.core.evaluate.drift import print_drift_table, simulate_drift

            out = simulate_drift(
                X,
                labels,
                drift_classes=drift,
                drift_at=args.drift_at,
                strategies=strategies,
                folds=args.folds,
                budget=args.budget,
                k=k,
                seed=args.seed,
                dataset=str(args.data),
                progress=report,
            )
            print_drift_table(out)
            return out
        if args.effort == "grid":
            from aldesk.core.evaluate.effort import print_effort_table, simulate_effort

            out = simulate_effort(
                X,
                labels,
                page=args.page,
                singles=args.grid_singles,
                kind=args.grid_page,
                start=args.grid_start,
                strategies=strategies,
                folds=args.folds,
                budget=args.budget,
                k=k,
                seed=args.seed,
                dataset=str(args.data),
                progress=report,
            )
            print_effort_table(out)
            return out
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return None


def _write_json(out: dict, path: Path) -> None:
    """Write under a temporary name in the same folder, then rename: a failure (the disk full) leaves the old
    file as it was, never a truncated one; the results are printed above either way."""
    from aldesk.core.atomic import atomic_file

    try:
        with atomic_file(path, encoding="utf-8") as f:
            f.write(json.dumps(out, indent=1))
    except OSError as exc:
        raise UserError(
            f"Cannot write {path}: {exc.strerror or exc}; the table above has the results."
        ) from None


def print_table(out: dict) -> None:
    print(
        f"{out['dataset']}: {out['n_items']} items, {out['n_classes']} classes, {out['folds']} folds, "
        f"budget {out['budget']}; k-NN on the whole pool: {out['full_accuracy']:.3f}"
    )
    print(f"{'strategy':<34} {'AUC':>6} {'labels to 90%':>14} {'labels to 95%':>14}")
    for name, s in out["strategies"].items():
        l90 = "-" if s["labels_to_90"] is None else s["labels_to_90"]
        l95 = "-" if s["labels_to_95"] is None else s["labels_to_95"]
        print(f"{name:<34} {s['auc']:6.3f} {l90:>14} {l95:>14}")
