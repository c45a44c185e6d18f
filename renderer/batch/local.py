"""Render many recipients: in order, nothing lost, optionally in worker processes.

:func:`render_many` yields exactly one result per request, in request order:
a :class:`~renderer.base.models.RenderedEmail`, a :class:`Skipped` or a
:class:`Failed`. A bad request becomes a ``Failed`` record; it never stops
the rest. With ``workers >= 2`` the requests are rendered in chunks by worker
processes, each of which compiles every template it needs once.
"""

from __future__ import annotations

import gc
import itertools
import marshal
import multiprocessing
import pickle
import signal
import struct
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar, Union

from renderer.base.errors import InvalidInput, RenderAborted, RendererError, RequiredTokenEmpty
from renderer.base.models import RenderedEmail, email_from_plain
from renderer.batch.lifeline import Lifeline, bind, lifeline
from renderer.batch.spool import SlotWriter, SpoolChunk, Spooled, read_spooled, spool_folder, spooled
from renderer.engine import Engine

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class RenderRequest:
    """One recipient to render; ``id`` defaults to the profile's id."""

    template: str
    profile: Any
    recommendations: Any = None
    event: Any = None
    now: datetime | None = None
    id: str | None = None
    force_variants: dict[str, str] | None = None
    """Experiment -> variant to render this recipient in (QA); see ``Engine.render``."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A recipient deliberately not emailed: why, as a code and in words (as a trigger's ``Skip``)."""

    id: str
    index: int
    code: str
    message: str
    status: str = "skipped"


@dataclass(frozen=True, slots=True)
class Failed:
    """A recipient whose email could not be rendered, and why."""

    id: str
    index: int
    error: str
    kind: str
    problems: list[dict[str, Any]] = field(default_factory=list)
    """For invalid input, every problem as ``InvalidInput.errors()`` gives it (type, loc, msg, input)."""
    status: str = "failed"


Result = Union[RenderedEmail, Skipped, Failed]


def request_id(request: RenderRequest | dict[str, Any], index: int) -> str:
    """The id a result reports: the request's, else the profile's, else ``#index``."""
    data = request if isinstance(request, dict) else request.__dict__
    if data.get("id"):
        return str(data["id"])
    profile = data.get("profile")
    found = profile.get("id") if isinstance(profile, dict) else getattr(profile, "id", None)
    return str(found) if found else f"#{index}"


def render_one(engine: Engine, index: int, request: RenderRequest | dict[str, Any], *,
               transactional: bool = False) -> Result:
    """Render one request; every failure becomes a :class:`Failed` record."""
    rid = request_id(request, index)
    try:
        req = request if isinstance(request, RenderRequest) else RenderRequest(**request)
    except TypeError as error:
        return Failed(rid, index, f"not a render request: {error}", "InvalidInput")
    try:
        return engine.render(req.template, profile=req.profile, recommendations=req.recommendations,
                             event=req.event, now=req.now, transactional=transactional,
                             force_variants=req.force_variants)
    except InvalidInput as error:
        return Failed(rid, index, str(error), type(error).__name__, error.errors())
    except RequiredTokenEmpty as error:
        if error.on_missing == "abort":  # data the caller must always send: a failure, not a skip
            return Failed(rid, index, str(error), type(error).__name__)
        return Skipped(rid, index, error.code, error.message)
    except RenderAborted as error:
        return Skipped(rid, index, error.code, error.message)
    except RendererError as error:
        return Failed(rid, index, str(error), type(error).__name__)
    except Exception as error:  # a bug must cost one recipient, not the batch
        return Failed(rid, index, f"internal error: {type(error).__name__}: {error}", "InternalError")


# --- worker processes ------------------------------------------------------------------------

_worker_engine: Engine | None = None
_worker_requests: Sequence[Any] | None = None


def own_source(source: Any) -> Any:
    """A worker process's own copy of a recommendation source (``None`` stays ``None``).

    A forked worker would otherwise share the parent's HTTP connections; a
    pickled copy of a source starts with a fresh session, cache and breaker.
    """
    return None if source is None else pickle.loads(pickle.dumps(source))


def worker_engine_config(config: dict[str, Any]) -> dict[str, Any]:
    """An Engine config for a new worker process: its own copy of the recommendation source."""
    return dict(config, recommendations=own_source(config.get("recommendations")))


def init_worker(engine: Engine, requests: Sequence[Any] | None = None) -> None:
    """Pool initializer: this worker process's own Engine, from the parent's.

    Workers are forked, so ``engine`` arrives as the parent's object, with the
    templates it already compiled: a worker renders from its first chunk
    instead of compiling them again. What must not be shared is replaced:
    the recommendation source (see :func:`own_source`) and the lock.
    ``requests``, a list the parent holds, is read from the same inherited
    memory, so chunks of it travel as index ranges instead of pickles.
    """
    global _worker_engine, _worker_requests
    _worker_requests = requests
    # Ctrl+C goes to the whole process group: let the parent decide how to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_engine = engine.for_worker(own_source(engine.recommendations))
    # What the worker inherited and just built lives as long as it does: out of
    # the collector's sight, a collection neither walks nor touches (and so
    # copies) those pages shared with the parent.
    gc.freeze()


def worker_engine() -> Engine:
    """The Engine of this worker process (see :func:`init_worker`)."""
    if _worker_engine is None:
        raise RuntimeError("init_worker did not run in this process")
    return _worker_engine


def _render_chunk(chunk: SpoolChunk, transactional: bool) -> list[Spooled]:
    # Each result goes into the chunk's spool slot as soon as it is made
    # (renderer/batch/spool.py), in the compact form of _wire: sending 100 pickled
    # emails back through the pool's pipe made two workers slower than one.
    engine = worker_engine()
    items = chunk.items
    if isinstance(items, range):  # indexes into the list the parent shared at fork
        if _worker_requests is None:
            raise RuntimeError("a chunk of a shared request list reached a worker without one")
        items = [(index, _worker_requests[index]) for index in items]
    with SlotWriter(chunk.slot) as slot:
        for index, request in items:
            slot.write(_wire(render_one(engine, index, request, transactional=transactional)))
    return [slot.result((len(items),))]


_LENGTH = struct.Struct("<I")


def _wire(result: Result) -> bytes:
    """A result as its length and marshal bytes: plain values only, several times faster
    than pickling the objects."""
    if isinstance(result, RenderedEmail):
        fields: tuple[Any, ...] = (0, *result.plain())
    elif isinstance(result, Skipped):
        fields = (1, result.id, result.index, result.code, result.message)
    else:
        fields = (2, result.id, result.index, result.error, result.kind, result.problems)
    try:
        payload = marshal.dumps(fields)
    except ValueError:  # a value marshal cannot carry (a str subclass, say): pickle that one
        payload = marshal.dumps((3, pickle.dumps(result, pickle.HIGHEST_PROTOCOL)))
    return _LENGTH.pack(len(payload)) + payload


def _unwire(fields: tuple[Any, ...]) -> Result:
    kind = fields[0]
    if kind == 0:
        return email_from_plain(*fields[1:])
    if kind == 1:
        return Skipped(*fields[1:])
    if kind == 3:
        return pickle.loads(fields[1])  # written by this job's own workers (see _unspooled)
    return Failed(*fields[1:])


def _unspooled(output: Spooled) -> Iterator[Result]:
    # The slot is in this job's private folder and was written by its own workers.
    data = memoryview(read_spooled(output))
    offset = 0
    for _ in range(output.counts[0]):
        (size,) = _LENGTH.unpack_from(data, offset)
        offset += _LENGTH.size
        yield _unwire(marshal.loads(data[offset:offset + size]))
        offset += size


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def in_flight(workers: int) -> int:
    """How many chunks :func:`ordered_pool_map` keeps submitted at once: two per worker."""
    return 2 * workers


def ordered_pool_map(function: Callable[..., list[R]], chunks: Iterable[list[Any]], *, workers: int,
                     initializer: Callable[..., None], initargs: tuple[Any, ...],
                     on_lost: Callable[[list[Any], str], list[R]], args: tuple[Any, ...] = ()) -> Iterator[R]:
    """Map ``function`` over chunks in worker processes, in order, with bounded memory.

    At most :func:`in_flight` chunks are in flight, and a chunk is submitted only
    after the results of every chunk that many places before it were consumed.
    When a worker process dies,
    the pool is rebuilt and every unfinished chunk is retried alone, one at a
    time, so a chunk that kills its worker again is identified exactly and
    turned into results by ``on_lost``; the others are rendered normally.
    """
    context = multiprocessing.get_context("fork")

    def new_pool() -> ProcessPoolExecutor:
        # Every worker first ties its life to this process's (renderer/batch/lifeline.py).
        return ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                   initargs=(lifeline(), initializer, initargs))

    def submit(chunk: list[Any]) -> Future[list[R]] | None:
        try:
            return pool.submit(function, chunk, *args)
        except BrokenProcessPool:
            return None

    pool = new_pool()
    pending: deque[tuple[list[Any], Future[list[R]] | None]] = deque()
    source = iter(chunks)
    try:
        while True:
            while len(pending) < in_flight(workers) and (chunk := next(source, None)) is not None:
                pending.append((chunk, submit(chunk)))
            if not pending:
                return
            chunk, future = pending[0]
            try:
                if future is None:
                    raise BrokenProcessPool("the pool broke before this chunk was submitted")
                results = future.result()
            except BrokenProcessPool:
                pool.shutdown(wait=False, cancel_futures=True)
                pool = new_pool()
                retried: deque[tuple[list[Any], Future[list[R]] | None]] = deque()
                for suspect, earlier in pending:
                    if earlier is not None and earlier.done() and earlier.exception() is None:
                        retried.append((suspect, earlier))
                        continue
                    try:
                        retried.append((suspect, _done(pool.submit(function, suspect, *args).result())))
                    except BrokenProcessPool:
                        pool.shutdown(wait=False, cancel_futures=True)
                        pool = new_pool()
                        retried.append((suspect, _done(on_lost(suspect, "a worker process died twice"))))
                pending = retried
                continue
            pending.popleft()
            yield from results
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start_worker(line: Lifeline, initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
    bind(line)
    # SIGTERM ends a worker, whatever handler it inherited: the pool terminates the
    # workers of a broken pool with it (and `renderer batch` handles it in the parent).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    initializer(*initargs)


def _done(value: Any) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_result(value)
    return future


def render_local(requests: Iterable[RenderRequest | dict[str, Any]], *, engine: Engine,
                 workers: int | None = None, chunk_size: int = 50,
                 transactional: bool = False) -> Iterator[Result]:
    """Render every request on this machine; one result per request, in order.

    ``renderer.render_many`` (``renderer/api.py``) validates the options and
    documents them; this is its local backend.
    """
    if workers is None or workers == 1:
        for index, request in enumerate(requests):
            yield render_one(engine, index, request, transactional=transactional)
        return

    # A list (or tuple) stays where it is: forked workers read it from the memory they
    # share with this process, and chunks travel as index ranges.
    shared = requests if isinstance(requests, (list, tuple)) else None

    def lost(chunk: SpoolChunk, why: str) -> list[Spooled]:
        pairs = ((i, shared[i]) for i in chunk.items) if isinstance(chunk.items, range) else chunk.items
        failed = [Failed(request_id(r, i), i, why, "WorkerDied") for i, r in pairs]
        return [Spooled(None, 0, b"".join(_wire(f) for f in failed), (len(failed),))]

    if shared is not None:
        pieces: Iterable[Any] = (range(start, min(start + chunk_size, len(shared)))
                                 for start in range(0, len(shared), chunk_size))
    else:
        pieces = chunked(enumerate(requests), chunk_size)
    with spool_folder() as folder:
        for output in ordered_pool_map(_render_chunk, spooled(pieces, folder, in_flight(workers)),
                                       workers=workers, initializer=init_worker, initargs=(engine, shared),
                                       on_lost=lost, args=(transactional,)):
            yield from _unspooled(output)
