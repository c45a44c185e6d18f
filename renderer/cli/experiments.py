"""``renderer experiments report``: how an audience splits over a template's experiments."""

from __future__ import annotations

import argparse
import sys

from renderer.cli.args import engine_from_args
from renderer.cli.exits import EXIT_OK


def cmd_experiments_report(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from renderer.audience.experiment_report import split_audience
    from renderer.base.errors import UsageError
    from renderer.base.jsonl import InvalidLines, read_profiles, split_lines

    engine = engine_from_args(args)
    experiments = engine.compiled(args.template).spec.experiments
    if not experiments:
        raise UsageError(f"template {args.template!r} declares no experiments: (see docs/experiments.md)")
    console = Console(stderr=True)
    invalid = InvalidLines()
    with open(args.audience, "rb") as handle, console.status("reading profiles") as status:
        profiles = read_profiles(split_lines(handle), invalid,
                                 on_progress=lambda n: status.update(f"{n:,} profiles read"))
        splits = split_audience(experiments, (profile.id for _, profile in profiles))
    out = Console(width=None if sys.stdout.isatty() else 120)
    for split in splits:
        statistic, dof, p = split.chi_square()
        table = Table(title=f"{split.experiment.key}: {split.total:,} recipients", caption=f"chi-square {statistic:.2f}, {dof} degree{'s' if dof != 1 else ''} of freedom, "
                              f"p = {p:.3f}" + (" (the split is off its weights)" if p < 0.01 else ""))
        for column, justify in (("variant", "left"), ("recipients", "right"), ("share", "right"),
                                ("expected", "right")):
            table.add_column(column, justify=justify)
        for name, count, share, expected in split.rows():
            label = f"{name} (control)" if name == split.experiment.control else name
            table.add_row(label, f"{count:,}", f"{share:.2%}", f"{expected:.2%}")
        out.print(table)
    for _, problem in invalid.listed:
        console.print(f"[yellow]invalid[/] {problem}", markup=True, highlight=False)
    if invalid.count > len(invalid.listed):
        console.print(f"... and {invalid.count - len(invalid.listed)} more invalid lines")
    total = splits[0].total if splits else 0
    print(f"{total:,} recipients placed in {len(splits)} experiment{'s' if len(splits) != 1 else ''} of "
          f"{args.template}, {invalid.count:,} invalid lines")
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``renderer`` parser."""
    experiments = subparsers.add_parser("experiments", help="A/B experiments of a template (docs/experiments.md)")
    sub = experiments.add_subparsers(dest="experiments_command", required=True)
    report = sub.add_parser("report", help="how an audience splits over a template's experiments: counts, "
                                           "shares and a chi-square test against the weights",
                            description="Place every profile of a JSON Lines file in each experiment of the "
                                        "template, as its render would, and test the counts against the weights.")
    report.add_argument("audience", help="JSON Lines file, one profile per line")
    report.add_argument("--template", required=True, help="the template whose experiments to report")
    report.set_defaults(func=cmd_experiments_report)
