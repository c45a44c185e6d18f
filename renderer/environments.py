"""The three Jinja environments: compile-time assembly, HTML, and text.

* assembly: runs once per template, with square-bracket delimiters
  (``[[ param ]]``, ``[% if %]``) so that block parameters are filled in at
  compile time while recipient tokens (``{{ FirstName }}``) pass through;
* html: the per-recipient environment for the finished HTML (autoescape on);
* text: the per-recipient environment for subject, preheader and plain text.

All three are sandboxed: templates are written by people, not by us.
"""

from __future__ import annotations

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

TOKENS: frozenset[str] = frozenset(
    {
        "FirstName", "LastName", "FullName", "Email",
        "CustomerCity", "CustomerCountry",
        "LastPurchaseProduct", "LastPurchaseDate",
        "RecommendedProducts", "CartItems", "CartTotal", "CartUrl", "ViewedProducts",
        "Segments", "PrimarySegment", "Features", "Persona",
        "UnsubscribeUrl", "PreferencesUrl", "Attributes",
        "Locale", "Lang", "Dir", "Year",
        "Subject", "Preheader",
    }
)
"""Every name a template may use per recipient (see docs/tokens.md)."""

BLOCK_FLAGS = "_blocks"
"""Context name of the per-recipient list of block visibility flags."""


def _environment(**options: object) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
        **options,
    )


def assembly_environment() -> ImmutableSandboxedEnvironment:
    """Compile-time environment: fills ``[[ params ]]`` into block sources."""
    return _environment(
        autoescape=False,
        block_start_string="[%",
        block_end_string="%]",
        variable_start_string="[[",
        variable_end_string="]]",
        comment_start_string="[#",
        comment_end_string="#]",
    )


def html_environment() -> ImmutableSandboxedEnvironment:
    """Per-recipient environment for HTML: every token is autoescaped."""
    return _environment(autoescape=True)


def text_environment() -> ImmutableSandboxedEnvironment:
    """Per-recipient environment for subject, preheader and the text part."""
    return _environment(autoescape=False)
