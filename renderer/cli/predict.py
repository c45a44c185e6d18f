"""``renderer segments fit-predictive`` and ``renderer recommend fit``: models fitted from order histories."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

from renderer.cli.args import parse_now
from renderer.cli.exits import EXIT_OK


def _print_invalid(console, invalid: list[tuple[int, str]], count: int) -> None:
    for _, problem in invalid:
        console.print(f"[yellow]invalid[/] {problem}", markup=True, highlight=False)
    if count > len(invalid):
        console.print(f"... and {count - len(invalid)} more invalid lines")


def cmd_fit_predictive(args: argparse.Namespace) -> int:
    from rich.console import Console

    from renderer.audience.fit.predictive import fit_predictive, read_examples
    from renderer.audience.fit.predictive_report import summary_lines, write_chart
    from renderer.audience.predictive import dump_predictive
    from renderer.base.jsonl import split_lines
    from renderer.engine import Engine

    config = Engine(args.content, templates_dir=args.templates, blocks_dir=args.blocks,
                    segments_file=args.rules).rules().config
    now = parse_now(args.now) or datetime.now(timezone.utc)
    console = Console(stderr=True)
    with open(args.profiles, "rb") as handle, console.status("reading profiles") as status:
        table = read_examples(split_lines(handle), now, config=config, horizon_days=args.horizon,
                              value_horizon_days=args.value_horizon,
                              on_progress=lambda n: status.update(f"{n:,} profiles read"))
    with console.status("fitting the churn and value models"):
        spec = fit_predictive(table, now=now, seed=args.seed, config=config, horizon_days=args.horizon,
                              value_horizon_days=args.value_horizon, test_share=args.test_share)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump_predictive(spec), encoding="utf-8")
    chart = write_chart(spec, out.with_suffix(".png"))
    _print_invalid(console, table.invalid, table.invalid_count)
    for line in summary_lines(spec):
        print(line)
    print(f"wrote {out} and {chart}")
    return EXIT_OK


def cmd_recommend_fit(args: argparse.Namespace) -> int:
    from rich.console import Console

    from renderer.audience.fit.copurchase import dump_copurchase, evaluate, fit_copurchase, read_catalog, read_histories
    from renderer.base.jsonl import split_lines

    catalog = read_catalog(Path(args.catalog).read_text(encoding="utf-8"), args.catalog)
    console = Console(stderr=True)
    with open(args.profiles, "rb") as handle, console.status("reading profiles") as status:
        histories = read_histories(split_lines(handle), on_progress=lambda n: status.update(f"{n:,} profiles read"))
    options = {"top_k": args.top_k, "shrinkage": args.shrinkage, "view_weight": args.view_weight}
    with console.status(f"counting co-purchases of {histories.profiles:,} profiles"):
        validation = evaluate(histories, catalog, **options)
        spec = fit_copurchase(histories, catalog, **options)
    spec = spec.model_copy(update={"validation": validation})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump_copurchase(spec), encoding="utf-8")
    _print_invalid(console, histories.invalid, histories.invalid_count)
    if validation["hit_rate"] is not None:
        print(f"hit rate @ {validation['k']} on {validation['held_out_customers']:,} held-out last orders: "
              f"{validation['hit_rate']:.1%} (bestsellers: {validation['hit_rate_bestsellers']:.1%})")
    else:
        print("no repeat customer bought something new in their last order: no hit rate to report")
    print(f"{histories.profiles:,} profiles, {spec.fit['products_bought']:,} products bought; wrote {out}")
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``renderer`` parser."""
    fit = subparsers.add_parser(
        "segments-fit-predictive", prog="renderer segments fit-predictive",
        description="Fit churn propensity and expected value from the profiles' own order histories "
                    "(features as of NOW - horizon, outcome after it), report them on held-out customers "
                    "and write a model (JSON) and a chart (PNG) next to it.")
    fit.add_argument("profiles", help="JSON Lines file, one profile per line")
    fit.add_argument("--now", help="the date the histories run to, ISO 8601 (default: now; "
                                   "give it for a reproducible file)")
    fit.add_argument("--horizon", type=int, default=90, help="churn: no order within this many days (default 90)")
    fit.add_argument("--value-horizon", type=int, default=365,
                     help="value: spend within this many days (default 365)")
    fit.add_argument("--seed", type=int, default=0, help="seed of the held-out split (default 0)")
    fit.add_argument("--test-share", type=float, default=0.25, help="share of customers held out (default 0.25)")
    fit.add_argument("--rules", help="rules YAML whose features: window and rates to use "
                                     "(default: the bundled segments.yaml)")
    fit.add_argument("--out", required=True, help="predictive model, .json; the chart goes next to it as .png")
    fit.set_defaults(func=cmd_fit_predictive)

    recommend = subparsers.add_parser("recommend", help="the embedded co-purchase recommender")
    recommend_sub = recommend.add_subparsers(dest="recommend_command", required=True)
    rec_fit = recommend_sub.add_parser(
        "fit", description="Count which products the same customers bought (and browsed), keep each "
                           "product's nearest neighbours and the bestsellers, report hit rate @ 4 on "
                           "held-out last orders, and write the model (JSON).")
    rec_fit.add_argument("profiles", help="JSON Lines file, one profile per line")
    rec_fit.add_argument("--catalog", required=True,
                         help="the products that may be recommended (JSON list, with in_stock and category)")
    rec_fit.add_argument("--top-k", type=int, default=20, help="neighbours kept per product (default 20)")
    rec_fit.add_argument("--shrinkage", type=float, default=10.0,
                         help="damping of pairs seen by few customers (default 10)")
    rec_fit.add_argument("--view-weight", type=float, default=0.5,
                         help="weight of a browsed-only product against a bought one (default 0.5)")
    rec_fit.add_argument("--out", required=True, help="model file, .json")
    rec_fit.set_defaults(func=cmd_recommend_fit)
