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

from renderer.audience.fit import DEFAULT_MAX_K, DEFAULT_SILHOUETTE_SAMPLE
from renderer.base.errors import RendererError, UsageError
from renderer.cli import preview as preview_commands
from renderer.cli.args import add_request_arguments, engine_from_args, parse_now, request_from_args
from renderer.cli.screenshot import register as register_screenshot
from renderer.content.json_io import read_json, read_products
from renderer.devtools.gallery import write_gallery
from renderer.engine import Engine

EXIT_OK, EXIT_FAILED, EXIT_USAGE_OR_INPUT = 0, 1, 2
_COMMANDS = "{render,check,gallery,segments,batch,trigger,fixtures,templates,schema,init,preview,screenshot}"
_GLOBAL_VALUE_OPTIONS = {"--content", "--templates", "--blocks", "--locales", "--personas"}


def cmd_render(args: argparse.Namespace) -> int:
    email = engine_from_args(args).render(args.template, **request_from_args(args))
    if args.format == "json":
        output = json.dumps(email.to_dict(), ensure_ascii=False, indent=2) + "\n"
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


def cmd_check(args: argparse.Namespace) -> int:
    from renderer.api import check

    report = check(args.templates_to_check or None, engine=engine_from_args(args), fixtures=args.fixtures)
    sys.stdout.write(report.to_json() if args.format == "json" else report.to_text())
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_gallery(args: argparse.Namespace) -> int:
    out = Path(args.out)
    entries = write_gallery(out, engine=engine_from_args(args))
    failed = [e for e in entries if e.error]
    for entry in failed:
        print(f"error: {entry.template} x {entry.fixture}: {entry.error}", file=sys.stderr)
    print(f"rendered {len(entries) - len(failed)} of {len(entries)} emails into {out}/ "
          f"- open {out / 'index.html'}")
    return EXIT_FAILED if failed else EXIT_OK


def cmd_segments(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from renderer.audience.report import segment_audience

    engine = engine_from_args(args, segments_file=args.rules)
    rules, personas = engine.rules(), engine.personas()
    now = parse_now(args.now) or datetime.now(timezone.utc)
    console = Console(stderr=True)
    out = open(args.out, "w", encoding="utf-8") if args.out else None
    try:
        with open(args.profiles, encoding="utf-8") as lines, console.status("reading profiles") as status:
            report = segment_audience(lines, rules, now, out=out, personas=personas,
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

    config = Engine(args.content, templates_dir=args.templates, blocks_dir=args.blocks,
                    segments_file=args.rules).rules().config
    now = parse_now(args.now) or datetime.now(timezone.utc)
    console = Console(stderr=True)
    with open(args.profiles, encoding="utf-8") as lines, console.status("reading profiles") as status:
        table = read_features(lines, now, config=config,
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


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def cmd_batch(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from renderer.batch.job import JobSpec, run_batch

    engine = engine_from_args(args)
    engine.compiled(args.template)  # a broken template fails here, once, not per recipient
    profiles = Path(args.profiles)
    shared, per_line = None, None
    if args.recommendations:
        recs = Path(args.recommendations)
        if recs.suffix == ".jsonl":
            per_line = recs
        else:
            # Validated once for the whole job (and a broken file refused before any render).
            shared = read_products(recs)
    spec = JobSpec(template=args.template, now=parse_now(args.now), shared_recommendations=shared,
                   transactional=args.transactional)
    if args.engine == "dask":
        from renderer.cli.dask import run_dask_command

        return run_dask_command(args, engine, spec, per_line)
    if args.scheduler or args.partitions or args.shared_out:
        raise UsageError("--scheduler, --partitions and --shared-out need --engine dask")
    console = Console(stderr=True)
    # A pipe (--profiles /dev/stdin, a FIFO) can be read once only: no total, no ETA.
    total = _count_lines(profiles) if profiles.is_file() else None
    progress = Progress(TextColumn("rendering"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[rate]:>7.0f} emails/s"), TimeRemainingColumn(),
                        console=console, disable=not console.is_terminal, transient=True)
    import time
    started = time.perf_counter()
    with progress:
        task = progress.add_task("render", total=total, rate=0.0)

        shown = [0]

        def advance(done: int) -> None:
            # Called per line in process, per chunk with workers: redraw every 50 or more.
            if done - shown[0] >= 50:
                shown[0] = done
                elapsed = time.perf_counter() - started
                progress.update(task, completed=done, rate=done / elapsed if elapsed else 0.0)

        try:
            summary = run_batch(engine, spec, profiles, Path(args.out), workers=args.workers or 1,
                                recommendations_lines=per_line, resume=args.resume, restart=args.restart,
                                chunk_size=args.chunk_size, on_line=advance)
        except KeyboardInterrupt:
            print("interrupted: partial output kept; run again with --resume to continue", file=sys.stderr)
            return 130
    resumed = f" (resumed after input line {summary.resumed_after_line})" if summary.resumed_after_line else ""
    print(f"rendered {summary.rendered:,}, skipped {summary.skipped:,}, failed {summary.failed:,} "
          f"in {summary.seconds:.2f} s ({summary.rate:,.0f} emails/s){resumed} -> {args.out}",
          file=sys.stderr if args.out == "-" else sys.stdout)
    return EXIT_FAILED if summary.failed else EXIT_OK


def cmd_trigger(args: argparse.Namespace) -> int:
    engine = engine_from_args(args)
    outcome = engine.render_event(
        profile=read_json(args.profile), event=read_json(args.event), now=parse_now(args.now),
        recommendations=read_json(args.recommendations) if args.recommendations else None,
    )
    if outcome.skip is not None:
        print(f"skip {outcome.event_type} -> {outcome.template}: {outcome.skip.code}: {outcome.skip.message}")
        return EXIT_OK
    email = outcome.email
    assert email is not None  # an outcome is either a skip or an email
    print(f"send {outcome.event_type} -> {outcome.template}: {email.subject!r} "
          f"(segments: {', '.join(email.segments) or 'none'}; blocks: {', '.join(email.blocks)})")
    for warning in email.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.out:
        out = Path(args.out)
        out.write_text(email.html, encoding="utf-8")
        out.with_suffix(".txt").write_text(email.text, encoding="utf-8")
        print(f"wrote {out} and {out.with_suffix('.txt')}")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from renderer.devtools.scaffold import init_project

    layout = init_project(args.folder)
    folder = args.folder
    print(f"created a content project in {layout.root}: a copy of the demo brand to make your own.\n"
          f"See every email, live as you save:  renderer --content {folder} preview\n"
          f"What would break in an inbox:       renderer --content {folder} check\n"
          f"Its tests:                          pytest {Path(folder) / 'tests'}\n"
          f"For designers:                      {Path(folder) / 'README.md'}")
    return EXIT_OK


def cmd_templates(args: argparse.Namespace) -> int:
    engine = engine_from_args(args)
    for name in engine.template_names():
        compiled = engine.compiled(name)
        print(f"{name:<22} {compiled.spec.description}")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from renderer.devtools.schemas import SCHEMAS, schema_text, write_schemas

    if args.out:
        for path in write_schemas(args.out):
            print(path)
        return EXIT_OK
    if args.name is None:
        raise UsageError(f"name a schema ({', '.join(SCHEMAS)}) or pass --out DIR for all of them")
    sys.stdout.write(schema_text(args.name))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="renderer", description="Personalized email rendering.")
    parser.add_argument("--content", metavar="DIR", help="content project folder (renderer init DIR makes one; "
                        "default: $RENDERER_CONTENT, else the bundled demo brand)")
    parser.add_argument("--templates", help="templates folder (default: templates/ of the content)")
    parser.add_argument("--blocks", help="blocks folder (default: blocks/ of the content)")
    parser.add_argument("--locales", help="locale files folder (default: locales/ beside the blocks folder)")
    parser.add_argument("--personas", help="personas model file (from `renderer segments fit`)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    # The unlisted "segments-fit" is what `segments fit` is rewritten to (see _route).
    sub = parser.add_subparsers(dest="command", required=True, metavar=_COMMANDS)

    render = sub.add_parser("render", help="render one email for one profile")
    add_request_arguments(render)
    render.add_argument("--format", choices=["html", "text", "json"], default="html")
    render.add_argument("--out", help="write here instead of standard output")
    render.set_defaults(func=cmd_render)

    check = sub.add_parser("check", help="render every template x fixture and report what breaks emails "
                           "(exit 1 on errors)")
    check.add_argument("templates_to_check", nargs="*", metavar="TEMPLATE", help="templates (default: all)")
    check.add_argument("--format", choices=["text", "json"], default="text")
    check.add_argument("--fixtures", help="fixtures folder (default: the one beside the templates)")
    check.set_defaults(func=cmd_check)

    gallery = sub.add_parser("gallery", help="render every template x fixture into a folder")
    gallery.add_argument("--out", default="out", help="output folder (default: out)")
    gallery.set_defaults(func=cmd_gallery)

    segments = sub.add_parser("segments", help="segment report for a JSON Lines file of profiles; "
                              "`segments fit` discovers personas (K-Means)",
                              epilog="`renderer segments fit PROFILES.jsonl --out personas.json` discovers "
                                     "personas instead (see `renderer segments fit -h`).")
    segments.add_argument("profiles", help="JSON Lines file, one profile per line")
    segments.add_argument("--rules", help="segment rules YAML (default: the bundled segments.yaml)")
    segments.add_argument("--now", help="clock for derived features, ISO 8601 (default: now)")
    segments.add_argument("--out", help="write one JSON line per profile: id, segments, features")
    segments.set_defaults(func=cmd_segments)

    batch = sub.add_parser("batch", help="render one template for every profile of a JSON Lines file")
    batch.add_argument("template")
    batch.add_argument("--profiles", required=True,
                       help="JSON Lines: one profile, or {profile, recommendations, event, id}, per line "
                       "(with --engine dask also a folder of *.jsonl files or a quoted glob)")
    batch.add_argument("--recommendations",
                       help="a .json list of products for everyone, or a .jsonl aligned line by line")
    batch.add_argument("--out", required=True,
                       help="output JSON Lines file, or - for standard output (not resumable); "
                       "with --engine dask a folder of part files and manifest.json")
    batch.add_argument("--workers", type=_positive, help="worker processes (default 1: in process; "
                       "with --engine dask, the embedded cluster's, default one per core)")
    batch.add_argument("--chunk-size", type=_positive, default=100, metavar="N",
                       help="with --workers: recipients a worker renders at a time (default 100)")
    batch.add_argument("--engine", choices=["local", "dask"], default="local",
                       help="local processes (default) or a Dask cluster (docs/scaling.md)")
    batch.add_argument("--scheduler", help="with --engine dask: tcp://HOST:PORT of a running scheduler "
                       "(default: an embedded local cluster)")
    batch.add_argument("--partitions", type=int, help="with --engine dask: how many partitions "
                       "(default: one per 500 lines)")
    batch.add_argument("--shared-out", action="store_true", help="with --scheduler: every worker sees --out "
                       "at the same path and writes its part files there (default: they send them back)")
    batch.add_argument("--now", help="render clock, ISO 8601 (default: now)")
    batch.add_argument("--resume", action="store_true", help="continue an interrupted run")
    batch.add_argument("--restart", action="store_true", help="discard earlier output and start over")
    batch.add_argument("--transactional", "--ignore-consent", dest="transactional", action="store_true",
                       help="render recipients without marketing consent too (e.g. transactional mail)")
    batch.set_defaults(func=cmd_batch)

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

    trigger = sub.add_parser("trigger", help="decide and render an automation trigger for one event")
    trigger.add_argument("event", help="event JSON file (cart_abandoned, browse_abandoned, engaged_no_purchase)")
    trigger.add_argument("--profile", required=True, help="profile JSON file")
    trigger.add_argument("--recommendations", help="recommendations JSON file (a list of products)")
    trigger.add_argument("--now", help="clock, ISO 8601 (default: now)")
    trigger.add_argument("--out", help="write the email here (HTML; the text part next to it as .txt)")
    trigger.set_defaults(func=cmd_trigger)

    fixtures = sub.add_parser("fixtures", help="fixture tools")
    fixtures_sub = fixtures.add_subparsers(dest="fixtures_command", required=True)
    generate = fixtures_sub.add_parser("generate", help="write realistic synthetic profiles as JSON Lines")
    generate.add_argument("--count", type=int, required=True)
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--now", help="dates are relative to this (default: the fixtures' now)")
    generate.add_argument("--out", required=True, help="output .jsonl file")
    generate.set_defaults(func=cmd_fixtures_generate)

    init = sub.add_parser("init", help="start a content project of your own in a new folder",
                          description="Copy the demo brand's templates, blocks, locales, fixtures, assets and "
                                      "segment rules into FOLDER, with a README for designers and a test file.")
    init.add_argument("folder", help="a new or empty folder")
    init.set_defaults(func=cmd_init)

    templates = sub.add_parser("templates", help="list the templates")
    templates.set_defaults(func=cmd_templates)

    from renderer.devtools.schemas import SCHEMAS

    schema = sub.add_parser("schema", help="JSON Schemas of the inputs and batch records, "
                            "for services that validate before they call")
    schema.add_argument("name", nargs="?", choices=list(SCHEMAS), help="print this schema")
    schema.add_argument("--out", help="write every schema to DIR/NAME.schema.json")
    schema.set_defaults(func=cmd_schema)

    preview_commands.register(sub)
    register_screenshot(sub)
    for command in sub.choices.values():
        # --content after the command word too (`renderer preview --content DIR`); absent, the global one stands.
        command.add_argument("--content", metavar="DIR", default=argparse.SUPPRESS,
                             help="content project folder (as the global --content)")
    return parser


def _command_index(argv: list[str]) -> int | None:
    """Where the command word is: after the global options and their values."""
    index = 0
    while index < len(argv):
        word = argv[index]
        if word in _GLOBAL_VALUE_OPTIONS:
            index += 2
        elif word.startswith("-"):
            index += 1
        else:
            return index
    return None


def _route(argv: list[str]) -> list[str]:
    # `segments` takes a file name as its first word, so argparse cannot also
    # give it a `fit` subcommand; `segments fit` is rewritten here instead. A
    # profiles file really named "fit" can still be given as ./fit.
    index = _command_index(argv)
    if index is not None and argv[index:index + 2] == ["segments", "fit"]:
        return argv[:index] + ["segments-fit"] + argv[index + 2:]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_route(list(sys.argv[1:] if argv is None else argv)))
    try:
        return args.func(args)
    except RendererError as error:
        # The project's errors say what is wrong and where; each knows its exit code.
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:
        # A file that cannot be read or written (missing, no permission, disk full): plain, exit 2.
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE_OR_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    # Anything else is a bug in the renderer: its traceback is the report to file.


if __name__ == "__main__":
    sys.exit(main())
