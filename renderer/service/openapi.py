"""``/openapi.json``: the API described with the JSON Schemas of the same pydantic models.

OpenAPI 3.1 takes JSON Schema 2020-12 as it is, which is what pydantic
writes, so the components below are the schemas of ``schemas/``
(``Profile``, ``Product``, ``Event``, the batch line and record) and the
service's own bodies (``service/models.py``), generated in one pass so
that each model is one component, referenced everywhere it appears.
"""

from __future__ import annotations

import functools
from typing import Any, Union

from pydantic import TypeAdapter

from renderer.base.models import Profile
from renderer.devtools.schemas import BatchRecord, BatchRequest
from renderer.service import models

_REF = "#/components/schemas/{model}"
_COMPONENTS: dict[str, Any] = {
    "RenderBody": models.RenderBody,
    "TriggerBody": models.TriggerBody,
    "RenderedBody": models.RenderedBody,
    "TriggerSent": models.TriggerSent,
    "TriggerSkipped": models.TriggerSkipped,
    "Problem": models.ProblemDetails,
    "TemplateSummary": models.TemplateSummary,
    "TemplateDetail": models.TemplateDetail,
    "BatchLine": Union[BatchRequest, Profile],
    "BatchRecord": BatchRecord,
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _json(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return {"content": {media: {"schema": schema}}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, **_json(_ref("Problem"), "application/problem+json")}


_AUTH_ERRORS = {"401": _problem("No API key, or not one of the server's.")}
_BODY_ERRORS = {"413": _problem("The body is over the server's limit (default 1 MiB)."),
                "415": _problem("The body is not application/json."),
                "422": _problem("Invalid input: every problem by field path (errors).")}
_RENDER_ERRORS = {"404": _problem("Unknown template; available lists the names."),
                  "409": _problem("No email: the render was aborted (code: no_consent, "
                                  "recommendations_required, recommendations_unavailable)."),
                  "503": _problem("Not ready yet (templates compiling), or past the time budget.")}


def _paths() -> dict[str, Any]:
    template = {"name": "template", "in": "path", "required": True, "schema": {"type": "string"}}
    name = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/v1/render/{template}": {"post": {
            "summary": "Render one email for one recipient",
            "operationId": "render", "parameters": [template],
            "requestBody": {"required": True, **_json(_ref("RenderBody"))},
            "responses": {"200": {"description": "The email (format json), or the MIME message (format eml).",
                                  "content": {"application/json": {"schema": _ref("RenderedBody")},
                                              "message/rfc822": {"schema": {"type": "string"}}}},
                          **_AUTH_ERRORS, **_BODY_ERRORS, **_RENDER_ERRORS}}},
        "/v1/render/{template}/batch": {"post": {
            "summary": "Render many recipients: NDJSON lines in, one NDJSON record per non-blank line out, "
                       "in order",
            "operationId": "renderBatch",
            "parameters": [template, {"name": "now", "in": "query", "required": False,
                                      "schema": {"type": "string", "format": "date-time"}}],
            "requestBody": {"required": True, **_json(_ref("BatchLine"), "application/x-ndjson")},
            "responses": {"200": {"description": "One record per input line: rendered, skipped or failed "
                                                 "(a bad line: its line number and problems).",
                                  **_json(_ref("BatchRecord"), "application/x-ndjson")},
                          **_AUTH_ERRORS, "404": _RENDER_ERRORS["404"],
                          "413": _problem("The Content-Length is over the batch limit."),
                          "415": _problem("The body is not application/x-ndjson.")}}},
        "/v1/trigger": {"post": {
            "summary": "An automation event: the event picks the template, the skip rules decide",
            "operationId": "trigger",
            "requestBody": {"required": True, **_json(_ref("TriggerBody"))},
            "responses": {"200": {"description": "Sent (the email) or skipped (the reason code).",
                                  **_json({"oneOf": [_ref("TriggerSent"), _ref("TriggerSkipped")]})},
                          **_AUTH_ERRORS, **_BODY_ERRORS, **_RENDER_ERRORS}}},
        "/v1/templates": {"get": {
            "summary": "The templates served", "operationId": "listTemplates",
            "responses": {"200": {"description": "Every template.", **_json({
                "type": "object", "properties": {"generation": {"type": "integer"},
                                                 "templates": {"type": "array", "items": _ref("TemplateSummary")}}})},
                **_AUTH_ERRORS}}},
        "/v1/templates/{name}": {"get": {
            "summary": "What a template reads and requires", "operationId": "getTemplate", "parameters": [name],
            "responses": {"200": {"description": "The template.", **_json(_ref("TemplateDetail"))},
                          **_AUTH_ERRORS, "404": _RENDER_ERRORS["404"]}}},
        "/v1/schemas/{name}": {"get": {
            "summary": "A JSON Schema of schemas/ (profile, product, recommendations, event, batch-line, ...)",
            "operationId": "getSchema", "parameters": [name],
            "responses": {"200": {"description": "The schema (draft 2020-12).",
                                  **_json({"type": "object"}, "application/schema+json")},
                          **_AUTH_ERRORS, "404": _problem("Unknown schema; available lists the names.")}}},
        "/v1/admin/reload": {"post": {
            "summary": "Recompile the content in the background and swap it in when every template compiles",
            "operationId": "reload",
            "responses": {"202": {"description": "Started; /readyz shows the generation and any error."},
                          **_AUTH_ERRORS}}},
        "/healthz": {"get": {"summary": "Alive", "operationId": "healthz", "security": [],
                             "responses": {"200": {"description": "The process answers."}}}},
        "/readyz": {"get": {"summary": "Ready: templates compiled (detail with an API key)", "operationId": "readyz",
                            "security": [],
                            "responses": {"200": {"description": "Serving a generation of content."},
                                          "503": {"description": "Still compiling."}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "operationId": "metrics",
                             "responses": {"200": {"description": "Prometheus text format.",
                                                   **_json({"type": "string"}, "text/plain")},
                                           **_AUTH_ERRORS}}},
    }


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the service (built once per process)."""
    inputs = [(name, "validation", TypeAdapter(target)) for name, target in _COMPONENTS.items()]
    keyed, definitions = TypeAdapter.json_schemas(inputs, ref_template=_REF)
    components = dict(definitions.get("$defs", {}))
    for (name, _), schema in keyed.items():
        if schema != _ref(name):  # a model is its own component already; a union gets its name here
            components[name] = schema
    return {
        "openapi": "3.1.0",
        "info": {"title": "renderer service", "version": _version(),
                 "description": "Personalized email rendering over HTTP: one email, a trigger, or an NDJSON "
                                "batch. Errors are RFC 9457 problem details. See docs/service.md."},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "One of the server's API keys."}}},
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("renderer")
    except PackageNotFoundError:
        return "0.0.0"
