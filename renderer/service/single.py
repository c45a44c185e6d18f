"""``POST /v1/render/{template}`` and ``POST /v1/trigger``: one request, one answer, the service's hot path.

These two routes are answered in plain ASGI, ahead of Starlette's
middleware, router and request objects (``app.ServiceApp``): one pass over
the headers finds the key, the content type and the length; the body is
read with its limit; the parse, the checks, the render and
the encoding of the answer happen together in one of the render threads
(``runner.py``), within the time budget; the answer goes out as two ASGI
messages. Everything else the service answers goes through Starlette.
What a caller sees is the same either way: the same statuses, the same
problem+json errors (``problems.py``), the same metrics.

Parsing: pydantic-core's JSON reader, which gives the standard library's
values (big integers stay integers, which orjson would make floats) in a
little over half its time; a body it refuses is read again by the
standard library, whose verdict (the problem, or the value, as for an
escaped lone surrogate) is the answer.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from pydantic_core import from_json
from starlette.types import Receive, Scope, Send

from renderer.base.errors import InvalidInput, Problem, RenderAborted, RendererError, TemplateNotFound
from renderer.base.jsonl import LineError, loads_line
from renderer.service import metrics, problems
from renderer.service.config import ApiKeys
from renderer.service.models import RenderEnvelope, TriggerEnvelope, aware, envelope, trace_dict
from renderer.service.runner import BudgetExpired, RenderThreads
from renderer.service.state import Served, ServiceState

log = logging.getLogger("renderer.service")

RENDER_PREFIX = "/v1/render/"
TRIGGER_PATH = "/v1/trigger"
JSON_TYPES = ("application/json",)

Headers = list[tuple[bytes, bytes]]
_Answer = tuple[int, Headers, bytes]
"""status, headers (all but the length), body"""

_JSON_HEADERS: Headers = [(b"content-type", b"application/json")]
_MESSAGE_HEADERS: Headers = [(b"content-type", b"message/rfc822")]


def route_of(path: str) -> tuple[str, str | None] | None:
    """``("render", template)`` or ``("trigger", None)`` for the paths answered here, else ``None``.

    A template is one path segment, as Starlette's ``{template}`` matches it.
    """
    if path == TRIGGER_PATH:
        return "trigger", None
    if path.startswith(RENDER_PREFIX):
        template = path[len(RENDER_PREFIX):]
        if template and "/" not in template:
            return "render", template
    return None


def bearer_accepted(keys: ApiKeys, value: bytes | None) -> bool:
    """Whether an ``Authorization`` header value is ``Bearer KEY`` with one of ``keys`` (constant time)."""
    if value is None:
        return False
    scheme, _, token = value.decode("latin-1").partition(" ")
    return scheme.lower() == "bearer" and keys.accepts(token.strip())


def wrong_type(given: str | None, accepted: tuple[str, ...]) -> problems.ProblemResponse | None:
    """415 unless the media type of ``given`` (a Content-Type value) is one of ``accepted``."""
    media = (given or "").split(";")[0].strip().lower()
    return None if media in accepted else problems.unsupported(accepted[0], given)


def parse_json(body: bytes) -> Any:
    """The JSON value of a request body.

    Raises:
        InvalidInput: not UTF-8, not JSON, or nested too deeply (one problem saying which).
    """
    try:
        return from_json(body, cache_strings="keys")  # no recipient's values kept in its string cache
    except ValueError:
        pass  # the standard library's verdict, below: the problem it finds, or the value it reads
    try:
        return loads_line(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidInput("request", [Problem("", f"the body is not UTF-8 (byte {error.start + 1})",
                                               "utf8_invalid")]) from None
    except LineError as error:
        raise InvalidInput("request", [Problem("", error.message, error.type)]) from None


class SingleRoutes:
    """The render and trigger routes of one worker, over its :class:`ServiceState`.

    ``keys``: checked here when the request did not come through the app's
    key check (``None``: no key needed).
    """

    def __init__(self, state: ServiceState, keys: ApiKeys | None, threads: RenderThreads) -> None:
        self.state = state
        self.keys = keys
        self.threads = threads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The routes as Starlette's endpoint: behind the app's key check (and CORS, when on)."""
        template = scope.get("path_params", {}).get("template")
        route = ("render", template) if template is not None else ("trigger", None)
        await self.answer(scope, receive, send, route, check_key=False)

    async def answer(self, scope: Scope, receive: Receive, send: Send, route: tuple[str, str | None], *,
                     check_key: bool = True) -> None:
        """Answer one request of ``route`` (what :func:`route_of` found for its path)."""
        endpoint, template = route
        authorization = content_type = length = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value if authorization is None else authorization
            elif name == b"content-type":
                content_type = value if content_type is None else content_type
            elif name == b"content-length":
                length = value if length is None else length
        if check_key and self.keys is not None and not bearer_accepted(self.keys, authorization):
            return await problems.unauthorized()(scope, receive, send)
        try:
            answer = await self._answer(scope, receive, endpoint, template, content_type, length)
        except Exception:  # a bug: a 500 for this request, logged with its traceback
            log.exception("%s %s: internal error", scope["method"], scope["path"])
            answer = _problem(problems.ProblemResponse(500, "internal_error",
                                                       "an internal error; see the server's logs"))
        if answer is None:  # the client went away before its body was read: nobody to answer
            return
        status, headers, content = answer
        await send({"type": "http.response.start", "status": status,
                    "headers": [*headers, (b"content-length", str(len(content)).encode("latin-1"))]})
        await send({"type": "http.response.body", "body": content})

    async def _answer(self, scope: Scope, receive: Receive, endpoint: str, template: str | None,
                      content_type: bytes | None, length: bytes | None) -> _Answer | None:
        served = self.state.served
        if served is None:
            return _problem(problems.not_ready("the templates are still compiling"))
        if template is not None and template not in served.templates:
            return _problem(problems.from_error(TemplateNotFound(template, "template", list(served.templates))))
        wrong = wrong_type(content_type.decode("latin-1") if content_type is not None else None, JSON_TYPES)
        if wrong is not None:
            return _problem(wrong)
        limit = self.state.config.max_body_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            return _problem(problems.too_large(limit))
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    return _problem(problems.too_large(limit))
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        source = self.state.source
        if template is not None:
            return await self._budgeted(scope, endpoint, lambda: _render(served, template, body, source))
        return await self._budgeted(scope, endpoint, lambda: _trigger(served, body, source))

    async def _budgeted(self, scope: Scope, endpoint: str, work: Callable[[], tuple[bytes, Headers]]) -> _Answer:
        """``work`` in a render thread; 503 past the time budget, a problem for the library's errors."""
        budget = self.state.config.time_budget
        started = time.perf_counter()
        try:
            content, headers = await self.threads.run(work, budget)
            answer = 200, headers, content
        except BudgetExpired:
            metrics.child(metrics.FAILURES, endpoint, "time_budget").inc()
            answer = _problem(problems.ProblemResponse(
                503, "time_budget", f"the request took more than its time budget of {budget:g} s",
                headers={"Retry-After": "1"}))
        except RendererError as error:
            problem = problems.from_error(error)
            if isinstance(error, RenderAborted):
                metrics.child(metrics.SKIPS, endpoint, error.code).inc()
                metrics.observe_source(self.state.source, code=error.code)
            else:
                metrics.child(metrics.FAILURES, endpoint, error.code).inc()
            if problem.status_code >= 500:
                log.error("%s %s failed: %s", scope["method"], scope["path"], error)
            answer = _problem(problem)
        except Exception:  # a bug costs this request a 500, and is counted and logged with its traceback
            metrics.child(metrics.FAILURES, endpoint, "internal_error").inc()
            log.exception("%s %s: internal error", scope["method"], scope["path"])
            answer = _problem(problems.ProblemResponse(500, "internal_error",
                                                       "an internal error; see the server's logs"))
        metrics.child(metrics.LATENCY, endpoint).observe(time.perf_counter() - started)
        return answer


def _problem(answer: problems.ProblemResponse) -> _Answer:
    headers = [(name, value) for name, value in answer.raw_headers if name != b"content-length"]
    return answer.status_code, headers, bytes(answer.body)


# --- in a render thread: parse, check, render, encode -----------------------------------------------

def _render(served: Served, template: str, body: bytes, source: Any) -> tuple[bytes, Headers]:
    data = parse_json(body)
    request = envelope(RenderEnvelope, data, what="request")
    engine = served.engine
    now = aware(request.now)
    email = engine.render(template, profile=request.profile, recommendations=request.recommendations,
                          event=request.event, now=now, transactional=request.transactional)
    metrics.child(metrics.RENDERS, "render", template).inc()
    metrics.observe_source(source, email.warnings)
    if request.format == "eml":
        return _message(engine, email, data["profile"], now), _MESSAGE_HEADERS
    answer = {"status": "rendered", **email.to_dict()}
    if request.trace:
        answer["trace"] = trace_dict(email)
    return problems.json_bytes(answer), _JSON_HEADERS


def _message(engine: Any, email: Any, profile: Any, now: Any) -> bytes:
    from renderer.base.mime import recipient_address

    sender = engine.brand().get("sender")
    if not sender:
        raise InvalidInput("request", [Problem("format", "format eml needs a sender: set sender: in the "
                                                         "content's blocks/brand.yaml", "missing")])
    return email.to_message(sender=sender, to=recipient_address(profile), date=now).as_bytes()


def _trigger(served: Served, body: bytes, source: Any) -> tuple[bytes, Headers]:
    request = envelope(TriggerEnvelope, parse_json(body), what="request")
    outcome = served.engine.render_event(profile=request.profile, event=request.event, now=aware(request.now),
                                         recommendations=request.recommendations)
    if outcome.email is None:
        assert outcome.skip is not None
        metrics.child(metrics.SKIPS, "trigger", outcome.skip.code).inc()
        return problems.json_bytes({"status": "skipped", "event_type": outcome.event_type,
                                    "template": outcome.template, "code": outcome.skip.code,
                                    "message": outcome.skip.message}), _JSON_HEADERS
    email = outcome.email
    metrics.child(metrics.RENDERS, "trigger", outcome.template).inc()
    metrics.observe_source(source, email.warnings)
    answer = {"status": "rendered", "event_type": outcome.event_type, **email.to_dict()}
    if request.trace:
        answer["trace"] = trace_dict(email)
    return problems.json_bytes(answer), _JSON_HEADERS
