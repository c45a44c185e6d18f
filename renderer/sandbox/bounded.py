"""Jinja's built-in filters and globals that size their result, bounded by value at render time.

``'x'|center(n)``, ``s|indent(n)``, ``'%*d'|format(n, 1)``, ``lipsum(n)``,
``xs|batch(n, fill)`` or ``s|replace('', big)`` build as much as their
arguments ask; the arguments may come from a variable (``{% set n = ... %}``),
so the literal check in ``guard.py`` cannot see them. Each one here checks
its widths and counts against ``budget.MAX_WIDTH`` before doing the work and
charges what it built to the render's text budget; the filters that walk a
whole sequence charge its length as items (``budget.walking``).

``xmlattr`` turns a mapping's keys into attribute names; here it takes only
names from :data:`XMLATTR_NAMES` (plus ``data-*`` and ``aria-*``), so a
profile's ``Attributes`` can never become ``onmouseover=``.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import filters as jinja_filters
from jinja2 import pass_context
from jinja2.utils import generate_lorem_ipsum

from renderer.sandbox.budget import (
    MAX_TEXT,
    MAX_WIDTH,
    BudgetContext,
    BudgetExceeded,
    charge_items,
    charge_text,
    check_percent,
    check_width,
    walking,
)

XMLATTR_NAMES = frozenset({
    "align", "alt", "bgcolor", "border", "cellpadding", "cellspacing", "class", "color", "colspan",
    "dir", "height", "id", "lang", "name", "role", "rowspan", "title", "valign", "width",
})
"""The attribute names ``xmlattr`` writes: layout and description only; no event handler, link,
source or style (those would bypass the URL allow-list or the escaping of the markup)."""

_DATA_OR_ARIA = re.compile(r"(?:data|aria)-[a-z0-9]+(?:-[a-z0-9]+)*")

WALKING_FILTERS = ("dictsort", "groupby", "items", "list", "map", "max", "min", "pprint", "reject",
                   "rejectattr", "reverse", "select", "selectattr", "sort", "sum", "tojson", "unique")
"""Built-in filters that go through their whole input; each charges the input's length as items."""


def _charged(context: BudgetContext, result: Any) -> Any:
    if isinstance(result, str):
        charge_text(context, len(result))
    return result


@pass_context
def center(context: BudgetContext, value: Any, width: int = 80) -> Any:
    """Jinja's ``center``, with ``width`` at most ``MAX_WIDTH``."""
    check_width("center() width", width)
    return _charged(context, jinja_filters.do_center(value, width))


@pass_context
def indent(context: BudgetContext, value: Any, width: Any = 4, first: bool = False, blank: bool = False) -> Any:
    """Jinja's ``indent``, with a width at most ``MAX_WIDTH`` and a result within the text budget."""
    check_width("indent() width", width)
    indentation = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    lines = str(value).count("\n") + 1
    if indentation * lines > MAX_TEXT:
        raise BudgetExceeded(f"indent() would build {indentation * lines:,} characters of indentation; "
                             f"a render may build at most {MAX_TEXT:,}")
    return _charged(context, jinja_filters.do_indent(value, width, first, blank))


@pass_context
def format_(context: BudgetContext, value: Any, *args: Any, **kwargs: Any) -> Any:
    """Jinja's ``format`` (``'%s'|format(x)``), with widths and precisions at most ``MAX_WIDTH``."""
    check_percent(value, kwargs or args)
    return _charged(context, jinja_filters.do_format(value, *args, **kwargs))


def replaced_size(value: str, old: str, new: str, count: Any = None) -> int:
    """How long ``value.replace(old, new, count)`` would be, without building it."""
    found = len(value) + 1 if old == "" else value.count(old)
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(value) + found * (len(new) - len(old))


@pass_context
def replace(context: BudgetContext, value: Any, old: Any, new: Any, count: Any = None) -> Any:
    """Jinja's ``replace``, refused when the result would exceed the text budget."""
    if isinstance(value, str) and isinstance(old, str) and isinstance(new, str):
        size = replaced_size(value, old, new, count)
        if size > context.text_left:
            raise BudgetExceeded(f"replace() would build {size:,} characters; a render may build at most {MAX_TEXT:,}")
    return _charged(context, jinja_filters.do_replace(context.eval_ctx, value, old, new, count))


def joined_size(separator: str, items: list[Any]) -> int:
    """How long ``separator.join(items)`` would be, counting the strings among ``items``."""
    return len(separator) * max(len(items) - 1, 0) + sum(len(item) for item in items if isinstance(item, str))


@pass_context
def join(context: BudgetContext, value: Any, d: str = "", attribute: Any = None) -> Any:
    """Jinja's ``join``, refused when the separator repeated would exceed the text budget."""
    items = list(value) if not isinstance(value, str) else value
    charge_items(context, len(items))
    if isinstance(d, str) and not isinstance(items, str) and attribute is None:
        size = joined_size(d, items)
        if size > context.text_left:
            raise BudgetExceeded(f"join() would build {size:,} characters; a render may build at most {MAX_TEXT:,}")
    return _charged(context, jinja_filters.do_join(context.eval_ctx, items, d, attribute))


def batch(value: Any, linecount: int, fill_with: Any = None) -> Any:
    """Jinja's ``batch``, with ``linecount`` at most ``MAX_WIDTH`` (a fill pads the last batch up to it)."""
    check_width("batch() size", linecount)
    return jinja_filters.do_batch(value, linecount, fill_with)


def slice_(value: Any, slices: int, fill_with: Any = None) -> Any:
    """Jinja's ``slice``, with ``slices`` at most ``MAX_WIDTH``."""
    check_width("slice() count", slices)
    return jinja_filters.do_slice(value, slices, fill_with)


@pass_context
def wordwrap(context: BudgetContext, value: Any, width: int = 79, *args: Any, **kwargs: Any) -> Any:
    """Jinja's ``wordwrap``, its result charged to the text budget."""
    return _charged(context, jinja_filters.do_wordwrap(context.environment, value, width, *args, **kwargs))


@pass_context
def xmlattr(context: BudgetContext, mapping: Any, autospace: bool = True) -> Any:
    """Jinja's ``xmlattr``, writing only the attribute names of :data:`XMLATTR_NAMES`, ``data-*`` and ``aria-*``."""
    for key in getattr(mapping, "keys", lambda: ())():
        if not isinstance(key, str) or not (key in XMLATTR_NAMES or _DATA_OR_ARIA.fullmatch(key)):
            raise BudgetExceeded(f"xmlattr: {str(key)[:40]!r} is not an allowed attribute name "
                                 f"(allowed: {', '.join(sorted(XMLATTR_NAMES))}, data-*, aria-*)")
    return jinja_filters.do_xmlattr(context.eval_ctx, mapping, autospace)


def lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    """Jinja's ``lipsum``, with at most ``MAX_WIDTH`` words in all (``n`` paragraphs of up to ``max`` words)."""
    for what, value in (("lipsum() paragraphs", n), ("lipsum() words", min), ("lipsum() words", max)):
        if not isinstance(value, int):
            raise BudgetExceeded(f"{what} must be a whole number, not {value!r}")
        check_width(what, value)
    if n * max > MAX_WIDTH:
        raise BudgetExceeded(f"lipsum({n:,}, max={max:,}) could build {n * max:,} words; the limit is {MAX_WIDTH:,}")
    return generate_lorem_ipsum(n, html, min, max)


BOUNDED_FILTERS: dict[str, Any] = {
    **{name: walking(jinja_filters.FILTERS[name]) for name in WALKING_FILTERS if name in jinja_filters.FILTERS},
    "center": center, "indent": indent, "format": format_, "replace": replace, "join": join,
    "batch": batch, "slice": slice_, "wordwrap": wordwrap, "xmlattr": xmlattr,
}
"""Replacements for Jinja's built-in filters of the same names, in every sandboxed environment."""

STR_METHOD_WIDTHS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
"""``str`` methods whose integer argument is a width, checked against ``MAX_WIDTH`` in ``BoundedSandbox.call``."""
