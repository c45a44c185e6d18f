"""The service's ASGI app: routes over a :class:`ServiceState`.

Routes (JSON in, JSON out; errors are problem+json, ``problems.py``)::

    POST /v1/render/{template}          one email (or format eml: the MIME message)
    POST /v1/render/{template}/batch    NDJSON lines in, one NDJSON record per line out, in order
    POST /v1/trigger                    the event picks the template: sent or skipped, with the code
    GET  /v1/templates                  the templates served
    GET  /v1/templates/{name}           the tokens it reads and what it requires
    GET  /v1/schemas/{name}             the JSON Schemas of schemas/
    POST /v1/admin/reload               recompile in the background, swap when done
    GET  /healthz, /readyz              alive; ready (templates compiled), with reload detail
    GET  /metrics                       Prometheus text
    GET  /openapi.json                  the API, from the same pydantic models

``/v1/*`` and ``/metrics`` need ``Authorization: Bearer KEY``. No route
reads a file named by the request: a template or schema name is looked up
among the names the server has, and the recommendation source is the
server's own.

The single render and the trigger, the requests that come by the
thousand, are answered by ``single.py`` ahead of Starlette's middleware
and router (:class:`ServiceApp`); the rest is a plain Starlette app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from typing import Any, AsyncIterator

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from renderer.base.errors import InvalidInput, Problem, TemplateNotFound
from renderer.service import metrics, problems
from renderer.service.batch import BatchResponse
from renderer.service.config import SUPERVISOR_ENV, ApiKeys, ServiceConfig, load_keys
from renderer.service.models import aware
from renderer.service.runner import STALL_SECONDS, RenderThreads
from renderer.service.single import SingleRoutes, bearer_accepted, route_of, wrong_type
from renderer.service.state import Served, ServiceState

log = logging.getLogger("renderer.service")

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
_PUBLIC = ("/healthz", "/readyz", "/openapi.json")


class KeyCheck:
    """Answers 401 to a ``/v1/*`` or ``/metrics`` request without an accepted bearer key.

    The verdict is put in ``scope["state"]["authorized"]`` for every path,
    so that ``/readyz`` shows its detail to key holders only. Neither the
    header nor the key is ever logged.
    """

    def __init__(self, app: ASGIApp, keys: ApiKeys | None) -> None:
        self.app, self.keys = app, keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        authorized = self.keys is None or self._accepted(scope)
        scope.setdefault("state", {})["authorized"] = authorized
        if not authorized and scope["path"] not in _PUBLIC:
            return await problems.unauthorized()(scope, receive, send)
        await self.app(scope, receive, send)

    def _accepted(self, scope: Scope) -> bool:
        assert self.keys is not None
        for name, value in scope["headers"]:
            if name == b"authorization":
                return bearer_accepted(self.keys, value)
        return False


class ServiceApp(Starlette):
    """The service's Starlette app, with ``POST /v1/render/{template}`` and ``POST /v1/trigger`` answered
    ahead of its middleware and router (``single.py``, the hot path); every other request, and those two
    from a browser when CORS is on, take the Starlette way."""

    def __init__(self, *, singles: SingleRoutes, cors: bool, **options: Any) -> None:
        super().__init__(**options)
        self.singles = singles
        self.cors = cors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path, root = scope["path"], scope.get("root_path", "")
            route = route_of(path[len(root):] if root and path.startswith(root) else path)
            if route is not None and not (self.cors and any(name == b"origin" for name, _ in scope["headers"])):
                return await self.singles.answer(scope, receive, send, route)
        await super().__call__(scope, receive, send)


def create_app(config: ServiceConfig | None = None, *, keys: ApiKeys | None = None,
               state: ServiceState | None = None) -> ServiceApp:
    """The service app. ``keys`` default: :func:`load_keys` of ``config`` (none with ``insecure_no_auth``).

    Raises:
        ConfigError: no key is configured and ``insecure_no_auth`` is not set.
    """
    config = config or ServiceConfig()
    if keys is None:
        loaded = load_keys(config)
        keys = loaded if len(loaded) else None
    state = state or ServiceState(config)
    _log_to_stderr()
    # Renders that wait for the server's recommendation source get threads as they need them; renders
    # that only compute share one (runner.py).
    threads = RenderThreads(eager=state.source is not None,
                            stall_seconds=min(STALL_SECONDS, config.time_budget / 4))
    singles = SingleRoutes(state, keys, threads)
    routes = [
        Route("/healthz", lambda request: JSONResponse({"status": "ok"})),
        Route("/readyz", _readyz),
        Route("/metrics", _metrics),
        Route("/openapi.json", _openapi),
        Route("/v1/templates", _templates),
        Route("/v1/templates/{name}", _template),
        Route("/v1/schemas/{name}", _schema),
        Route("/v1/render/{template}", singles, methods=["POST"]),
        Route("/v1/render/{template}/batch", _batch, methods=["POST"]),
        Route("/v1/trigger", singles, methods=["POST"]),
        Route("/v1/admin/reload", _reload, methods=["POST"]),
    ]
    middleware = [Middleware(KeyCheck, keys=keys)]
    if config.cors_origins:
        middleware.insert(0, Middleware(CORSMiddleware, allow_origins=list(config.cors_origins),
                                        allow_methods=["GET", "POST"],
                                        allow_headers=["Authorization", "Content-Type"]))
    app = ServiceApp(singles=singles, cors=bool(config.cors_origins), routes=routes, middleware=middleware,
                     lifespan=_lifespan, exception_handlers={HTTPException: _http_error, Exception: _internal_error})
    app.state.service = state
    return app


def app_from_environment() -> ServiceApp:
    """The app of a ``--workers`` process: its config from ``$RENDERER_SERVE_CONFIG``."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # until the app can reload (a SIGHUP now would kill it)
    return create_app(ServiceConfig.from_env())


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    state: ServiceState = app.state.service
    if not state.ready:
        state.reload()
    loop = asyncio.get_running_loop()
    installed = False
    with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):  # not in the main thread (tests)
        loop.add_signal_handler(signal.SIGHUP, state.reload)
        installed = True
    try:
        yield
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGHUP)


def _log_to_stderr() -> None:
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("renderer: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def _state(request: Request) -> ServiceState:
    return request.app.state.service


# --- probes, metrics, the API description -----------------------------------------------------

async def _readyz(request: Request) -> Response:
    state = _state(request)
    body = state.readiness(detailed=request.scope["state"].get("authorized", False))
    return JSONResponse(body, status_code=200 if body["ready"] else 503)


async def _metrics(request: Request) -> Response:
    served = _state(request).served
    if served is not None:
        metrics.GENERATION.set(served.generation)
    metrics.observe_source(_state(request).source)
    data, media_type = await anyio.to_thread.run_sync(metrics.exposition)
    return Response(data, media_type=media_type)


async def _openapi(request: Request) -> Response:
    from renderer.service.openapi import openapi_document

    return JSONResponse(openapi_document())


# --- content: templates and schemas -------------------------------------------------------------

async def _templates(request: Request) -> Response:
    served = _served_or_503(request)
    if isinstance(served, Response):
        return served
    engine = served.engine
    items = []
    for name in served.templates:
        spec = engine.compiled(name).spec
        items.append({"name": name, "description": spec.description, "event": spec.event})
    return JSONResponse({"generation": served.generation, "templates": items})


async def _template(request: Request) -> Response:
    served = _served_or_503(request)
    if isinstance(served, Response):
        return served
    name = request.path_params["name"]
    if name not in served.templates:
        return problems.from_error(TemplateNotFound(name, "template", list(served.templates)))
    engine = served.engine
    compiled = engine.compiled(name)
    spec = compiled.spec
    policy = spec.recommendations
    requires: dict[str, Any] = {
        "event": spec.event,
        "recommendations": {"required": policy.required, "fallback": policy.fallback, "limit": policy.limit},
    }
    # The template's own requires: the tokens its email is about, and what a recipient without them gets.
    requires["tokens"] = [{"token": need.token, "on_missing": need.on_missing} for need in spec.requires]
    return JSONResponse({
        "name": name, "description": spec.description, "event": spec.event,
        "tokens": sorted(compiled.assembled.tokens), "blocks": [use.block for use in spec.blocks],
        "requires": requires, "languages": sorted(engine.languages() | {"en"}),
    })


async def _schema(request: Request) -> Response:
    from renderer.devtools.schemas import SCHEMAS, json_schema

    name = request.path_params["name"]
    if name not in SCHEMAS:
        return problems.ProblemResponse(404, "not_found", f"unknown schema {name!r}", available=list(SCHEMAS))
    return JSONResponse(json_schema(name), media_type="application/schema+json")


def _served_or_503(request: Request) -> Served | Response:
    served = _state(request).served
    return served if served is not None else problems.not_ready("the templates are still compiling")


# --- batches and reloads ----------------------------------------------------------------------

async def _batch(request: Request) -> Response:
    served = _served_or_503(request)
    if isinstance(served, Response):
        return served
    template = request.path_params["template"]
    if template not in served.templates:
        return problems.from_error(TemplateNotFound(template, "template", list(served.templates)))
    wrong = _wrong_type(request, NDJSON_TYPES)
    if wrong is not None:
        return wrong
    config = _state(request).config
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > config.max_batch_bytes:
        return problems.too_large(config.max_batch_bytes)
    now = request.query_params.get("now")
    try:
        clock = _parse_now(now)
    except InvalidInput as error:
        return problems.from_error(error)
    return BatchResponse(served.engine, template, clock, max_bytes=config.max_batch_bytes,
                         source=_state(request).source)


async def _reload(request: Request) -> Response:
    state = _state(request)
    supervisor = os.environ.get(SUPERVISOR_ENV)
    if supervisor and supervisor == str(os.getppid()):
        os.kill(os.getppid(), signal.SIGHUP)  # the supervisor passes it to every worker
        scope = "every worker"
    else:
        state.reload()
        scope = "this process"
    served = state.served
    return JSONResponse({"status": "reloading", "scope": scope,
                         "generation": served.generation if served else 0}, status_code=202)


# --- content types, clocks, errors ---------------------------------------------------------------------

def _wrong_type(request: Request, accepted: tuple[str, ...]) -> Response | None:
    return wrong_type(request.headers.get("content-type"), accepted)


def _parse_now(value: str | None) -> Any:
    if value is None:
        return None
    from datetime import datetime

    try:
        return aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise InvalidInput("request", [Problem("now", f"not an ISO 8601 timestamp: {value[:60]!r}",
                                               "datetime_parsing")]) from None


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        return problems.ProblemResponse(404, "no_route", f"no such route: {request.method} {request.url.path}")
    return problems.ProblemResponse(error.status_code, "http_error", str(error.detail),
                                    headers=dict(error.headers or {}))


async def _internal_error(request: Request, error: Exception) -> Response:
    log.exception("%s %s: internal error", request.method, request.url.path)
    return problems.ProblemResponse(500, "internal_error", "an internal error; see the server's logs")

