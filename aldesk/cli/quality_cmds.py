"""``aldesk review`` (the label-error queue and the stopping signal) and ``aldesk compare`` (two experts' labels).

Both read their projects read-only (no lock, no backup, nothing written to them); only ``compare --merge`` writes,
and then a NEW project file, or A itself only with ``--into-a``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from aldesk.cli.args import path_arg, positive_int
from aldesk.cli.progress_bar import progress_bar as _progress_bar


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "review",
        help="labeled items that look mislabeled, worst first, and whether more labels would help (writes nothing)",
        description="Each labeled item is predicted from the OTHER labeled items (leave-one-out k-NN); items whose "
        "label gets less than its class's mean self-confidence while another class is likelier (confident "
        "learning), and near-duplicates with different labels, are listed. Review them in the app: Review > "
        "Review suspicious labels.",
        epilog="examples:\n  aldesk review photos.aldesk --top 20\n  aldesk review photos.aldesk --json > queue.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("project", type=path_arg)
    p.add_argument("--top", type=positive_int, default=20, help="items listed (default 20; --json lists all)")
    p.add_argument("--json", action="store_true", help="the queue and the stopping signal as JSON on stdout")
    p.set_defaults(func=run_review)

    p = sub.add_parser(
        "compare",
        help="agreement of two projects' labels (Cohen's kappa, per class, the disagreements); optionally merge",
        description="Items are matched by key, and by content hash where both projects have one. A and B are only "
        "read; --merge writes a new project file (a copy of A plus the labels taken from B, logged with the origin "
        "merge:<B's name>), --into-a writes them into A.",
        epilog="examples:\n  aldesk compare anna.aldesk ben.aldesk\n"
        "  aldesk compare anna.aldesk ben.aldesk --merge both.aldesk --prefer A",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("a", type=path_arg)
    p.add_argument("b", type=path_arg)
    p.add_argument("--json", action="store_true", help="the comparison as JSON on stdout")
    p.add_argument(
        "--merge", type=path_arg, default=None, metavar="OUT.aldesk", help="write the merge here (new)"
    )
    p.add_argument("--into-a", action="store_true", help="write the merge into A itself (explicitly asked)")
    p.add_argument(
        "--prefer",
        choices=("A", "B"),
        default="A",
        help="whose label wins a disagreement in a merge (default A)",
    )
    p.add_argument("--top", type=positive_int, default=20, help="disagreements listed (default 20)")
    p.set_defaults(func=run_compare)


def _cell(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def run_review(args: argparse.Namespace) -> int:
    from aldesk.app.workspace import Loaded, embed_workspace
    from aldesk.cli.project_cmds import _open_to_read
    from aldesk.core.quality.review import session_queue
    from aldesk.core.quality.stopping import session_signal

    with _open_to_read(args.project, "reviewing") as p:
        ws = embed_workspace(Loaded(p, p.dataset()), progress=_progress_bar())
        s = ws.session
        queue = session_queue(s)
        signal = session_signal(s)
        keys = ws.dataset.keys
    if args.json:
        out = {
            "project": str(args.project),
            "labeled": s.n_labeled,
            "queue": [q.to_dict() | {"key": keys[q.index], "other_key": _key(keys, q.other)} for q in queue],
            "stopping": {
                "stopped": signal.stopped,
                "changed": signal.changed,
                "window": signal.window,
                "sample": signal.sample,
                "audit": signal.audit,
                "message": signal.message(),
            },
        }
        print(json.dumps(out, indent=1, ensure_ascii=False))
        return 0
    print(
        f"{args.project}: {len(queue)} of {s.n_labeled} labeled items look mislabeled "
        "(each predicted from the other labels)"
    )
    if queue:
        print(f"{'#':>4}  {'item':<40} {'given':<14} {'suggested':<14} {'self-conf':>9}  why")
    for n, q in enumerate(queue[: args.top], start=1):
        why = (
            f"near-duplicate ({q.similarity:.3f}) of {_cell(keys[q.other], 30)}"
            if q.kind == "duplicate" and q.other is not None and q.similarity is not None
            else f"below {q.given}'s {q.threshold:.2f}"
        )
        print(
            f"{n:>4}  {_cell(keys[q.index], 40):<40} {_cell(q.given, 14):<14} {_cell(q.suggested, 14):<14} "
            f"{q.self_confidence:9.2f}  {why}"
        )
    if len(queue) > args.top:
        print(f"  … and {len(queue) - args.top} more (--top N, or --json for all)")
    print(signal.message())
    return 0


def _key(keys: list[str], index: int | None) -> str | None:
    return None if index is None else keys[index]


def run_compare(args: argparse.Namespace) -> int:
    from aldesk.core.quality.compare import compare_files, merge

    cmp = compare_files(args.a, args.b)
    if args.json:
        out = cmp.to_dict()
    else:
        _print_comparison(cmp, args.top)
    if args.merge is not None or args.into_a:
        report = merge(args.a, args.b, args.merge, prefer=args.prefer, into_a=args.into_a)
        note = (
            f"merged into {report.path}: {report.from_b} labels from {Path(args.b).name} (origin {report.origin}), "
            f"{report.kept_a} disagreements kept as in {Path(args.a).name}"
            + (f", {report.not_in_a} items of B not in A" if report.not_in_a else "")
        )
        if args.json:
            out["merge"] = {
                "path": str(report.path),
                "from_b": report.from_b,
                "kept_a": report.kept_a,
                "not_in_a": report.not_in_a,
                "origin": report.origin,
            }
        else:
            print(note)
    if args.json:
        print(json.dumps(out, indent=1, ensure_ascii=False))
    return 0


def _print_comparison(cmp: object, top: int) -> None:
    from aldesk.core.quality.compare import Comparison

    assert isinstance(cmp, Comparison)
    kappa = "undefined (one class only)" if cmp.kappa is None else f"{cmp.kappa:.3f}"
    print(f"A: {cmp.path_a}\nB: {cmp.path_b}")
    print(f"labeled by both: {len(cmp.pairs)}, by A only: {cmp.only_a}, by B only: {cmp.only_b}")
    if cmp.pairs:
        print(f"Cohen's kappa: {kappa}; observed agreement {cmp.observed:.1%}, by chance {cmp.expected:.1%}")
        width = max(len(c.name) for c in cmp.per_class)
        print(f"  {'class':<{width}}  {'A':>5} {'B':>5} {'both':>5}  agreement")
        for c in cmp.per_class:
            agree = "-" if c.agreement is None else f"{c.agreement:.1%}"
            print(f"  {c.name:<{width}}  {c.n_a:>5} {c.n_b:>5} {c.both:>5}  {agree}")
    if cmp.content_differs:
        print(f"same name, different content (not compared): {len(cmp.content_differs)}")
    dis = cmp.disagreements
    if dis:
        print(f"disagreements ({len(dis)}):")
        for p in dis[:top]:
            print(f"  {_cell(p.key, 50):<50}  A: {p.label_a}  B: {p.label_b}")
        if len(dis) > top:
            print(f"  … and {len(dis) - top} more (--top N, or --json for all)")
