"""The client side of rendering on a Dask cluster: connect, submit in a window, survive dead workers.

With no scheduler address an embedded ``LocalCluster`` of worker processes
starts (one thread each, no dashboard, bound to 127.0.0.1) and stops with
the job. Tasks are submitted a few at a time (twice the cluster's threads),
so memory stays bounded whatever the audience. When a worker dies, Dask
runs its tasks again elsewhere; a task that kills workers again and again
(Dask's ``allowed-failures``, 3 by default) comes back as a
``KilledWorker``, which is turned into results by ``on_lost`` rather than
dropped.

Only the client reads inputs and writes outputs; workers need the package
and the content, nothing else (see docs/scaling.md).
"""

from __future__ import annotations

import logging
import os
from collections import deque
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TypeVar

from renderer.base.errors import ClusterError, ConfigError
from renderer.base.extras import needs_extra
from renderer.batch.dask.worker import WorkerJob, render_requests
from renderer.batch.local import Failed, RenderRequest, Result, chunked, request_id
from renderer.engine import Engine

if TYPE_CHECKING:
    from distributed import Client, Future, LocalCluster

M = TypeVar("M")
R = TypeVar("R")

CONNECT_TIMEOUT = 30.0  # seconds to reach a scheduler and to see its first worker


def _distributed() -> Any:
    with needs_extra("dask", "the dask engine"):
        import distributed
    return distributed


@contextmanager
def dask_client(*, scheduler: str | None = None, workers: int | None = None,
                timeout: float = CONNECT_TIMEOUT) -> Iterator[Client]:
    """A client of the cluster at ``scheduler``, or of an embedded LocalCluster of ``workers`` processes.

    Args:
        scheduler: ``tcp://HOST:PORT`` of a running scheduler; ``None`` starts a local cluster.
        workers: worker processes of the local cluster (default: one per core).
        timeout: seconds to reach the scheduler, and again to see its first worker.

    Raises:
        ClusterError: dask is not installed, the scheduler cannot be reached, or it has no worker.
    """
    distributed = _distributed()
    if workers is not None and workers < 1:
        raise ConfigError("workers must be at least 1")
    if scheduler is None:
        try:
            cluster = local_cluster(workers or os.cpu_count() or 1)
        except (RuntimeError, OSError) as error:
            # Worker processes are spawned: a script must start the job under `if __name__ == "__main__":`.
            raise ClusterError(f"the local Dask cluster did not start: {error} (in a script, start the job "
                               "under `if __name__ == \"__main__\":`)") from None
        with cluster, distributed.Client(cluster, set_as_default=False) as client:
            yield client
        return
    try:
        client = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise ClusterError(f"the Dask scheduler at {scheduler} has no worker") from None
        yield client
    finally:
        client.close()


def local_cluster(workers: int) -> LocalCluster:
    """A LocalCluster of ``workers`` processes, one thread each, listening on 127.0.0.1 only, no dashboard.

    Raises:
        ClusterError: the ``dask`` extra is not installed.
    """
    distributed = _distributed()
    # One thread per process: rendering is CPU-bound Python, so threads would share one GIL.
    return distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
        # The scheduler serves health checks over HTTP even without a dashboard: loopback, any free port.
        dashboard_address=None, scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        # A task's error reaches the caller; the workers need not log it too.
        silence_logs=logging.CRITICAL,
        # Dask samples every task's stack each 10 ms for the dashboard's profile; nobody reads it here.
        config={"distributed.worker.profile.enabled": False})


def _window(client: Client, window: int | None) -> int:
    if window is not None:
        return window
    # Two tasks per thread keep every worker busy while the client handles results.
    return 2 * max(1, sum(client.nthreads().values()))


def map_unordered(client: Client, function: Callable[..., R], items: Iterable[tuple[M, Any]], *,
                  args: tuple[Any, ...] = (), on_lost: Callable[[M, Any, str], R],
                  window: int | None = None) -> Iterator[tuple[M, R]]:
    """Run ``function(*args, payload)`` for each ``(meta, payload)``; yield ``(meta, result)`` as they finish.

    At most ``window`` tasks are in flight (default: twice the cluster's threads).

    Raises:
        Exception: whatever a task raised (e.g. ``ContentMismatch``); the other tasks are cancelled.
    """
    distributed = _distributed()
    running: dict[Future, tuple[M, Any]] = {}
    finished = distributed.as_completed(loop=client.loop)  # this client's loop, not the default client's
    source = iter(items)
    try:
        while True:
            while len(running) < _window(client, window) and (item := next(source, None)) is not None:
                future = client.submit(function, *args, item[1], pure=False)
                running[future] = item
                finished.add(future)
            if not running:
                return
            future = next(finished)
            meta, payload = running.pop(future)
            yield meta, _result(future, lambda why: on_lost(meta, payload, why))
    finally:
        if running:
            client.cancel(list(running))


def map_ordered(client: Client, function: Callable[..., list[R]], chunks: Iterable[Any], *,
                args: tuple[Any, ...] = (), on_lost: Callable[[Any, str], list[R]],
                window: int | None = None) -> Iterator[R]:
    """Run ``function(*args, chunk)`` for each chunk and yield the results in chunk order.

    At most ``window`` tasks are in flight (default: twice the cluster's threads).

    Raises:
        Exception: whatever a task raised (e.g. ``ContentMismatch``); the other tasks are cancelled.
    """
    pending: deque[tuple[Any, Future]] = deque()
    source = iter(chunks)
    try:
        while True:
            while len(pending) < _window(client, window) and (chunk := next(source, None)) is not None:
                pending.append((chunk, client.submit(function, *args, chunk, pure=False)))
            if not pending:
                return
            chunk, future = pending.popleft()
            yield from _result(future, lambda why: on_lost(chunk, why))
    finally:
        if pending:
            client.cancel([future for _, future in pending])


def _result(future: Future, lost: Callable[[str], R]) -> R:
    distributed = _distributed()
    try:
        return future.result()
    except distributed.KilledWorker as error:
        return lost(f"the task killed its worker process each time it ran ({error})")
    finally:
        future.release()


def render_many_dask(requests: Iterable[RenderRequest | dict[str, Any]], *, engine: Engine,
                     workers: int | None, chunk_size: int, transactional: bool,
                     scheduler: str | None) -> Iterator[Result]:
    """``render_many`` on a Dask cluster: same results, same order; see :func:`renderer.render_many`.

    Raises:
        ContentMismatch: a worker's content or code differs from ``engine``'s.
        ClusterError: no cluster could be started or reached.
    """
    job = WorkerJob.for_engine(engine)

    def lost(chunk: list[tuple[int, Any]], why: str) -> list[Result]:
        return [Failed(request_id(r, i), i, why, "WorkerDied") for i, r in chunk]

    with dask_client(scheduler=scheduler, workers=workers) as client:
        yield from map_ordered(client, render_requests, chunked(enumerate(requests), chunk_size),
                               args=(job, transactional), on_lost=lost)
