"""The service's request and response bodies, as pydantic models.

The request models type their fields with the library's own models
(:class:`Profile`, :class:`Product`, :class:`Event`), so ``/openapi.json``
describes exactly what ``schemas/`` does. A request is checked in two
steps, so that a huge profile is capped (``Limits``) before it is
validated, as in the library: the envelope (:class:`RenderEnvelope`, the
fields other than profile, recommendations and event) here, then the
three payloads by ``Engine.render`` itself. Every problem of both steps is
answered together.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from renderer.base.errors import InvalidInput, Problem
from renderer.base.jsonl import json_kind
from renderer.base.models import Event, Product, Profile, parse_request, problems_from
from renderer.devtools.schemas import ProblemRecord


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RenderBody(_Strict):
    """``POST /v1/render/{template}``: one recipient."""

    profile: Profile
    recommendations: list[Product] | None = Field(
        default=None, description="Products to recommend, best first; without them the server's "
                                  "recommendation source (if any) or the template's fallback is used.")
    event: Event | None = Field(default=None, description="The triggering event (its cart feeds CartItems).")
    now: datetime | None = Field(default=None, description="The render's clock (default: the server's).")
    format: Literal["json", "eml"] = Field(
        default="json", description="json: the RenderedEmail; eml: the MIME message (message/rfc822).")
    trace: bool = Field(default=False, description="Add why the email looks as it does: rule verdicts "
                                                   "and block decisions.")
    transactional: bool = Field(default=False, description="Mail the recipient whatever their marketing "
                                                           "consent (receipts, password resets).")


class TriggerBody(_Strict):
    """``POST /v1/trigger``: the event picks the template; the skip rules decide."""

    profile: Profile
    event: Event
    now: datetime | None = None
    recommendations: list[Product] | None = None
    trace: bool = False


class RenderEnvelope(_Strict):
    """:class:`RenderBody` with its three payloads left to the engine's validation."""

    profile: Any = Field(...)
    recommendations: Any = None
    event: Any = None
    now: datetime | None = None
    format: Literal["json", "eml"] = "json"
    trace: bool = False
    transactional: bool = False


class TriggerEnvelope(_Strict):
    profile: Any = Field(...)
    event: Any = Field(...)
    now: datetime | None = None
    recommendations: Any = None
    trace: bool = False


def envelope(model: type[_Strict], data: Any, *, what: str) -> Any:
    """``data`` checked as ``model``; on failure every problem, the payloads' own included.

    Raises:
        InvalidInput: the body is not an object, or any field is wrong.
    """
    if not isinstance(data, dict):
        raise InvalidInput(what, [Problem("", f"the body must be a JSON object, not {json_kind(data)}",
                                          "model_type")])
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = problems_from(error)
    try:  # the payloads' problems too, so that one answer lists everything
        parse_request(what, data.get("profile"), data.get("event"), data.get("recommendations"))
    except InvalidInput as more:
        known = {p.loc for p in problems}
        problems += [p for p in more.problems if p.loc not in known and p.loc.split(".")[0] in data]
    raise InvalidInput(what, problems)


class TraceBody(BaseModel):
    rules: list[dict[str, Any]]
    blocks: list[dict[str, Any]]


class RenderedBody(BaseModel):
    """An email: what ``RenderedEmail.to_dict()`` gives, plus its trace when asked for."""

    status: Literal["rendered"]
    template: str
    profile_id: str
    subject: str
    preheader: str
    segments: list[str]
    blocks: list[str]
    warnings: list[str]
    headers: dict[str, str]
    html: str
    text: str
    trace: TraceBody | None = None


class TriggerSent(RenderedBody):
    """A trigger that sends: the email, and the event it answered."""

    event_type: str


class TriggerSkipped(BaseModel):
    """A trigger that sends nothing, and why (``code``: ``wait``, ``cooldown``, ``no_consent``, ...)."""

    status: Literal["skipped"]
    event_type: str
    template: str
    code: str
    message: str


class ProblemDetails(BaseModel):
    """An error, as RFC 9457 problem details; 422 adds ``errors``, 404 adds ``available``."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="The library's stable error code (invalid_input, not_found, no_consent, ...).")
    errors: list[ProblemRecord] | None = None
    available: list[str] | None = None


class TemplateSummary(BaseModel):
    name: str
    description: str
    event: str | None


class TemplateDetail(TemplateSummary):
    """What a template reads and requires, for a caller deciding what to send."""

    tokens: list[str] = Field(description="Every token the template reads (subject, preheader, blocks, show_if).")
    blocks: list[str]
    requires: dict[str, Any] = Field(description="What a request must carry: the event type a trigger "
                                                 "template answers, and the recommendations policy.")
    languages: list[str]


def trace_dict(email: Any) -> dict[str, Any]:
    """A RenderedEmail's trace as JSON-ready values."""
    return {"rules": [rule._asdict() for rule in email.trace.rules],
            "blocks": [block._asdict() for block in email.trace.blocks]}


def aware(value: datetime | None) -> datetime | None:
    """``now`` as the library reads it: a naive time is UTC."""
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value
