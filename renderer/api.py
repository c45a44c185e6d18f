"""The module-level API: thin functions over one shared :class:`Engine`.

Each function forwards to the Engine method of the same name, with the
method's own signature and docstring, so the two cannot drift apart
(as requests' ``api.py`` does over a ``Session``).

Example:
    >>> import renderer
    >>> renderer.render("welcome", profile={"id": "c1", "email": "ana@example.com", "first_name": "Ana"}).subject
    'Welcome to Fernhill, Ana'
"""

from __future__ import annotations

import functools
import inspect
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TypeVar

from renderer.base.errors import ConfigError
from renderer.batch.local import RenderRequest, Result, render_local
from renderer.engine import Engine

if TYPE_CHECKING:
    from renderer.devtools.check import CheckReport

F = TypeVar("F", bound=Callable[..., Any])

_default_engine: Engine | None = None
_lock = threading.Lock()


def default_engine() -> Engine:
    """The shared Engine over the default content (``$RENDERER_CONTENT``, else the bundled brand),
    created on first use."""
    global _default_engine
    with _lock:
        if _default_engine is None:
            _default_engine = Engine()
        return _default_engine


def _over_default_engine(method: F) -> F:
    """``method`` as a function that calls it on :func:`default_engine` (same signature and docs)."""
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        return method(default_engine(), *args, **kwargs)

    call.__qualname__ = call.__name__ = method.__name__
    call.__module__ = __name__
    parameters = list(inspect.signature(method).parameters.values())[1:]  # without ``self``
    call.__signature__ = inspect.signature(method).replace(parameters=parameters)  # type: ignore[attr-defined]
    return call  # type: ignore[return-value]


render = _over_default_engine(Engine.render)
render_event = _over_default_engine(Engine.render_event)
validate = _over_default_engine(Engine.validate)


def render_many(requests: Iterable[RenderRequest | dict[str, Any]], *, engine: Engine | None = None,
                workers: int | None = None, chunk_size: int = 50,
                transactional: bool = False, backend: str = "local",
                scheduler: str | None = None) -> Iterator[Result]:
    """Render every request; yield one result per request, in order.

    Args:
        requests: :class:`RenderRequest` objects or dicts with the same keys.
        engine: the engine (its content folders are used by the workers too);
            default: the shared one over the default content, as :func:`render` uses.
        workers: ``None`` or 1 renders in this process; N >= 2 uses N forked
            processes, which start with the engine's compiled templates. A
            list or tuple of requests is read by them from shared memory
            (do not change it while iterating); other iterables are sent to
            them in chunks. Each email comes back through a spool file, not
            a pipe, but still costs this process about 20 us to receive, so
            workers pay off with more than two cores (on two, 2 workers give
            about 1.2x; see docs/performance.md); ``renderer batch``, whose
            parent only copies bytes, scales better.
            With ``backend="dask"`` and no scheduler: the embedded cluster's
            worker processes (default: one per core).
        chunk_size: requests a worker renders at a time.
        transactional: send to recipients without marketing consent too (receipts, password
            resets); by default they are skipped with the code ``no_consent``, as everywhere.
        backend: ``"local"`` (this machine's processes) or ``"dask"`` (a Dask
            cluster; needs the ``dask`` extra, see docs/scaling.md).
        scheduler: with ``backend="dask"``, a scheduler's ``tcp://HOST:PORT``;
            ``None`` starts an embedded LocalCluster for the call.

    Raises:
        ContentMismatch: (dask) a worker's content or code differs from the engine's.
        ClusterError: (dask) no cluster could be started or reached.

    Example:
        >>> results = list(render_many([RenderRequest("welcome", {"id": "a", "email": "a@example.com"})]))
        >>> results[0].subject
        'Welcome to Fernhill'
    """
    if workers is not None and workers < 1:
        raise ConfigError("workers must be at least 1")
    if chunk_size < 1:
        raise ConfigError("chunk_size must be at least 1")
    if backend not in ("local", "dask"):
        raise ConfigError(f"backend must be 'local' or 'dask', not {backend!r}")
    if scheduler is not None and backend != "dask":
        raise ConfigError("a scheduler is only used with backend='dask'")
    engine = engine or default_engine()
    if backend == "dask":
        from renderer.batch.dask.cluster import render_many_dask  # imports distributed only when asked for

        return render_many_dask(requests, engine=engine, workers=workers, chunk_size=chunk_size,
                                transactional=transactional, scheduler=scheduler)
    return render_local(requests, engine=engine, workers=workers, chunk_size=chunk_size,
                        transactional=transactional)


def check(templates: list[str] | None = None, *, engine: Engine | None = None,
          fixtures: str | Path | None = None) -> CheckReport:
    """Render every template (or those named) against every fixture and report what breaks emails.

    Rules: unknown tokens, tokens printed empty, ``show_if`` branches no fixture
    exercises, images without alt or width, links that are not https or mailto,
    no unsubscribe link, HTML over 102 KB (a warning from 90 KB), missing or
    over-long preheader, empty or over-long subject, no ``lang`` on ``<html>``,
    tables without ``role="presentation"``. See ``renderer/devtools/check.py``.

    Args:
        templates: the templates to check (default: every one).
        engine: whose content to check (default: :func:`default_engine`).
        fixtures: a fixtures folder (default: ``fixtures/`` beside the templates, else the bundled one).

    Example:
        >>> report = renderer.devtools.check(["welcome"])
        >>> report.ok, report.summary()  # doctest: +SKIP
        (True, '0 errors, 0 warnings in 1 templates (11 emails rendered)')
    """
    from renderer.content.fixtures import FixtureSet
    from renderer.devtools.check import check_content

    return check_content(engine or default_engine(), templates, FixtureSet(Path(fixtures)) if fixtures else None)
