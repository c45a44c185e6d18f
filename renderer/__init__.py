"""Personalized email rendering: MJML blocks compiled once, rendered per recipient.

Example:
    >>> from renderer import render
    >>> email = render("welcome", profile={"id": "c1", "email": "ana@example.com", "first_name": "Ana"})
    >>> email.subject
    'Welcome to Fernhill, Ana'
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .batch import Failed, RenderRequest, Skipped, render_many
from .check import CheckReport, Finding
from .compiler import CompiledTemplate
from .engine import Engine
from .limits import Limits
from .errors import (
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
from .models import Event, Product, Profile, RenderedEmail

__all__ = [
    "CheckReport",
    "ClusterError",
    "CompileError",
    "CompiledTemplate",
    "ContentMismatch",
    "Engine",
    "Event",
    "Failed",
    "Finding",
    "InvalidInput",
    "Limits",
    "PersonaFileError",
    "PersonaFitError",
    "Problem",
    "Product",
    "Profile",
    "RenderAborted",
    "RenderRequest",
    "RenderedEmail",
    "RendererError",
    "Skipped",
    "TemplateError",
    "TemplateNotFound",
    "default_engine",
    "render",
    "render_many",
]

_default_engine: Engine | None = None


def default_engine() -> Engine:
    """The shared Engine over the bundled content, created on first use."""
    global _default_engine
    if _default_engine is None:
        _default_engine = Engine()
    return _default_engine


def render(template: str, *, profile: Profile | dict[str, Any],
           recommendations: list[Product] | list[dict[str, Any]] | None = None,
           event: Event | dict[str, Any] | None = None, now: datetime | None = None) -> RenderedEmail:
    """Render one email with the default Engine; see :meth:`Engine.render`."""
    return default_engine().render(template, profile=profile, recommendations=recommendations,
                                   event=event, now=now)
