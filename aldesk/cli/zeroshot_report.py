"""The output of ``aldesk simulate --zero-shot``: the table, and the JSON for ``--out``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np

from aldesk.core.progress import UserError


def run_zero_shot(
    args: argparse.Namespace,
    X: np.ndarray,
    labels: list[Any],
    card: Any,
    strategy: str,
    progress: Any,
    write_json: Callable[[dict, Any], None],
) -> int:
    """Embed the class descriptions with ``card``, run the comparison, print it (and write ``--out``)."""
    from aldesk.core.evaluate.zeroshot import CHECKPOINTS, simulate_zero_shot
    from aldesk.core.labeling.session import DEFAULT_K
    from aldesk.core.query import zeroshot

    classes = sorted({str(lab) for lab in labels if lab is not None and lab != ""})
    try:
        texts = zeroshot.parse_descriptions(args.zero_shot, classes)
    except ValueError as exc:
        raise UserError(f"--zero-shot: {exc}.") from None
    protos = zeroshot.prototypes(card, texts)
    try:
        out = simulate_zero_shot(
            X,
            labels,
            dict(zip(classes, protos, strict=True)),
            strategy=strategy,
            folds=args.folds,
            k=DEFAULT_K if args.k is None else args.k,
            seed=args.seed,
            progress=progress,
        )
    except ValueError as exc:
        raise UserError(str(exc)) from None
    out |= {
        "dataset": str(args.data),
        "model": card.id,
        "descriptions": dict(zip(classes, texts, strict=True)),
    }
    print(
        f"{out['dataset']}: zero-shot with {card.name or card.id}, strategy {strategy}, {out['folds']} folds; "
        f"the prior alone on every item: {out['prior_accuracy']:.3f}"
    )
    print(f"{'labels':<24}" + "".join(f"{c:>8}" for c in CHECKPOINTS))
    for arm in ("with", "without"):
        print(f"{arm + ' zero-shot':<24}" + "".join(f"{out[arm][str(c)]:8.3f}" for c in CHECKPOINTS))
    if args.out:
        write_json(out, args.out)
    return 0
