"""What runs inside a Dask worker process: one engine per content version, checked first.

A worker keeps its engines between tasks and between jobs, keyed by the
job's :class:`WorkerJob` key (the engine config and the content hash), so each
process compiles a template once. Before a worker renders anything for a
job it checks that the content on its disk, and the renderer code it runs,
hash to what the job was planned with; when either differs it raises
:class:`~renderer.base.errors.ContentMismatch` instead of rendering a mix.

Nothing here imports ``distributed``: these are plain functions that the
client side (``renderer/batch/dask/cluster.py``) submits, and tests can call directly.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import socket
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from renderer.base.errors import ContentMismatch, RendererError
from renderer.base.jsonl import dumps_line
from renderer.base.versions import code_fingerprint
from renderer.batch.dask.manifest import write_atomically
from renderer.batch.job import JobSpec, render_record
from renderer.batch.local import Result, render_one, worker_engine_config
from renderer.engine import Engine

_MAX_ENGINES = 4  # content versions a long-lived worker keeps; older ones are dropped


@dataclass(frozen=True)
class WorkerJob:
    """What a worker needs to find or build its engine for a job.

    ``config`` is the pickled :meth:`Engine.config`, unpickled only when the
    worker has no engine for ``key`` yet, so a recommendation source is
    created once per worker process, not once per task.
    """

    config: bytes
    key: str
    content_hash: str
    code_hash: str

    @classmethod
    def for_engine(cls, engine: Engine) -> WorkerJob:
        """The job description for workers that must render exactly what ``engine`` renders."""
        config = pickle.dumps(engine.config())
        content = engine.content_hash()
        key = hashlib.sha256(config + content.encode()).hexdigest()
        return cls(config=config, key=key, content_hash=content, code_hash=code_fingerprint())


@dataclass
class _Held:
    engine: Engine
    warmed: set[str]


_engines: OrderedDict[str, _Held] = OrderedDict()
_lock = threading.Lock()


def worker_name() -> str:
    """This worker's Dask address, or host and process id outside Dask."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"{socket.gethostname()} pid {os.getpid()}"


def _verify(engine: Engine, job: WorkerJob) -> None:
    found = engine.content_hash()
    if found != job.content_hash:
        raise ContentMismatch("content", job.content_hash, found, worker_name())


def worker_engine(job: WorkerJob, templates: set[str]) -> Engine:
    """This process's engine for ``job``, with ``templates`` compiled and the content checked.

    The engine does not reload files (``auto_reload=False``): what it compiled
    after a successful check is what it renders for the rest of its life.
    The content is hashed again after each new compile, so an edit made while
    the worker compiled is refused rather than mixed in.

    Raises:
        ContentMismatch: this worker's content or code differs from the job's.
    """
    if code_fingerprint() != job.code_hash:
        raise ContentMismatch("code", job.code_hash, code_fingerprint(), worker_name())
    with _lock:
        held = _engines.get(job.key)
        if held is None:
            config = dict(worker_engine_config(pickle.loads(job.config)), auto_reload=False)
            engine = Engine(**config)
            engine.rules()
            engine.bestsellers()
            _verify(engine, job)
            held = _engines[job.key] = _Held(engine, set())
            while len(_engines) > _MAX_ENGINES:
                _engines.popitem(last=False)
        _engines.move_to_end(job.key)
        new = templates - held.warmed
        if new:
            for name in sorted(new):
                try:
                    held.engine.compiled(name)
                except RendererError:
                    pass  # an unknown or broken template fails each of its requests, as in-process
            try:
                _verify(held.engine, job)
            except ContentMismatch:
                del _engines[job.key]
                raise
            held.warmed |= new
        return held.engine


@dataclass(frozen=True)
class PartResult:
    """One partition rendered: its output lines as bytes (empty when the worker wrote them), checksum, counts.

    ``lost`` counts the ``failed`` lines that were never rendered because the
    task kept killing its workers; a later run renders them again.
    """

    data: bytes
    sha256: str
    rendered: int
    skipped: int
    failed: int
    lost: int = 0
    worker: str = ""


def render_part(job: WorkerJob, spec: JobSpec, out: str | None,
                part: tuple[str, list[tuple[int, str, str | None]]]) -> PartResult:
    """Render one partition's input lines into its part file (one output line each).

    ``part`` is the part file's name and the input lines. With ``out`` (a
    folder this worker sees at the same path as the client) the worker
    writes the part itself, atomically, and returns no data; otherwise the
    bytes travel back to the client, which writes them.

    Raises:
        ContentMismatch: this worker holds other content or code than the job's.
    """
    name, lines = part
    engine = worker_engine(job, {spec.template})
    counts = {"rendered": 0, "skipped": 0, "failed": 0}
    outputs = []
    for number, text, recs in lines:
        record = render_record(engine, spec, number, text, recs)
        counts[record["status"]] += 1
        outputs.append(dumps_line(record))
    data = b"".join(outputs)
    checksum = hashlib.sha256(data).hexdigest()
    if out is not None:
        write_atomically(Path(out) / name, data, durable=False)
        data = b""
    return PartResult(data, checksum, worker=worker_name(), **counts)


def lost_lines(lines: list[tuple[int, str, str | None]], why: str) -> PartResult:
    """A partition whose task killed its workers again and again: one ``failed`` line per input line."""
    outputs = [dumps_line({"line": n, "id": None, "status": "failed", "kind": "WorkerDied", "error": why,
                           "problems": []}) for n, _, _ in lines]
    data = b"".join(outputs)
    return PartResult(data, hashlib.sha256(data).hexdigest(), 0, 0, len(outputs), lost=len(outputs))


def _template_of(request: Any) -> str | None:
    name = request.get("template") if isinstance(request, dict) else getattr(request, "template", None)
    return name if isinstance(name, str) else None


def render_requests(job: WorkerJob, transactional: bool, chunk: list[tuple[int, Any]]) -> list[Result]:
    """Render a chunk of ``render_many`` requests; one result each, as ``render_one`` gives.

    Raises:
        ContentMismatch: this worker holds other content or code than the job's.
    """
    templates = {name for _, request in chunk if (name := _template_of(request))}
    engine = worker_engine(job, templates)
    return [render_one(engine, index, request, transactional=transactional) for index, request in chunk]
