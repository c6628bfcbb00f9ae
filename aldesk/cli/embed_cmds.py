"""``aldesk reembed PROJECT [--model-card CARD]``: embed a project again with another (by default the newest) model.

Opening a project never changes its model: one made with an earlier default card (MiniLM for texts) keeps its
vectors. This is the explicit switch, keeping every label, skip and the undo journal.
"""

from __future__ import annotations

import argparse
import sys

from aldesk.cli.args import existing_file


def card_arg(text: str) -> str:
    """argparse type for ``--model-card``: a bundled card's name (``e5_small_q4``) or id, or an existing file."""
    from aldesk.core.embed.cards import BUNDLED_CARDS

    stems = {n.removesuffix(".card.json") for names in BUNDLED_CARDS.values() for n in names}
    if text in stems:
        return text
    return str(existing_file(text))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reembed",
        help="embed a project again with another model card (default: the bundled default); every label stays",
        description="Embed every item of the project with the given model card (a bundled card's name such as "
        "e5_small_q4 or minilm_l6_int8, or a card file), then make it the project's model. Labels, skips and "
        "the undo history stay; the neighbour graph is rebuilt on the next open. A cancelled run (Ctrl+C) "
        "changes nothing.",
        epilog="examples:\n  aldesk reembed reviews.aldesk                       the bundled default (e5-small for texts)\n"
        "  aldesk reembed reviews.aldesk --model-card minilm_l6_int8",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("project", type=existing_file, help="the .aldesk project file")
    p.add_argument(
        "--model-card",
        type=card_arg,
        default=None,
        help="a bundled card (e5_small_q4, minilm_l6_int8, efficientnet_lite0) or a card JSON file "
        "(default: the bundled default of the project's kind)",
    )
    p.set_defaults(func=run)


def _progress(fraction: float, message: str) -> None:
    print(f"\r{fraction:6.1%}  {message[:60]:<60}", end="" if fraction < 1 else "\n", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from aldesk.app.workspace import card_for, open_project, reembed_project
    from aldesk.core.embed.cards import default_card, resolve_card
    from aldesk.core.progress import UserError

    loaded = open_project(args.project)
    with loaded.project as p:
        kind = loaded.dataset.kind
        card = resolve_card(args.model_card, kind) if args.model_card else default_card(kind)
        if card.kind != kind:
            raise UserError(
                f"The model card {card.name or card.id} embeds {card.kind}s; this project has {kind}s."
            )
        old = card_for(p, kind)
        if card.id == p.model_id and card.fingerprint == old.fingerprint:
            print(f"{args.project} already uses {card.name or card.id}; nothing to do.")
            return 0
        labels = sum(p.counts().values())
        result = reembed_project(loaded, card, progress=_progress)
    print(
        f"re-embedded {args.project}: {result.n_computed} items computed, {result.n_cached} from the cache, with "
        f"{card.name or card.id} (was {old.name or old.id}); all {labels} labels kept."
    )
    for prob in result.failed[:10]:
        print(f"skipped {prob.key}: {prob.reason}", file=sys.stderr)
    return 0
