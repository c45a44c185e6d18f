"""The three Jinja environments: compile-time assembly, HTML, and text.

* assembly: runs once per template, with square-bracket delimiters
  (``[[ param ]]``, ``[% if %]``) so that block parameters are filled in at
  compile time while recipient tokens (``{{ FirstName }}``) pass through;
* html: the per-recipient environment for the finished HTML (autoescape on);
* text: the per-recipient environment for subject, preheader and plain text.

All three are sandboxed: templates are written by people, not by us. What
the sandbox refuses, and the work budget every render carries
(``budget.py``, ``bounded.py``), are listed in docs/security.md, section 4.
"""

from __future__ import annotations

from functools import update_wrapper
from types import BuiltinMethodType, MethodType
from typing import Any

import jinja2
from jinja2 import StrictUndefined
from jinja2.exceptions import SecurityError
from jinja2.runtime import LoopContext, Macro
from jinja2.sandbox import MAX_RANGE, ImmutableSandboxedEnvironment
from markupsafe import Markup

from renderer.sandbox import budget
from renderer.sandbox.bounded import BOUNDED_FILTERS, STR_METHOD_WIDTHS, lipsum, replaced_size
from renderer.sandbox.escaping import escape_output
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
        "PredictedChurn", "PredictedValue",
        "UnsubscribeUrl", "UnsubscribeMailto", "PreferencesUrl", "Attributes",
        "Locale", "Lang", "Dir", "Year",
        "Subject", "Preheader",
    }
)
"""Every name a template may use per recipient (see docs/tokens.md)."""

BLOCK_FLAGS = "_blocks"
"""Context name of the per-recipient list of block visibility flags."""

VARIANTS = "_variants"
"""Context name of the per-recipient experiment -> outcome: a variant, or ``holdout`` (shown the control's content)."""


MAX_INT_BITS = 4096
"""The largest integer (in bits) that ``*`` or ``**`` may produce in a template."""


def _repeat_size(sequence: Any, count: Any) -> int:
    if isinstance(sequence, (str, list, tuple)) and isinstance(count, int):
        return len(sequence) * count
    return 0


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with a work budget per render (``budget.py``).

    Every render's loops, text built and output are counted against the
    budgets of ``renderer/sandbox/budget.py``; ``center``, ``indent``,
    ``format``, ``lipsum``, ``batch``, ``slice``, ``replace``, ``join``, the
    width-taking ``str`` methods and format specs are checked by value
    (``bounded.py``); ``*`` and ``**`` are bounded like ``range()``.

    ``'x' * 10**10`` or ``10**10**10`` would otherwise exhaust memory or time,
    and Jinja folds constant expressions while *compiling*, so even a template
    that is never rendered could hang the compiler. Intercepted operators are
    never folded, nor are the bounded filters (they take the context); they
    run at render time, where results larger than ``MAX_RANGE`` items or
    :data:`MAX_INT_BITS` bits are refused with a SecurityError.
    """

    intercepted_binops = frozenset({"*", "**", "%"})
    code_generator_class = budget.BudgetCodeGenerator
    context_class = budget.BudgetContext
    concat = staticmethod(budget.bounded_concat)
    loop_items = staticmethod(budget.loop_items)
    text_buffer = staticmethod(budget.TextBuffer)
    built = staticmethod(budget.built)
    escape_output = staticmethod(escape_output)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters.update(BOUNDED_FILTERS)
        self.globals["lipsum"] = lipsum

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
        elif operator == "%":
            budget.check_percent(left, right)
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, str):
            budget.charge_text(context, len(result))
        return result

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """Call from template code: macro calls and loops re-entered by ``loop(...)`` are counted,
        widths checked, and what a call builds is charged to the render's budget."""
        if type(__obj) is Macro:
            budget.count_call(__context)
        elif type(__obj) is LoopContext and args:  # a recursive loop's next level
            args = (budget.loop_items(__context, args[0]), *args[1:])
        elif type(__obj) is BuiltinMethodType and isinstance(__obj.__self__, str):
            args = _checked_str_arguments(__context, __obj.__name__, __obj.__self__, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        kind = type(result)
        if kind is str or kind is Markup:
            budget.charge_text(__context, len(result))
        elif kind is range or kind is list or kind is tuple or kind is dict:
            budget.charge_items(__context, len(result))
        return result

    def wrap_str_format(self, value: Any) -> Any:
        """``str.format`` and ``format_map`` in the sandbox, with every width and precision checked."""
        if not isinstance(value, (MethodType, BuiltinMethodType)) or value.__name__ not in ("format", "format_map"):
            return None
        template = value.__self__
        if not isinstance(template, str):
            return None
        formatter: Any = (budget.BoundedEscapeFormatter(self, escape=template.escape)
                          if isinstance(template, Markup) else budget.BoundedFormatter(self))
        is_format_map = value.__name__ == "format_map"
        result_type = type(template)

        def wrapper(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one mapping argument")
                kwargs, args = args[0], ()
            return result_type(formatter.vformat(template, args, kwargs))

        return update_wrapper(wrapper, value)


def _checked_str_arguments(context: Any, name: str, text: str, args: tuple[Any, ...],
                           kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """The arguments of a ``str`` method called from a template, after refusing ``'x'.center(n)`` and friends beyond ``MAX_WIDTH``, and a ``replace`` or ``join``
    whose result would not fit the render's text budget."""
    if name in STR_METHOD_WIDTHS:
        for value in (*args, *kwargs.values()):
            budget.check_width(f"str.{name}() width", value)
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        size = replaced_size(text, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count"))
        if size > context.text_left:
            raise budget.BudgetExceeded(f"str.replace() would build {size:,} characters; "
                                        f"a render may build at most {budget.MAX_TEXT:,}")
    elif name == "join" and args and text:
        items = args[0] if type(args[0]) in (list, tuple) else list(args[0])
        budget.charge_items(context, len(items))
        if len(text) * max(len(items) - 1, 0) > context.text_left:
            raise budget.BudgetExceeded(f"str.join() would repeat its separator {len(items) - 1:,} times; "
                                        f"a render may build at most {budget.MAX_TEXT:,} characters")
        return (items, *args[1:])
    return args


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
