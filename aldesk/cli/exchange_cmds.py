"""``aldesk export`` and ``aldesk import-labels``: labels out in the formats trainers read, and labels in.

Only argparse at import time (``aldesk --help`` stays instant): the core's format list is repeated here as
:data:`FORMATS`, and a test checks it against :data:`aldesk.core.exchange.formats.FORMATS`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from aldesk.cli.args import existing_file, path_arg
from aldesk.cli.progress_bar import progress_bar as _progress_bar

if TYPE_CHECKING:
    from aldesk.core.exchange.model_outputs import ModelOutputs
    from aldesk.core.project import Project

FORMATS = (
    "csv",
    "jsonl",
    "parquet",
    "imagefolder",
    "hf-imagefolder",
    "yolo-cls",
    "fiftyone",
    "labelstudio",
    "cleanlab",
    "embeddings",
)  # aldesk.core.exchange.formats.FORMATS, without importing it

EXPORT_EXAMPLES = """examples:
  aldesk export p.aldesk --format csv --out labels.csv
  aldesk export p.aldesk --format csv --excel --out labels-excel.csv
  aldesk export p.aldesk --format imagefolder --split --mode hardlink --out sorted/
  aldesk export p.aldesk --format parquet --vectors --out labels.parquet
  aldesk export p.aldesk --format cleanlab --out for-cleanlab/
  aldesk export p.aldesk --format csv --predicted --min-confidence 0.9 --out all.csv

--split (imagefolder, hf-imagefolder; yolo-cls always): the audit labels are the test split (val/ for YOLO),
the only uniform random sample among the labels. Formats that need the embeddings (cleanlab, embeddings,
--vectors, --predicted) embed the data, from the cache when they can."""


def fraction(text: str) -> float:
    """argparse type: a number from 0 to 1 (a confidence)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"must be from 0 to 1 (got {text})")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write the labels as " + ", ".join(FORMATS),
        epilog=EXPORT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("project", type=path_arg)
    p.add_argument("--format", choices=FORMATS, required=True)
    p.add_argument(
        "--out",
        type=path_arg,
        required=True,
        help="file (csv, jsonl, parquet, labelstudio) or folder: new, empty or an earlier aldesk export",
    )
    p.add_argument(
        "--mode",
        choices=("copy", "hardlink", "symlink"),
        default="copy",
        help="how image exports place files (default copy)",
    )
    p.add_argument(
        "--predicted",
        action="store_true",
        help="also export predicted labels of unlabeled items (embeds the data, from the cache if it can)",
    )
    p.add_argument(
        "--min-confidence",
        type=fraction,
        default=0.0,
        help="with --predicted: lowest confidence kept, 0 to 1",
    )
    p.add_argument(
        "--image-url-prefix",
        default=None,
        help="labelstudio: URL prefix of the images (default: Label Studio local file serving)",
    )
    p.add_argument(
        "--split", action="store_true", help="image folders: train/ and test/ (test = audit labels)"
    )
    p.add_argument("--excel", action="store_true", help="csv: start with a UTF-8 BOM, for Excel")
    p.add_argument("--vectors", action="store_true", help="parquet: add the embedding of each item")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=run_export)

    p = sub.add_parser(
        "import-labels",
        help="label items from a CSV/TSV, Parquet, JSON Lines or Label Studio JSON file",
        description="Rows name items by the column 'item' (what aldesk exports write: the image path or the "
        "text) or by --id-column; Label Studio annotations become labels, its predictions suggestions.",
    )
    p.add_argument("project", type=path_arg)
    p.add_argument("csv", type=existing_file, metavar="FILE")
    p.add_argument("--overwrite", action="store_true", help="replace labels that differ (default: keep them)")
    p.add_argument(
        "--id-column",
        default=None,
        help="the column naming the items (default 'item'); for texts matched with the same column of the "
        "project's CSV",
    )
    p.add_argument("--label-column", default=None, help="the column holding the labels (default 'label')")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=run_import)


def _print_list(title: str, items: list[str], limit: int = 10) -> None:
    from aldesk.cli.project_cmds import _print_list as show

    show(title, items, limit)


def run_export(args: argparse.Namespace) -> int:
    from aldesk.cli.project_cmds import _open_to_read
    from aldesk.core.exchange.export import (
        check_options,
        check_output,
        companions,
        export_project,
        needs_model,
    )
    from aldesk.core.progress import UserError

    # Before the project is opened (and the data embedded): a mistyped folder is said at once, naming --out, not
    # the temporary file the export would have written first.
    parent = Path(
        os.path.normpath(args.out.absolute())
    ).parent  # "sub/../p.aldesk" is still p.aldesk's folder
    if not parent.is_dir():
        raise UserError(f"--out {args.out}: the folder {parent} does not exist.")
    with _open_to_read(args.project, "exporting") as p:
        check_options(
            args.format, p.kind, mode=args.mode, split=args.split, excel=args.excel, vectors=args.vectors
        )
        outputs = None
        if needs_model(args.format, predicted=args.predicted, vectors=args.vectors):
            # the output too, before minutes of embedding: a refused --out is said at once
            check_output(args.format, args.out, p.dataset(), protected=companions(p.path))
        if needs_model(args.format, predicted=args.predicted, vectors=args.vectors):
            outputs = model_outputs(p)
        report = export_project(
            p,
            args.format,
            args.out,
            mode=args.mode,
            include_predicted=args.predicted,
            min_confidence=args.min_confidence,
            image_url_prefix=args.image_url_prefix,
            split=args.split,
            excel=args.excel,
            vectors=args.vectors,
            outputs=outputs,
        )
    failed = bool(report.missing or report.refused)
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
        return 1 if failed else 0
    print(
        f"wrote {report.path}: {report.n_labeled} labeled"
        + (f", {report.n_predicted} predicted" if args.predicted else "")
        + (" (" + ", ".join(f"{k} {v}" for k, v in report.splits.items()) + ")" if report.splits else "")
    )
    for note in report.notes:
        print(note)
    _print_list("image files not found (run `aldesk relink` if the folder moved)", report.missing)
    _print_list("refused, not exported (not a regular file inside the data folder)", report.refused)
    _print_list("could not be loaded, not exported", report.unusable)
    return 1 if failed else 0


def model_outputs(p: Project) -> ModelOutputs:
    """Predictions and embeddings of the session the window would open: the project's saved k and strategy
    (not the defaults), from the app layer's one way of building it. The project is read-only here: nothing is
    written to it."""
    from aldesk.app.workspace import Loaded, card_for, embed_workspace
    from aldesk.core.exchange.model_outputs import from_session

    card = card_for(p)
    if card.id != p.model_id:
        print(f"note: the project was embedded with {p.model_id}; predicting with {card.id}", file=sys.stderr)
    ds = p.dataset()
    ws = embed_workspace(Loaded(p, ds), progress=_progress_bar())
    index = {k: i for i, k in enumerate(ds.keys)}
    reasons = {index[pr.key]: pr.reason for pr in ws.problems if pr.key in index}
    return from_session(ws.session, reasons)


def _predictions(p: Project) -> tuple[list[str | None], object]:
    """(predicted, confidence) per item: :func:`model_outputs`, for callers that only need those."""
    out = model_outputs(p)
    return out.predicted, out.confidence


def run_import(args: argparse.Namespace) -> int:
    from aldesk.core.exchange.imports import import_labels
    from aldesk.core.project import Project

    with Project.open(args.project) as p:
        r = import_labels(
            p, args.csv, overwrite=args.overwrite, id_column=args.id_column, label_column=args.label_column
        )
    if args.json:
        print(json.dumps(r.as_json(), ensure_ascii=False))
        return 0
    print(f"{r.rows} rows: {r.labeled} items labeled, {r.unchanged} already so, {r.empty} without a label")
    if r.suggestions:
        print(f"{r.suggestions} predictions kept as suggestions (not labels)")
    if r.new_classes:
        print(f"new classes: {', '.join(r.new_classes)}")
    if r.actions:
        print("one undo in the app reverts this whole import")
    _print_list("labeled otherwise already, kept (use --overwrite to replace)", r.conflicts)
    _print_list("not in the project", r.unmatched)
    return 0
