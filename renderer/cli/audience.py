"""``renderer segments``, ``segments fit`` and ``fixtures generate``: who the audience is."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from renderer.audience.fit import DEFAULT_MAX_K, DEFAULT_SILHOUETTE_SAMPLE
from renderer.cli.args import engine_from_args, parse_now
from renderer.cli.exits import EXIT_OK


def cmd_segments(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from renderer.audience.report import segment_audience
    from renderer.base.jsonl import split_lines

    engine = engine_from_args(args, segments_file=args.rules)
    rules, personas = engine.rules(), engine.personas()
    now = parse_now(args.now) or datetime.now(timezone.utc)
    console = Console(stderr=True)
    out = open(args.out, "w", encoding="utf-8") if args.out else None
    try:
        with open(args.profiles, "rb") as handle, console.status("reading profiles") as status:
            report = segment_audience(split_lines(handle), rules, now, out=out, personas=personas,
                                      on_progress=lambda n: status.update(f"{n:,} profiles read"))
    finally:
        if out is not None:
            out.close()
    table = Table(title=f"Segments of {report.valid:,} valid profiles (now = {now.isoformat()})")
    for column, justify in (("segment", "left"), ("profiles", "right"), ("share", "right"),
                            ("primary for", "right"), ("sample ids", "left")):
        table.add_column(column, justify=justify)
    known = rules.names + (personas.segments if personas else [])
    for name in known + sorted(set(report.counts) - set(known)):
        table.add_row(name, f"{report.counts[name]:,}", f"{report.share(name):.1%}",
                      f"{report.primary_counts[name]:,}", ", ".join(report.samples.get(name, [])))
    table.add_row("(no segment)", f"{report.unsegmented:,}",
                  f"{report.unsegmented / report.valid:.1%}" if report.valid else "-", "", "")
    Console(width=None if sys.stdout.isatty() else 120).print(table)
    for _, problem in report.invalid:
        console.print(f"[yellow]invalid[/] {problem}", markup=True, highlight=False)
    if report.invalid_count > len(report.invalid):
        console.print(f"... and {report.invalid_count - len(report.invalid)} more invalid lines")
    if report.duplicate_count:
        console.print(f"[yellow]data quality:[/] {report.duplicate_count} profiles share an email "
                      "with an earlier profile under another id", markup=True, highlight=False)
        for email, first, other in report.duplicates[:10]:
            console.print(f"  {email}: {first} and {other}", highlight=False)
    print(f"{report.valid:,} profiles segmented, {report.invalid_count:,} invalid lines, "
          f"{report.duplicate_count:,} duplicate emails" + (f"; wrote {args.out}" if args.out else ""))
    return EXIT_OK


def cmd_segments_fit(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from renderer.audience.fit.personas import fit_personas, read_features
    from renderer.audience.fit.report import report_columns, report_rows, summary, write_chart
    from renderer.audience.personas import dump_personas
    from renderer.base.jsonl import split_lines
    from renderer.engine import Engine

    config = Engine(args.content, templates_dir=args.templates, blocks_dir=args.blocks,
                    segments_file=args.rules).rules().config
    now = parse_now(args.now) or datetime.now(timezone.utc)
    console = Console(stderr=True)
    with open(args.profiles, "rb") as handle, console.status("reading profiles") as status:
        table = read_features(split_lines(handle), now, config=config,
                              on_progress=lambda n: status.update(f"{n:,} profiles read"))
    with console.status(f"fitting {args.k or 'the best number of'} personas on {table.rows:,} profiles"):
        result = fit_personas(table, now=now, k=args.k, seed=args.seed, config=config, max_k=args.max_k,
                              silhouette_sample=args.silhouette_sample)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump_personas(result.spec), encoding="utf-8")
    chart = write_chart(result.spec, out.with_suffix(".png"))
    report = Table(title=f"Personas of {table.rows:,} profiles")
    for index, column in enumerate(report_columns(result.spec)):
        report.add_column(column, justify="left" if index < 2 else "right", no_wrap=index < 2)
    for row in report_rows(result.spec):
        report.add_row(*row)
    Console(width=None if sys.stdout.isatty() else 160).print(report)
    for _, problem in table.invalid:
        console.print(f"[yellow]invalid[/] {problem}", markup=True, highlight=False)
    if table.invalid_count > len(table.invalid):
        console.print(f"... and {table.invalid_count - len(table.invalid)} more invalid lines")
    print(summary(result.spec))
    print(f"wrote {out} and {chart}; rename a persona by editing its \"name\" in {out}")
    return EXIT_OK


def cmd_fixtures_generate(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from renderer.content.fixtures import FIXTURE_NOW
    from renderer.devtools.synthetic import generate_profiles, write_jsonl

    now = parse_now(args.now) or FIXTURE_NOW
    if args.planted:
        from renderer.devtools.planted import generate_planted_profiles

        profiles = generate_planted_profiles(args.count, seed=args.seed, now=now)
    else:
        profiles = generate_profiles(args.count, seed=args.seed, now=now)
    with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("generating profiles", total=args.count)

        def counted():
            for profile in profiles:
                yield profile
                progress.advance(task)

        written = write_jsonl(counted(), Path(args.out))
    print(f"wrote {written:,} profiles to {args.out} (seed {args.seed}, now {now.isoformat()})")
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``renderer`` parser."""
    sub = subparsers
    segments = sub.add_parser("segments", help="segment report for a JSON Lines file of profiles; "
                              "`segments fit` discovers personas (K-Means)",
                              epilog="`renderer segments fit PROFILES.jsonl --out personas.json` discovers "
                                     "personas instead (see `renderer segments fit -h`).")
    segments.add_argument("profiles", help="JSON Lines file, one profile per line")
    segments.add_argument("--rules", help="segment rules YAML (default: the bundled segments.yaml)")
    segments.add_argument("--now", help="clock for derived features, ISO 8601 (default: now)")
    segments.add_argument("--out", help="write one JSON line per profile: id, segments, features")
    segments.set_defaults(func=cmd_segments)

    fit = sub.add_parser("segments-fit", prog="renderer segments fit",
                         description="Cluster profiles on their derived features, name the clusters and "
                                     "write a personas model (JSON) and a chart (PNG) next to it.")
    fit.add_argument("profiles", help="JSON Lines file, one profile per line")
    how_many = fit.add_mutually_exclusive_group()
    how_many.add_argument("--k", type=int, help="number of personas (at least 2)")
    how_many.add_argument("--auto-k", action="store_true",
                          help="pick the number by silhouette, from 2 to --max-k (the default)")
    fit.add_argument("--max-k", type=int, default=DEFAULT_MAX_K, help=f"with --auto-k (default {DEFAULT_MAX_K})")
    fit.add_argument("--seed", type=int, default=0, help="K-Means random state (default 0)")
    fit.add_argument("--now", help="clock for derived features, ISO 8601 (default: now; "
                                   "give it for a reproducible file)")
    fit.add_argument("--rules", help="rules YAML whose features: window and rates to use "
                                     "(default: the bundled segments.yaml)")
    fit.add_argument("--silhouette-sample", type=int, default=DEFAULT_SILHOUETTE_SAMPLE,
                     help=f"profiles sampled for the silhouette (default {DEFAULT_SILHOUETTE_SAMPLE:,})")
    fit.add_argument("--out", required=True, help="personas model, .json; the chart goes next to it as .png")
    fit.set_defaults(func=cmd_segments_fit)

    fixtures = sub.add_parser("fixtures", help="fixture tools")
    fixtures_sub = fixtures.add_subparsers(dest="fixtures_command", required=True)
    generate = fixtures_sub.add_parser("generate", help="write realistic synthetic profiles as JSON Lines")
    generate.add_argument("--count", type=int, required=True)
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--now", help="dates are relative to this (default: the fixtures' now)")
    generate.add_argument("--planted", action="store_true",
                          help="customers with planted churn and co-purchase signals, over their own 48-product "
                               "catalog (for trying segments fit-predictive and recommend fit; see docs/predictive.md)")
    generate.add_argument("--out", required=True, help="output .jsonl file")
    generate.set_defaults(func=cmd_fixtures_generate)
