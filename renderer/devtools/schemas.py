"""JSON Schemas of the inputs, for services that validate before they call.

A campaign service in another language checks a profile, a recommendations
payload, an event or a ``renderer batch`` input line against these before
sending it; what passes the schema passes the engine's validation, apart
from checks a schema cannot state the same way (an email address is only
``format: email``; naive timestamps, which the engine reads as UTC, are not
``date-time``, so the schema is the stricter of the two).

The schemas are generated from the pydantic models (:mod:`renderer.base.models`)
and kept in ``schemas/`` in the repository; ``renderer schema --out schemas``
writes them again and a test fails when they are out of date.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from renderer.base.models import Event, Product, Profile

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://fernhill.example/schemas/renderer/"
"""Where the schemas say they live (an identifier, not fetched by anything)."""


class BatchRequest(BaseModel):
    """A ``renderer batch`` input line in its object form.

    ``recommendations`` and ``event`` replace the job's shared ones for this
    recipient; ``id`` names the output record (default: the profile's id).
    """

    model_config = ConfigDict(extra="forbid")

    profile: Profile
    recommendations: list[Product] | None = None
    event: Event | None = None
    id: str | None = Field(default=None, min_length=1)
    force_variants: dict[str, str] | None = Field(
        default=None, description="Experiment -> variant (or holdout) to render this recipient in, for QA.")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: int = Field(ge=1, description="The input line this record answers.")
    id: str | None = Field(description="The request's id, else the profile's; null when the line was unreadable.")


class RenderedRecord(_Record):
    """An email: subject, preheader, HTML and text, with its segments, blocks, warnings and headers."""

    status: Literal["rendered"]
    subject: str
    preheader: str
    segments: list[str]
    blocks: list[str]
    warnings: list[str]
    headers: dict[str, str]
    variants: dict[str, str] = Field(description="Experiment -> the recipient's variant, or holdout "
                                     "(docs/experiments.md); empty for a template without experiments.")
    html: str
    text: str


class ProblemRecord(BaseModel):
    """One problem of an invalid input, as pydantic reports it: type, loc (keys and indexes), msg, input."""

    type: str
    loc: list[Union[str, int]]
    msg: str
    input: Any = None


class SkippedRecord(_Record):
    """A recipient deliberately not emailed (``code``: ``no_consent``, ``recommendations_required``, ...)."""

    status: Literal["skipped"]
    code: str
    message: str


class FailedRecord(_Record):
    """A recipient whose email could not be rendered: the error, its kind and the problems by field path."""

    status: Literal["failed"]
    error: str
    kind: str
    problems: list[ProblemRecord]


BatchRecord = Annotated[Union[RenderedRecord, SkippedRecord, FailedRecord], Field(discriminator="status")]


class MessageRecord(_Record):
    """An email written as a MIME message (``renderer batch --format eml``): its file, not its HTML and text."""

    status: Literal["rendered"]
    file: str = Field(description="The .eml file in the output folder: input line and sanitized id.")
    message_id: str
    subject: str
    preheader: str
    segments: list[str]
    blocks: list[str]
    warnings: list[str]
    headers: dict[str, str]
    variants: dict[str, str] = Field(description="Experiment -> the recipient's variant, or holdout "
                                     "(docs/experiments.md); empty for a template without experiments.")


EmlRecord = Annotated[Union[MessageRecord, SkippedRecord, FailedRecord], Field(discriminator="status")]


SCHEMAS: dict[str, Any] = {
    "profile": Profile,
    "product": Product,
    "recommendations": list[Product],
    "event": Event,
    "batch-line": Union[BatchRequest, Profile],
    "batch-record": BatchRecord,
    "eml-record": EmlRecord,
}
"""Schema name -> the model (or type) it describes."""


_TITLES = {
    "profile": ("Profile", ""),
    "product": ("Product", ""),
    "event": ("Event", ""),
    "recommendations": ("Recommendations", "A recommendations payload: a list of products, best first."),
    "batch-line": ("BatchLine", "A renderer batch input line: a bare profile, or a request object."),
    "batch-record": ("BatchRecord", "A renderer batch output line: rendered, skipped or failed, by its status."),
    "eml-record": ("EmlRecord", "A line of index.jsonl of renderer batch --format eml: rendered (with its "
                   ".eml file), skipped or failed."),
}


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) named ``name`` (see :data:`SCHEMAS`).

    Raises:
        KeyError: no schema has that name.
    """
    from pydantic import TypeAdapter

    if name not in SCHEMAS:
        raise KeyError(f"no schema {name!r} (known: {', '.join(SCHEMAS)})")
    target = SCHEMAS[name]
    schema = TypeAdapter(target).json_schema(mode="validation")
    schema.setdefault("title", _TITLES[name][0])
    if _TITLES[name][1]:
        schema.setdefault("description", _TITLES[name][1])
    return {"$schema": SCHEMA_DIALECT, "$id": f"{BASE_ID}{name}.schema.json", **schema}


def schema_text(name: str) -> str:
    """:func:`json_schema` as the text written to ``schemas/NAME.schema.json``."""
    return json.dumps(json_schema(name), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_schemas(folder: str | Path) -> list[Path]:
    """Write every schema to ``folder/NAME.schema.json``; returns the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCHEMAS:
        path = folder / f"{name}.schema.json"
        path.write_text(schema_text(name), encoding="utf-8")
        written.append(path)
    return written
