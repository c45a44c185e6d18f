"""Personalized email rendering: MJML blocks compiled once, rendered per recipient.

Example:
    >>> from renderer import render
    >>> email = render("welcome", profile={"id": "c1", "email": "ana@example.com", "first_name": "Ana"})
    >>> email.subject
    'Welcome to Fernhill, Ana'

The public names below load on first use (PEP 562), so ``import renderer``
costs a few milliseconds and the ``renderer`` command starts at once; the
engine and its compilers load when a name that needs them is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from renderer.base.lazy import lazy_names

# Each public name and the module that defines it.
_EXPORTS = {
    "Engine": "renderer.engine",
    "default_engine": "renderer.api",
    "render": "renderer.api",
    "render_event": "renderer.api",
    "render_many": "renderer.api",
    "validate": "renderer.api",
    "check": "renderer.api",
    "RenderRequest": "renderer.batch.local",
    "Skipped": "renderer.batch.local",
    "Failed": "renderer.batch.local",
    "CheckReport": "renderer.devtools.check",
    "Finding": "renderer.devtools.check",
    "CompiledTemplate": "renderer.compile.pipeline",
    "Limits": "renderer.base.limits",
    "Event": "renderer.base.models",
    "Product": "renderer.base.models",
    "Profile": "renderer.base.models",
    "RenderedEmail": "renderer.base.models",
    "TriggerOutcome": "renderer.audience.triggers",
    "Skip": "renderer.audience.triggers",
    **{name: "renderer.base.errors" for name in (
        "BatchStateError", "ClusterError", "CompileError", "ContentMismatch", "InvalidInput",
        "PersonaFileError", "PersonaFitError", "Problem", "RenderAborted", "RendererError",
        "TemplateError", "TemplateNotFound")},
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_names(globals(), _EXPORTS)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from renderer.api import check, default_engine, render, render_event, render_many, validate
    from renderer.audience.triggers import Skip, TriggerOutcome
    from renderer.base.errors import (
        BatchStateError,
        ClusterError,
        CompileError,
        ContentMismatch,
        InvalidInput,
        PersonaFileError,
        PersonaFitError,
        Problem,
        RenderAborted,
        RendererError,
        TemplateError,
        TemplateNotFound,
    )
    from renderer.base.limits import Limits
    from renderer.base.models import Event, Product, Profile, RenderedEmail
    from renderer.batch.local import Failed, RenderRequest, Skipped
    from renderer.compile.pipeline import CompiledTemplate
    from renderer.devtools.check import CheckReport, Finding
    from renderer.engine import Engine
