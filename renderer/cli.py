"""The ``renderer`` command: parses arguments, calls the library, reports errors.

Every project error becomes a plain message and exit code 2 in one place
(:func:`main`); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from .engine import Engine
from .errors import InvalidInput, Problem, RendererError
from .fixtures import read_json
from .gallery import write_gallery
from .preview import commands as preview_commands
from .screenshot import register as register_screenshot
from .segments import RuleSet

EXIT_OK, EXIT_FAILED, EXIT_USAGE_OR_INPUT = 0, 1, 2


def _now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("--now", [Problem("now", f"not an ISO 8601 timestamp: {value!r}")]) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _engine(args: argparse.Namespace) -> Engine:
    return Engine(templates_dir=args.templates, blocks_dir=args.blocks)


def cmd_render(args: argparse.Namespace) -> int:
    engine = _engine(args)
    email = engine.render(
        args.template,
        profile=read_json(args.profile),
        recommendations=read_json(args.recommendations) if args.recommendations else None,
        event=read_json(args.event) if args.event else None,
        now=_now(args.now),
    )
    if args.format == "json":
        output = json.dumps({
            "template": email.template, "profile_id": email.profile_id, "subject": email.subject,
            "preheader": email.preheader, "segments": email.segments, "blocks": email.blocks,
            "warnings": email.warnings, "html": email.html, "text": email.text,
        }, ensure_ascii=False, indent=2) + "\n"
    elif args.format == "text":
        output = email.text
    else:
        output = email.html
    if args.out:
        Path(args.out).write_text(output, encoding="utf-8")
        print(f"wrote {args.out}: {email.subject!r} ({len(output.encode()) // 1024} KB)", file=sys.stderr)
    else:
        sys.stdout.write(output)
    for warning in email.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


def cmd_gallery(args: argparse.Namespace) -> int:
    out = Path(args.out)
    entries = write_gallery(out, engine=_engine(args))
    failed = [e for e in entries if e.error]
    for entry in failed:
        print(f"error: {entry.template} x {entry.fixture}: {entry.error}", file=sys.stderr)
    print(f"rendered {len(entries) - len(failed)} of {len(entries)} emails into {out}/ "
          f"- open {out / 'index.html'}")
    return EXIT_FAILED if failed else EXIT_OK


def cmd_segments(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from .audience import segment_audience

    rules = RuleSet.load(args.rules) if args.rules else Engine(
        templates_dir=args.templates, blocks_dir=args.blocks).rules()
    now = _now(args.now) or datetime.now(timezone.utc)
    console = Console(stderr=True)
    out = open(args.out, "w", encoding="utf-8") if args.out else None
    try:
        with open(args.profiles, encoding="utf-8") as lines, console.status("reading profiles") as status:
            report = segment_audience(lines, rules, now, out=out,
                                      on_progress=lambda n: status.update(f"{n:,} profiles read"))
    finally:
        if out is not None:
            out.close()
    table = Table(title=f"Segments of {report.valid:,} valid profiles (now = {now.isoformat()})")
    for column, justify in (("segment", "left"), ("profiles", "right"), ("share", "right"),
                            ("primary for", "right"), ("sample ids", "left")):
        table.add_column(column, justify=justify)
    for name in rules.names + sorted(set(report.counts) - set(rules.names)):
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


def cmd_fixtures_generate(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from .fixtures import FIXTURE_NOW
    from .synthetic import generate_profiles, write_jsonl

    now = _now(args.now) or FIXTURE_NOW
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


def cmd_templates(args: argparse.Namespace) -> int:
    engine = _engine(args)
    for name in engine.template_names():
        compiled = engine.compiled(name)
        print(f"{name:<22} {compiled.spec.description}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="renderer", description="Personalized email rendering.")
    parser.add_argument("--templates", help="templates folder (default: the bundled templates/)")
    parser.add_argument("--blocks", help="blocks folder (default: the bundled blocks/)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    render = sub.add_parser("render", help="render one email for one profile")
    render.add_argument("template")
    render.add_argument("--profile", required=True, help="profile JSON file")
    render.add_argument("--recommendations", help="recommendations JSON file (a list of products)")
    render.add_argument("--event", help="event JSON file (cart or browsing)")
    render.add_argument("--now", help="render clock, ISO 8601 (default: now)")
    render.add_argument("--format", choices=["html", "text", "json"], default="html")
    render.add_argument("--out", help="write here instead of standard output")
    render.set_defaults(func=cmd_render)

    gallery = sub.add_parser("gallery", help="render every template x fixture into a folder")
    gallery.add_argument("--out", default="out", help="output folder (default: out)")
    gallery.set_defaults(func=cmd_gallery)

    segments = sub.add_parser("segments", help="segment report for a JSON Lines file of profiles")
    segments.add_argument("profiles", help="JSON Lines file, one profile per line")
    segments.add_argument("--rules", help="segment rules YAML (default: the bundled segments.yaml)")
    segments.add_argument("--now", help="clock for derived features, ISO 8601 (default: now)")
    segments.add_argument("--out", help="write one JSON line per profile: id, segments, features")
    segments.set_defaults(func=cmd_segments)

    fixtures = sub.add_parser("fixtures", help="fixture tools")
    fixtures_sub = fixtures.add_subparsers(dest="fixtures_command", required=True)
    generate = fixtures_sub.add_parser("generate", help="write realistic synthetic profiles as JSON Lines")
    generate.add_argument("--count", type=int, required=True)
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--now", help="dates are relative to this (default: the fixtures' now)")
    generate.add_argument("--out", required=True, help="output .jsonl file")
    generate.set_defaults(func=cmd_fixtures_generate)

    templates = sub.add_parser("templates", help="list the templates")
    templates.set_defaults(func=cmd_templates)

    preview_commands.register(sub)
    register_screenshot(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (RendererError, OSError, ValueError) as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE_OR_INPUT


if __name__ == "__main__":
    sys.exit(main())
