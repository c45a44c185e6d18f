"""``renderer batch``: JSON Lines in, JSON Lines out, resumable, in worker processes or on Dask."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from renderer.base.errors import UsageError
from renderer.cli.args import (
    add_message_arguments,
    clock_from_args,
    engine_from_args,
    envelope_from_args,
    parse_now,
)
from renderer.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED

if TYPE_CHECKING:
    from renderer.batch.eml import EmlOutput
    from renderer.engine import Engine


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the job is, so that it stops as it does for Ctrl+C."""


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while the job runs.

    Left to its default, SIGTERM ended the process at once, with no chance to
    stop the pool. Raised instead, it unwinds like Ctrl+C: the chunks being
    rendered finish, the workers exit, the spool folder is removed and the
    output keeps every complete record (``OUT.partial``), for ``--resume``.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set a signal handler
        return

    def stop(signum: int, frame: object) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _eml_output(args: argparse.Namespace, engine: Engine, now: datetime | None) -> tuple[Path, EmlOutput]:
    """``--format eml``: the job's index in the ``--out`` folder, and where its messages go."""
    from renderer.batch.eml import INDEX, EmlOutput

    if args.engine == "dask" or args.out == "-":
        raise UsageError("--format eml writes a folder of files: it needs --out DIR and the local engine")
    sender, reply_to = envelope_from_args(args, engine)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / INDEX, EmlOutput(folder, sender, reply_to, now)


def cmd_batch(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from renderer.batch.job import JobSpec, run_batch
    from renderer.content.json_io import read_products

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
    now = parse_now(args.now)
    out = Path(args.out)
    eml = None
    if args.format == "eml":
        out, eml = _eml_output(args, engine, now)
    # The render clock; the messages' Date stays --now or the time each is written.
    clock = clock_from_args(args, args.profiles, args.recommendations)
    spec = JobSpec(template=args.template, now=clock, shared_recommendations=shared,
                   transactional=args.transactional, eml=eml)
    if args.engine == "dask":
        from renderer.cli.dask import run_dask_command

        return run_dask_command(args, engine, spec, per_line)
    if args.scheduler or args.partitions or args.shared_out:
        raise UsageError("--scheduler, --partitions and --shared-out need --engine dask")
    console = Console(stderr=True)
    # A pipe (--profiles /dev/stdin, a FIFO) can be read once only: no total, no ETA. Without a
    # terminal there is no progress bar, and the file is not read an extra time for its total.
    total = _count_lines(profiles) if profiles.is_file() and console.is_terminal else None
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
            with _terminate_as_interrupt():
                summary = run_batch(engine, spec, profiles, out, workers=args.workers or 1,
                                    recommendations_lines=per_line, resume=args.resume, restart=args.restart,
                                    chunk_size=args.chunk_size, on_line=advance)
        except KeyboardInterrupt as stop:
            how = "terminated" if isinstance(stop, Terminated) else "interrupted"
            print(f"{how}: partial output kept; run again with --resume to continue", file=sys.stderr)
            return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED
    resumed = f" (resumed after input line {summary.resumed_after_line})" if summary.resumed_after_line else ""
    print(f"rendered {summary.rendered:,}, skipped {summary.skipped:,}, failed {summary.failed:,} "
          f"in {summary.seconds:.2f} s ({summary.rate:,.0f} emails/s){resumed} -> {args.out}",
          file=sys.stderr if args.out == "-" else sys.stdout)
    return EXIT_FAILED if summary.failed else EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``renderer`` parser."""
    sub = subparsers
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
    batch.add_argument("--format", choices=["jsonl", "eml"], default="jsonl",
                       help="eml: --out is a folder of one .eml message per rendered recipient "
                       "and index.jsonl, the job's records (resumable)")
    add_message_arguments(batch)
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
    batch.add_argument("--now", help="render clock, ISO 8601 (default: now; the fixtures' clock, "
                       "2026-11-15T12:00:00Z, when --profiles or --recommendations is in the content's fixtures/)")
    batch.add_argument("--resume", action="store_true", help="continue an interrupted run")
    batch.add_argument("--restart", action="store_true", help="discard earlier output and start over")
    batch.add_argument("--transactional", "--ignore-consent", dest="transactional", action="store_true",
                       help="render recipients without marketing consent too (e.g. transactional mail)")
    batch.set_defaults(func=cmd_batch)
