"""The ``renderer batch`` job: JSON Lines in, JSON Lines out, resumable.

Each non-blank input line yields exactly one output line, in input order:
``{"line": N, "id": ..., "status": "rendered" | "skipped" | "failed", ...}``.
Output goes to ``OUT.partial`` and is renamed to ``OUT`` when the run is
complete. A run that was interrupted leaves the ``.partial`` file; ``resume``
keeps its complete lines and continues after the last input line it covers,
so no recipient is rendered or written twice, and none is lost.

Worker processes receive raw lines and write finished output lines to spool
files (in ``/dev/shm`` where there is one); the parent appends each to the
output in input order (``os.sendfile``: the kernel copies the bytes), so it
does little more than read the input.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

from renderer.base.errors import BatchStateError, RendererError
from renderer.base.jsonl import LineError, LineStarts, dumps_line, json_kind, loads_line, split_lines, stripped
from renderer.batch.eml import EmlOutput
from renderer.batch.local import (
    Failed,
    RenderedEmail,
    Skipped,
    chunked,
    in_flight,
    init_worker,
    ordered_pool_map,
    render_one,
    worker_engine,
)
from renderer.batch.spool import SlotWriter, SpoolChunk, Spooled, append_spooled, spool_folder, spooled
from renderer.engine import Engine

PARTIAL_SUFFIX = ".partial"


@dataclass
class BatchSummary:
    rendered: int = 0
    skipped: int = 0
    failed: int = 0
    resumed_after_line: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.rendered + self.skipped + self.failed

    @property
    def rate(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class JobSpec:
    """What every worker needs to turn an input line into an output line."""

    template: str
    now: datetime | None
    shared_recommendations: Any = None
    transactional: bool = False
    eml: EmlOutput | None = None
    """Write each rendered email as a ``.eml`` file and only name it in its record (``batch/eml.py``)."""


def _record(line: int, result: RenderedEmail | Skipped | Failed) -> dict[str, Any]:
    if isinstance(result, RenderedEmail):
        record = {"line": line, "id": result.profile_id, "status": "rendered", **result.to_dict()}
        del record["template"], record["profile_id"]  # the job names the template; the id is above
        return record
    if isinstance(result, Skipped):
        return {"line": line, "id": result.id, "status": "skipped", "code": result.code, "message": result.message}
    return {"line": line, "id": result.id, "status": "failed", "error": result.error, "kind": result.kind,
            "problems": result.problems}


def _unreadable(line_number: int, error: LineError, what: str = "line") -> dict[str, Any]:
    return {"line": line_number, "id": None, "status": "failed", "kind": "InvalidInput",
            "error": f"{what} {line_number}: {error}", "problems": [error.details()]}


def render_record(engine: Engine, spec: JobSpec, line_number: int, text: str | LineError,
                  recommendations_text: str | LineError | None) -> dict[str, Any]:
    """Turn one input line (a profile, or a request object) into one output record.

    ``text`` is the line, or the :class:`LineError` that kept it from being read.
    """
    try:
        if isinstance(text, LineError):
            raise text
        data = loads_line(text)
        if not isinstance(data, dict):
            raise LineError("dict_type", f"not a JSON object but {json_kind(data)}")
    except LineError as error:
        return _unreadable(line_number, error)
    request: dict[str, Any] = {"template": spec.template, "now": spec.now}
    if isinstance(data, dict) and "profile" in data:
        request.update(profile=data.get("profile"), recommendations=data.get("recommendations"),
                       event=data.get("event"), id=data.get("id"), force_variants=data.get("force_variants"))
    else:
        request["profile"] = data
    if request.get("recommendations") is None:
        request["recommendations"] = spec.shared_recommendations
    if recommendations_text is not None:
        try:
            if isinstance(recommendations_text, LineError):
                raise recommendations_text
            recs = loads_line(recommendations_text)
        except LineError as error:
            return _unreadable(line_number, error, "recommendations line")
        request["recommendations"] = recs.get("products") if isinstance(recs, dict) else recs
    result = render_one(engine, line_number, request, transactional=spec.transactional)
    if spec.eml is not None and isinstance(result, RenderedEmail):
        return spec.eml.record(line_number, result, request["profile"])
    return _record(line_number, result)


def render_line(engine: Engine, spec: JobSpec, line_number: int, text: str,
                recommendations_text: str | None) -> bytes:
    """Turn one input line (a profile, or a request object) into one output line, newline included."""
    return dumps_line(render_record(engine, spec, line_number, text, recommendations_text))


_STATUSES = ("rendered", "skipped", "failed")


def _render_lines(chunk: SpoolChunk, spec: JobSpec) -> list[Spooled]:
    # Each record goes into the chunk's spool slot as soon as it is made (see
    # renderer/batch/spool.py); the parent appends the slot to the output.
    engine = worker_engine()
    counts = dict.fromkeys(_STATUSES, 0)
    with SlotWriter(chunk.slot) as slot:
        for number, text, recs in _chunk_lines(chunk.items):
            record = render_record(engine, spec, number, text, recs)
            counts[record["status"]] += 1
            slot.write(dumps_line(record))
    return [slot.result((counts["rendered"], counts["skipped"], counts["failed"]))]


def _lost(chunk: SpoolChunk, why: str) -> list[Spooled]:
    items = _chunk_lines(chunk.items)
    data = b"".join(dumps_line({"line": n, "id": None, "status": "failed", "kind": "WorkerDied", "error": why,
                              "problems": []}) for n, _, _ in items)
    return [Spooled(None, 0, data, (0, 0, len(items)))]


def last_complete_line(partial: Path) -> tuple[int, int]:
    """(input line number of the last complete record, byte offset just after it)."""
    size = partial.stat().st_size
    with partial.open("rb") as handle:
        tail = b""
        position = size
        while position > 0:
            step = min(1 << 20, position)
            position -= step
            handle.seek(position)
            tail = handle.read(step) + tail
            lines = tail.split(b"\n")
            # The piece after the last newline is an unfinished record; before it, the last full one.
            for index in range(len(lines) - 2, -1, -1):
                candidate = lines[index]
                if index == 0 and position > 0:
                    break  # may be cut off at the front: read further back
                try:
                    record = json.loads(candidate)
                except ValueError:
                    continue
                end = position + sum(len(piece) + 1 for piece in lines[: index + 1])
                return int(record["line"]), end
    return 0, 0


def numbered_lines(path: Path, start_after: int,
                   recommendations: Path | None) -> Iterator[tuple[int, str | LineError, str | LineError | None]]:
    """(number, line, recommendations line) for every non-blank line after ``start_after``.

    Both files are read as bytes and split on ``\\n`` only (renderer.base.jsonl):
    an unreadable line is passed on as its LineError, to become that line's
    failed record. A missing or blank recommendations line reads as ``null``.
    """
    recs_handle = recommendations.open("rb") if recommendations else None
    try:
        with path.open("rb") as handle:
            yield from _numbered(split_lines(handle), split_lines(recs_handle) if recs_handle else None, 1,
                                 start_after)
    finally:
        if recs_handle:
            recs_handle.close()


def _numbered(lines: Iterator[str | LineError], recs_lines: Iterator[str | LineError] | None, first: int,
              start_after: int = 0) -> Iterator[tuple[int, str | LineError, str | LineError | None]]:
    for number, line in enumerate(lines, start=first):
        recs_line = next(recs_lines, "") if recs_lines is not None else None
        if number <= start_after or (isinstance(line, str) and not line.strip()):
            continue
        if recs_line is not None:
            recs_line = stripped(recs_line) or "null"
        yield number, stripped(line), recs_line


@dataclass(frozen=True)
class LineRange:
    """``count`` lines of the profiles file from byte ``start``, the first of them line ``first``, and the
    same lines of the recommendations file from byte ``recs_start``: a chunk as a worker reads it itself."""

    path: str
    start: int
    first: int
    count: int
    recs_path: str | None = None
    recs_start: int = 0

    def lines(self) -> list[tuple[int, str | LineError, str | LineError | None]]:
        """The chunk's lines as :func:`numbered_lines` gives them."""
        with open(self.path, "rb") as handle:
            handle.seek(self.start)
            lines = itertools.islice(split_lines(handle, from_start=self.start == 0), self.count)
            if self.recs_path is None:
                return list(_numbered(lines, None, self.first))
            with open(self.recs_path, "rb") as recs:
                recs.seek(self.recs_start)
                return list(_numbered(lines, split_lines(recs, from_start=self.recs_start == 0), self.first))


def line_ranges(path: Path, start_after: int, recommendations: Path | None, size: int) -> Iterator[LineRange]:
    """The lines after ``start_after`` as ranges of ``size`` lines, for workers to read themselves.

    The parent only counts newlines (``LineStarts``): reading, decoding and
    handing over each line's text cost it about 8 us a line, about as much as
    a worker's render of the line costs the worker, and its share of the
    machine was taken from the workers.
    """
    with path.open("rb") as handle, (recommendations.open("rb") if recommendations else _no_file()) as recs:
        starts, recs_starts = LineStarts(handle), LineStarts(recs) if recs else None
        offset = starts.advance(start_after)
        recs_offset = recs_starts.advance(start_after) if recs_starts else 0
        first = start_after + 1
        while not starts.at_end:
            yield LineRange(str(path), offset, first, size, str(recommendations) if recommendations else None,
                            recs_offset)
            offset, first = starts.advance(size), first + size
            recs_offset = recs_starts.advance(size) if recs_starts else 0


@contextlib.contextmanager
def _no_file() -> Iterator[None]:
    yield None


def _chunk_lines(items: Any) -> Any:
    return items.lines() if isinstance(items, LineRange) else items


def run_batch(engine: Engine, spec: JobSpec, profiles: Path, out: Path, *, workers: int = 1,
              recommendations_lines: Path | None = None, resume: bool = False, restart: bool = False,
              chunk_size: int = 100, on_line: Callable[[int], None] | None = None) -> BatchSummary:
    """Render every line of ``profiles`` into ``out``; see the module docstring.

    Raises:
        BatchStateError: ``out`` or ``out.partial`` exists and neither ``resume`` nor ``restart`` was given.
    """
    import time

    summary = BatchSummary()
    if str(out) == "-":
        started = time.perf_counter()
        _write_results(engine, spec, profiles, 0, recommendations_lines, workers, chunk_size,
                       sys.stdout.buffer, summary, on_line)
        sys.stdout.buffer.flush()
        summary.seconds = time.perf_counter() - started
        return summary
    partial = out.with_name(out.name + PARTIAL_SUFFIX)
    if out.exists() and not restart:
        raise BatchStateError(f"{out} already exists; pass --restart to render it again")
    if partial.exists() and not (resume or restart):
        raise BatchStateError(f"{partial} holds an interrupted run; pass --resume to continue it "
                              "or --restart to start over")
    start_after, offset = (0, 0)
    if resume and partial.exists():
        start_after, offset = last_complete_line(partial)
        summary.resumed_after_line = start_after
    started = time.perf_counter()
    mode = "r+b" if resume and partial.exists() else "wb"
    with partial.open(mode) as handle:
        handle.seek(offset)
        handle.truncate()
        _write_results(engine, spec, profiles, start_after, recommendations_lines, workers, chunk_size,
                       handle, summary, on_line)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, out)
    summary.seconds = time.perf_counter() - started
    return summary


def _compile_every_language(engine: Engine, template: str) -> None:
    """Compile the template in every language before the workers are forked, so that they inherit it.

    A worker compiling a language when its first recipient in it comes (tens
    of milliseconds each) held its chunk while the other worker, its window
    of chunks full, waited for it: on 10,000 recipients in seven languages
    that lost about a fifth of the second worker. A language that fails to
    compile is left to fail for its recipients, one failed record each, as
    before.
    """
    for language in sorted(engine.languages()):
        try:
            engine.compiled(template, language)
        except RendererError:
            continue


def _write_results(engine: Engine, spec: JobSpec, profiles: Path, start_after: int,
                   recommendations_lines: Path | None, workers: int, chunk_size: int, handle: BinaryIO,
                   summary: BatchSummary, on_line: Callable[[int], None] | None) -> None:
    lines = numbered_lines(profiles, start_after, recommendations_lines)
    if workers <= 1:
        for number, text, recs in lines:
            record = render_record(engine, spec, number, text, recs)
            handle.write(dumps_line(record))
            status = record["status"]
            setattr(summary, status, getattr(summary, status) + 1)
            if on_line:
                on_line(summary.total)
        return
    _compile_every_language(engine, spec.template)
    if profiles.is_file() and (recommendations_lines is None or recommendations_lines.is_file()):
        pieces: Iterator[Any] = line_ranges(profiles, start_after, recommendations_lines, chunk_size)
    else:  # a pipe is read once, here: its lines travel to the workers
        pieces = chunked(lines, chunk_size)
    with spool_folder() as folder:
        chunks = spooled(pieces, folder, in_flight(workers))
        outputs = ordered_pool_map(_render_lines, chunks, workers=workers, initializer=init_worker,
                                   initargs=(engine,), on_lost=_lost, args=(spec,))
        for output in outputs:
            append_spooled(handle, output)
            for status, count in zip(_STATUSES, output.counts):
                setattr(summary, status, getattr(summary, status) + count)
            if on_line:
                on_line(summary.total)
