"""``POST /v1/render/{template}/batch``: NDJSON in, NDJSON out, one record per line, in order.

The request body is read as fast as the client sends it into a
:class:`Spool` (a temporary file: memory up to 4 MiB, then disk) while a
thread reads lines from the spool with the batch job's line reader
(``base/jsonl.split_lines``: 1 MiB per line, a bad line one verdict) and
turns each into the batch job's record (``batch/job.render_record``), sent
as soon as it is made. Why a spool and not a pipe: most HTTP clients
(Node's fetch, httpx, requests) send the whole body before they read the
answer; a server that stopped reading while its answer waited to be read
would wait for them forever. Memory stays bounded either way: one line in,
one record out, at most a few chunks of body in memory; the rest waits on
disk, capped by ``max_batch_bytes``.

A blank line is skipped, as by ``renderer batch``; every other line gets
exactly one record whose ``line`` is its line number, so a caller matches
answers to requests by counting.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from datetime import datetime
from typing import Any, Iterator

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from renderer.base.jsonl import dumps_line, split_lines
from renderer.batch.job import JobSpec, render_record
from renderer.engine import Engine
from renderer.service import metrics

MEMORY_BYTES = 4 << 20
RECORDS_PER_SEND = 64
"""Records gathered into one write while more are ready at once (fewer thread hops per line)."""


class BodyTooLarge(Exception):
    pass


class Spool:
    """Bytes written by one thread, read line by line by another, with blocking reads.

    ``readline`` has ``io.BufferedReader``'s contract, so ``split_lines``
    reads a spool as it reads a file.
    """

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=MEMORY_BYTES)
        self._written = 0
        self._read = 0
        self._lines_written = 0
        self._lines_read = 0
        self._ended = False
        self._failed: str | None = None
        self._changed = threading.Condition()

    @property
    def size(self) -> int:
        return self._written

    def write(self, data: bytes) -> None:
        with self._changed:
            self._file.seek(self._written)
            self._file.write(data)
            self._written += len(data)
            self._lines_written += data.count(b"\n")
            self._changed.notify_all()

    def end(self, failed: str | None = None) -> None:
        with self._changed:
            self._ended, self._failed = True, failed
            self._changed.notify_all()

    @property
    def failed(self) -> str | None:
        return self._failed

    def readline(self, limit: int = -1) -> bytes:
        with self._changed:
            while True:
                available = self._written - self._read
                want = available if limit < 0 else min(limit, available)
                self._file.seek(self._read)
                line = self._file.readline(want) if want else b""
                complete = line.endswith(b"\n")
                if complete or (limit >= 0 and len(line) >= limit) or (self._ended and self._failed is None):
                    self._read += len(line)
                    self._lines_read += complete
                    return line
                if self._ended:
                    return b""  # the body broke off: a torn last line is not a line
                self._changed.wait()

    def has_line_ready(self) -> bool:
        """Whether :meth:`readline` would answer without waiting for more of the body."""
        return self._ended or self._lines_written > self._lines_read

    def close(self) -> None:
        self._file.close()


class BatchResponse(Response):
    """The streamed answer of a batch: spools the request body while it sends the records."""

    media_type = "application/x-ndjson"

    def __init__(self, engine: Engine, template: str, now: datetime | None, *, max_bytes: int,
                 source: Any) -> None:
        self.engine, self.spec = engine, JobSpec(template=template, now=now)
        self.max_bytes = max_bytes
        self.source = source
        self.status_code = 200
        self.background = None
        self.init_headers({"Cache-Control": "no-store"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        spool = Spool()
        pump = asyncio.ensure_future(self._pump(receive, spool))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            records = self._records(spool)
            while True:
                chunk = await anyio.to_thread.run_sync(_take, records, spool)
                if not chunk:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if spool.failed is not None:
                tail = {"line": None, "id": None, "status": "failed", "kind": "BatchAborted",
                        "error": spool.failed, "problems": []}
                await send({"type": "http.response.body", "body": dumps_line(tail), "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            pump.cancel()
            spool.end("the answer was abandoned")
            spool.close()

    async def _pump(self, receive: Receive, spool: Spool) -> None:
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    spool.end("the client disconnected before the body ended")
                    return
                body = message.get("body", b"")
                if spool.size + len(body) > self.max_bytes:
                    spool.write(body[:self.max_bytes - spool.size])  # the complete lines within the limit count
                    metrics.FAILURES.labels("batch", "body_too_large").inc()
                    spool.end(f"the batch body is over the limit of {self.max_bytes:,} bytes; "
                              "the lines after the last record were not read")
                    return
                if body:
                    spool.write(body)
                if not message.get("more_body", False):
                    spool.end()
                    return
        except asyncio.CancelledError:
            spool.end("the answer was abandoned")
            raise

    def _records(self, spool: Spool) -> Iterator[bytes]:
        engine, spec, source = self.engine, self.spec, self.source
        for number, line in enumerate(split_lines(spool), start=1):  # type: ignore[arg-type]
            if isinstance(line, str) and not line.strip():
                continue
            started = time.perf_counter()
            record = render_record(engine, spec, number, line, None)
            _count(record, spec.template, source)
            metrics.LATENCY.labels("batch").observe(time.perf_counter() - started)
            yield dumps_line(record)


def _take(records: Iterator[bytes], spool: Spool) -> bytes:
    """The next record, and those after it that are ready without waiting for more body."""
    chunk = next(records, b"")
    parts = [chunk] if chunk else []
    while chunk and len(parts) < RECORDS_PER_SEND and spool.has_line_ready():
        chunk = next(records, b"")
        if chunk:
            parts.append(chunk)
    return b"".join(parts)


def _count(record: dict[str, Any], template: str, source: Any) -> None:
    status = record["status"]
    if status == "rendered":
        metrics.RENDERS.labels("batch", template).inc()
        metrics.observe_source(source, record.get("warnings"))
    elif status == "skipped":
        metrics.SKIPS.labels("batch", record["code"]).inc()
        metrics.observe_source(source, code=record["code"])
    else:
        kind = record.get("kind") or "failed"
        metrics.FAILURES.labels("batch", "invalid_input" if kind == "InvalidInput" else kind).inc()
