"""Errors as RFC 9457 problem details (``application/problem+json``), one shape for every answer.

Each problem has ``type`` (``urn:renderer:problem:<code>``), ``title``,
``status``, ``detail`` and the library's stable ``code``; an invalid input
adds ``errors``, the library's :meth:`InvalidInput.errors` (pydantic's
shape: ``type``, ``loc``, ``msg``, ``input``), and an unknown template
adds ``available``. The library's error -> status mapping lives here only.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from renderer.base.errors import InvalidInput, RenderAborted, RendererError, TemplateError, TemplateNotFound
from renderer.base.jsonl import dumps as json_bytes

MEDIA_TYPE = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    409: "No email: the render was aborted",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    500: "Internal error",
    503: "Service unavailable",
}


class ProblemResponse(Response):
    media_type = MEDIA_TYPE

    def __init__(self, status: int, code: str, detail: str, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        body = {"type": f"urn:renderer:problem:{code}", "title": _TITLES.get(status, "Error"), "status": status,
                "detail": detail, "code": code, **extra}
        super().__init__(json_bytes(body), status_code=status, headers=headers)


def from_error(error: RendererError) -> ProblemResponse:
    """The answer to one of the library's errors.

    ``InvalidInput`` 422 (every problem by field path), ``TemplateNotFound``
    404 (with the names that exist), ``RenderAborted`` 409 (its code, such
    as ``no_consent``), a broken template 500 (the content is the server's
    fault, not the caller's), anything else of the library 500.
    """
    if isinstance(error, InvalidInput):
        return ProblemResponse(422, error.code, f"invalid {error.what}", errors=error.errors())
    if isinstance(error, TemplateNotFound):
        return ProblemResponse(404, error.code, str(error), available=error.available)
    if isinstance(error, RenderAborted):
        return ProblemResponse(409, error.code, error.message)
    if isinstance(error, TemplateError):
        return ProblemResponse(500, error.code, "the template is broken on the server; see its logs")
    return ProblemResponse(500, error.code, str(error))


def unauthorized() -> ProblemResponse:
    return ProblemResponse(401, "unauthorized", "send an API key as 'Authorization: Bearer KEY'",
                           headers={"WWW-Authenticate": 'Bearer realm="renderer"'})


def too_large(limit: int) -> ProblemResponse:
    return ProblemResponse(413, "body_too_large", f"the request body is over the limit of {limit:,} bytes",
                           limit=limit)


def unsupported(expected: str, given: str | None) -> ProblemResponse:
    return ProblemResponse(415, "unsupported_media_type",
                           f"send Content-Type: {expected} (got {given or 'none'})", expected=expected)


def not_ready(detail: str) -> ProblemResponse:
    return ProblemResponse(503, "not_ready", detail, headers={"Retry-After": "1"})
