"""The three Jinja environments: compile-time assembly, HTML, and text.

* assembly: runs once per template, with square-bracket delimiters
  (``[[ param ]]``, ``[% if %]``) so that block parameters are filled in at
  compile time while recipient tokens (``{{ FirstName }}``) pass through;
* html: the per-recipient environment for the finished HTML (autoescape on);
* text: the per-recipient environment for subject, preheader and plain text.

All three are sandboxed: templates are written by people, not by us. What
the sandbox refuses is listed in docs/security.md.
"""

from __future__ import annotations

from typing import Any

import jinja2
from jinja2 import StrictUndefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import MAX_RANGE, ImmutableSandboxedEnvironment

from renderer.sandbox.filters import FILTERS
from renderer.sandbox.phrasing import phrases_filter, plain_phrases_filter
from renderer.sandbox.text_width import underline
from renderer.sandbox.urls import utm_filter

TOKENS: frozenset[str] = frozenset(
    {
        "FirstName", "LastName", "FullName", "Email",
        "CustomerCity", "CustomerCountry",
        "LastPurchaseProduct", "LastPurchaseDate",
        "RecommendedProducts", "CartItems", "CartItemsMore", "CartTotal", "CartUrl", "ViewedProducts",
        "Segments", "PrimarySegment", "Features", "Persona",
        "UnsubscribeUrl", "UnsubscribeMailto", "PreferencesUrl", "Attributes",
        "Locale", "Lang", "Dir", "Year",
        "Subject", "Preheader",
    }
)
"""Every name a template may use per recipient (see docs/tokens.md)."""

BLOCK_FLAGS = "_blocks"
"""Context name of the per-recipient list of block visibility flags."""


MAX_INT_BITS = 4096
"""The largest integer (in bits) that ``*`` or ``**`` may produce in a template."""


def _repeat_size(sequence: Any, count: Any) -> int:
    if isinstance(sequence, (str, list, tuple)) and isinstance(count, int):
        return len(sequence) * count
    return 0


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with ``*`` and ``**`` bounded like ``range()``.

    ``'x' * 10**10`` or ``10**10**10`` would otherwise exhaust memory or time,
    and Jinja folds constant expressions while *compiling*, so even a template
    that is never rendered could hang the compiler. Intercepted operators are
    never folded; they run through :meth:`call_binop` at render time, where
    results larger than ``MAX_RANGE`` items or :data:`MAX_INT_BITS` bits are
    refused with a SecurityError.
    """

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            size = max(_repeat_size(left, right), _repeat_size(right, left))
            if size > MAX_RANGE:
                raise SecurityError(f"'*' would build {size:,} items; templates may build at most {MAX_RANGE:,}")
            if isinstance(left, int) and isinstance(right, int) \
                    and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise SecurityError(f"'*' would build an integer of more than {MAX_INT_BITS} bits")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) \
                and abs(left) > 1 and right > 0 and left.bit_length() * right > MAX_INT_BITS:
            raise SecurityError(f"'**' would build an integer of more than {MAX_INT_BITS} bits")
        return super().call_binop(context, operator, left, right)


class _Sandbox(BoundedSandbox):
    """The bounded immutable sandbox, with a fast path for ``product.name`` on plain dicts.

    Jinja resolves ``x.name`` by trying the attribute first; on a dict that
    raises AttributeError and then looks up the key, and the sandbox checks
    every attribute it returns. Token values are plain dicts built by the
    engine, read dozens of times per email, so a key present in a plain dict
    is returned directly (the same value Jinja would find second); anything
    else goes through the sandbox's checks unchanged.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def render_fast(template: jinja2.Template, context: dict[str, Any]) -> str:
    """Render with ``context`` used as is: no copy, no merge with the globals.

    ``Template.render`` copies the context into a new dict merged with the
    environment's globals (a ChainMap, iterated twice per render). A recipient's
    email is several renders over one context, so the caller builds the context
    once, with :data:`GLOBALS` in it, and every render shares it; templates can
    only set their own local variables, never change the shared dict.
    """
    environment = template.environment
    context_object = environment.context_class(environment, context, template.name, template.blocks)
    try:
        return environment.concat(template.root_render_func(context_object))  # type: ignore[attr-defined]
    except Exception:
        environment.handle_exception()
    raise AssertionError("unreachable: handle_exception always raises")


def _environment(**options: Any) -> BoundedSandbox:
    return _Sandbox(
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
        **options,
    )


def _recipient_environment(**options: Any) -> ImmutableSandboxedEnvironment:
    environment = _environment(**options)
    # Links made of tokens are tagged with UTM parameters per recipient (sandbox/urls.py; static links are tagged in compile/links.py).
    environment.filters["utm"] = utm_filter
    environment.filters.update(FILTERS)
    return environment


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
    environment = _recipient_environment(autoescape=True)
    # Product names in Japanese and Chinese emails break between phrases (compile/phrases.py).
    environment.filters["phrases"] = phrases_filter
    return environment


def text_environment() -> ImmutableSandboxedEnvironment:
    """Per-recipient environment for subject, preheader and the text part."""
    environment = _recipient_environment(autoescape=False)
    # Headings whose width depends on a token are underlined per recipient.
    environment.filters["underline"] = underline
    environment.filters["phrases"] = plain_phrases_filter
    return environment


GLOBALS: dict[str, Any] = dict(html_environment().globals)
"""Jinja's default globals (range, dict, namespace, ...), merged into every context once."""
