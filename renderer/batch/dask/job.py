"""``renderer batch --engine dask``: partitions rendered on a Dask cluster into a folder of part files.

The input (a file, a folder of ``*.jsonl`` files or a glob) is split into
partitions by line ranges (``renderer/batch/dask/partitions.py``). Each partition
becomes one task; its output lines, exactly those the local engine writes
for the same lines, go to ``OUT/part-NNNNN.jsonl``, written atomically, and
its entry to ``OUT/manifest.json`` (``renderer/batch/dask/manifest.py``). Running the
same job again renders only the partitions that are missing, incomplete or
damaged; a different job (template, clock, content, inputs, partitions) in
the same folder is refused unless ``restart`` is given.

The client reads the input and writes the output; workers only render, so
they need the package and the content (same content hash), no shared disk.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from renderer.base.errors import BatchStateError, RendererError
from renderer.batch.dask.cluster import dask_client, map_unordered
from renderer.batch.dask.manifest import (
    MANIFEST_NAME,
    Manifest,
    PartEntry,
    remove_temporaries,
    write_atomically,
)
from renderer.batch.dask.partitions import (
    InputFile,
    Line,
    Partition,
    default_partitions,
    input_paths,
    plan,
    read_partitions,
    scan,
)
from renderer.batch.dask.worker import PartResult, WorkerJob, lost_lines, render_part
from renderer.batch.job import BatchSummary, JobSpec
from renderer.engine import Engine

MANIFEST_EVERY = 1.0  # seconds between manifest saves while partitions finish; and once at the end


@dataclass
class DaskBatchSummary(BatchSummary):
    """A partitioned run: the counts of the whole output, and what this run did."""

    partitions: int = 0
    partitions_kept: int = 0
    partitions_rendered: int = 0
    lost: int = 0
    cluster_seconds: float = 0.0


def _recommendations_digest(spec: JobSpec, per_line: Path | None) -> str | None:
    if per_line is not None:
        return "lines:" + scan(per_line).sha256
    if spec.shared_recommendations is None:
        return None
    text = json.dumps(spec.shared_recommendations, sort_keys=True, default=str)
    return "shared:" + hashlib.sha256(text.encode()).hexdigest()


def _job(spec: JobSpec, now: datetime, worker_job: WorkerJob, inputs: list[InputFile], partitions: int,
         recommendations: str | None) -> dict[str, Any]:
    return {
        "template": spec.template, "now": now.isoformat(), "transactional": spec.transactional,
        "recommendations": recommendations, "content_hash": worker_job.content_hash,
        "inputs": [{"file": str(f.path), "lines": f.lines, "records": f.records, "sha256": f.sha256}
                   for f in inputs],
        "partitions": partitions,
    }


def _start_over(out: Path) -> None:
    for part in out.glob("part-*.jsonl"):
        part.unlink()
    (out / MANIFEST_NAME).unlink(missing_ok=True)


def _entry(partition: Partition, result: PartResult) -> PartEntry:
    return PartEntry(partition=partition.index, part=partition.part_name, input=str(partition.input),
                     first_line=partition.first_line, last_line=partition.last_line,
                     rendered=result.rendered, skipped=result.skipped, failed=result.failed, lost=result.lost,
                     sha256=result.sha256)


def run_dask_batch(engine: Engine, spec: JobSpec, profiles: str | Path, out: Path, *,
                   scheduler: str | None = None, workers: int | None = None, partitions: int | None = None,
                   recommendations_lines: Path | None = None, restart: bool = False,
                   shared_out: bool | None = None,
                   on_partition: Callable[[PartEntry, DaskBatchSummary], None] | None = None) -> DaskBatchSummary:
    """Render every line of ``profiles`` on a Dask cluster into the folder ``out``; see the module docstring.

    Args:
        engine: the engine whose content (and recommendation source) the workers use.
        spec: template, clock and options; without a clock, the first run's (from the
            manifest) or the current time, so every partition of a job shares one.
        profiles: a JSON Lines file, a folder of ``*.jsonl`` files, or a glob.
        out: the output folder (created).
        scheduler: ``tcp://HOST:PORT`` of a Dask scheduler; ``None`` starts a LocalCluster.
        workers: the LocalCluster's worker processes (default: one per core).
        partitions: how many partitions (default: the manifest's, else one per 500 lines).
        recommendations_lines: a JSON Lines file of recommendations aligned with a single input file.
        restart: discard the folder's parts and manifest and render everything.
        shared_out: whether every worker sees ``out`` at the same path and writes its parts
            there itself; by default yes for the embedded cluster, no with a scheduler (the
            parts then travel back to this process, which writes them).
        on_partition: called after each partition's part and entry are written.

    Raises:
        BatchStateError: ``out`` holds another job (or an unreadable manifest) and ``restart`` is false.
        ContentMismatch: a worker's content or code differs from ``engine``'s.
        ClusterError: no cluster could be started or reached.
    """
    started = time.perf_counter()
    inputs = [scan(path.resolve()) for path in input_paths(profiles)]
    if recommendations_lines is not None and len(inputs) > 1:
        raise RendererError("per-line recommendations (.jsonl) need a single input file")
    if out.exists() and not out.is_dir():
        raise BatchStateError(f"{out} is a file; --engine dask writes a folder of part files")
    out.mkdir(parents=True, exist_ok=True)
    remove_temporaries(out)
    if restart:
        _start_over(out)
    manifest = Manifest.load(out)

    now = spec.now or (datetime.fromisoformat(manifest.job["now"]) if manifest else datetime.now(timezone.utc))
    spec = replace(spec, now=now)
    count = partitions or (manifest.partitions if manifest else default_partitions(sum(f.records for f in inputs)))
    layout = plan(inputs, count)
    worker_job = WorkerJob.for_engine(engine)
    job = _job(spec, now, worker_job, inputs, count, _recommendations_digest(spec, recommendations_lines))
    if manifest is not None and manifest.job != job:
        differs = sorted(key for key in job.keys() | manifest.job.keys() if job.get(key) != manifest.job.get(key))
        raise BatchStateError(f"{out} holds another job (its {', '.join(differs)} differ); "
                              "pass --restart to render it again")
    manifest = manifest or Manifest(job, len(layout))
    done = {p.index for p in layout if manifest.is_done(out, p)}
    manifest.parts = {index: entry for index, entry in manifest.parts.items() if index in done}

    summary = DaskBatchSummary(partitions=len(layout), partitions_kept=len(done))
    for entry in manifest.parts.values():
        summary.rendered += entry.rendered
        summary.skipped += entry.skipped
        summary.failed += entry.failed
    todo = [p for p in layout if p.index not in done]
    if todo:
        _render(out, manifest, summary, todo, worker_job, spec, recommendations_lines,
                scheduler=scheduler, workers=workers, shared_out=shared_out, on_partition=on_partition)
    manifest.save(out)
    summary.seconds = time.perf_counter() - started
    return summary


def _render(out: Path, manifest: Manifest, summary: DaskBatchSummary, todo: list[Partition],
            worker_job: WorkerJob, spec: JobSpec, recommendations_lines: Path | None, *,
            scheduler: str | None, workers: int | None, shared_out: bool | None,
            on_partition: Callable[[PartEntry, DaskBatchSummary], None] | None) -> None:
    def lost(partition: Partition, part: tuple[str, list[Line]], why: str) -> PartResult:
        return lost_lines(part[1], why)

    if shared_out is None:
        shared_out = scheduler is None
    # Workers that see the folder write their parts themselves: megabytes per partition stay off the socket.
    direct = str(out.resolve()) if shared_out else None
    connecting = time.perf_counter()
    with dask_client(scheduler=scheduler, workers=workers) as client:
        summary.cluster_seconds = time.perf_counter() - connecting
        saved = time.monotonic()
        tasks = ((p, (p.part_name, lines)) for p, lines in read_partitions(todo, recommendations_lines))
        for partition, result in map_unordered(client, render_part, tasks, args=(worker_job, spec, direct),
                                               on_lost=lost):
            if result.data or direct is None or result.lost:
                write_atomically(out / partition.part_name, result.data, durable=False)
            entry = manifest.parts[partition.index] = _entry(partition, result)
            summary.partitions_rendered += 1
            summary.rendered += result.rendered
            summary.skipped += result.skipped
            summary.failed += result.failed
            summary.lost += result.lost
            if time.monotonic() - saved >= MANIFEST_EVERY:
                manifest.save(out)
                saved = time.monotonic()
            if on_partition:
                on_partition(entry, summary)
