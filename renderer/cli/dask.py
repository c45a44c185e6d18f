"""The CLI side of ``renderer batch --engine dask``: progress by partition and the summary line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from renderer.base.errors import UsageError
from renderer.batch.job import JobSpec
from renderer.cli.exits import EXIT_FAILED, EXIT_OK
from renderer.engine import Engine


def run_dask_command(args: argparse.Namespace, engine: Engine, spec: JobSpec, per_line: Path | None) -> int:
    """Run the partitioned job the parsed ``args`` describe; exit 1 when any recipient failed.

    Raises:
        ValueError: ``--out -`` (the dask engine writes a folder) or a bad ``--partitions``.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from renderer.batch.dask.job import DaskBatchSummary, run_dask_batch
    from renderer.batch.dask.manifest import PartEntry

    if args.out == "-":
        raise UsageError("--engine dask writes a folder of part files and a manifest; give --out FOLDER")
    if args.partitions is not None and args.partitions < 1:
        raise UsageError("--partitions must be at least 1")
    console = Console(stderr=True)
    progress = Progress(TextColumn("rendering partitions"), BarColumn(), MofNCompleteColumn(),
                        console=console, disable=not console.is_terminal, transient=True)
    with progress:
        task = progress.add_task("partitions", total=None)

        def advance(entry: PartEntry, summary: DaskBatchSummary) -> None:
            progress.update(task, total=summary.partitions,
                            completed=summary.partitions_kept + summary.partitions_rendered)

        try:
            summary = run_dask_batch(engine, spec, args.profiles, Path(args.out), scheduler=args.scheduler,
                                     workers=args.workers, partitions=args.partitions,
                                     recommendations_lines=per_line, restart=args.restart,
                                     shared_out=True if args.shared_out else None, on_partition=advance)
        except KeyboardInterrupt:
            print("interrupted: finished partitions are kept; run the same command again to render the rest",
                  file=sys.stderr)
            return 130
    lost = f", {summary.lost:,} lost with their workers (run again)" if summary.lost else ""
    print(f"rendered {summary.rendered:,}, skipped {summary.skipped:,}, failed {summary.failed:,}{lost} "
          f"in {summary.seconds:.2f} s ({summary.partitions_rendered} of {summary.partitions} partitions "
          f"rendered now, {summary.partitions_kept} kept; cluster ready in {summary.cluster_seconds:.1f} s) "
          f"-> {args.out}/")
    return EXIT_FAILED if summary.failed else EXIT_OK
