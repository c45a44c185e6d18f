"""Direction isolation of data in the blocks' text, once per template.

A price, a date, a count or a product name is data whose direction has
nothing to do with the sentence around it. In a right-to-left email the
Unicode bidi algorithm reorders the neutral characters at its edges
("48.00 US$" shows as "$US 48.00"), and an English name that wraps inside an
Arabic heading shows its pieces out of order. Isolating each value fixes
both: the value is laid out on its own, in its own direction, and then
placed in the sentence as one unit.

The isolate is a ``<bdi>`` element around the token, added here to every
output tag of the block's text (never to one inside a tag's attributes) that
prints a price, a date, a number or a name. A price's is ``dir="ltr"``:
Babel starts an Arabic or Hebrew price with a right-to-left mark, and in a
right-to-left isolate the "$" of "US$" then leaves its letters ("$US 48.00");
left to right, "48.00 US$" stays whole, while an Arabic or Hebrew currency
("ج.م.", "₪") still reads right to left inside it, as Babel meant.

- ``<bdi>`` is HTML's own isolate, with the direction of its first strong
  character, and it needs no ``dir="auto"`` attribute, which some webmail
  sanitizers strip; clients that drop the element itself keep its text, so
  nothing is lost where it is not understood.
- The FSI/PDI characters (U+2068/U+2069) would do the same in the text, but
  they travel with the data into every copy and paste and show as boxes in
  fonts and old clients that lack them. The plain-text part, which has no
  markup, uses them (LRI/PDI for a price) in right-to-left emails only, where
  without them a price reads "$US 48.00" (``renderer.compile.text``).

The same value in an attribute (``alt="{{ p.name }}"``) is left alone: an
attribute is one run of text, and markup cannot go there.
"""

from __future__ import annotations

import re
from typing import Callable, Iterator

FSI, LRI, PDI = "\u2068", "\u2066", "\u2069"
"""First strong and left-to-right isolates, and their end: the plain text's isolates."""

# A tag (its quoted attribute values may hold anything but their quote), a comment, or a Jinja tag.
_PIECES = re.compile(r"<!--.*?-->|<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_OUTPUT_TAG = re.compile(r"\{\{-?\s*(?P<path>[A-Za-z_][\w.]*)\s*(?P<filters>(?:\|[^}]*)?)-?\}\}")
_MONEY_ATTRIBUTES = frozenset({"price", "original_price", "line_total"})
_ISOLATED_ATTRIBUTES = _MONEY_ATTRIBUTES | {"name", "quantity"}
"""Attributes of products and cart items that print data (``p.price``, ``item.name``)."""
_MONEY_TOKENS = frozenset({"CartTotal"})
_ISOLATED_TOKENS = _MONEY_TOKENS | {"CartItemsMore", "LastPurchaseDate", "Year"}
_ISOLATED_FILTERS = re.compile(r"\|\s*(?:money|date)\b")
_MONEY_FILTER = re.compile(r"\|\s*money\b")
_BDI = re.compile(r"<(/?)bdi\b", re.I)


def pieces(source: str) -> Iterator[tuple[str, str]]:
    """``(kind, text)`` in order: ``text`` between tags, ``tag`` for markup, ``jinja`` for Jinja tags."""
    position = 0
    for match in _PIECES.finditer(source):
        if match.start() > position:
            yield "text", source[position:match.start()]
        yield ("jinja" if match.group(0).startswith("{") else "tag"), match.group(0)
        position = match.end()
    if position < len(source):
        yield "text", source[position:]


def token_kind(tag: str) -> str | None:
    """``money``, ``data`` (a date, a number, a name) or None: what a Jinja output tag prints."""
    match = _OUTPUT_TAG.fullmatch(tag)
    if match is None:
        return None
    path, filters = match.group("path"), match.group("filters")
    last = path.rsplit(".", 1)[-1]
    if _MONEY_FILTER.search(filters) or path in _MONEY_TOKENS or ("." in path and last in _MONEY_ATTRIBUTES):
        return "money"
    if _ISOLATED_FILTERS.search(filters) or path in _ISOLATED_TOKENS or ("." in path and last in _ISOLATED_ATTRIBUTES):
        return "data"
    return None


def _bdi(tag: str, kind: str) -> str:
    return f'<bdi dir="ltr">{tag}</bdi>' if kind == "money" else f"<bdi>{tag}</bdi>"


def isolate_tokens(source: str, wrap: Callable[[str, str], str] = _bdi) -> str:
    """``source`` (MJML or HTML with Jinja tags) with each data token of its text in a ``<bdi>``.

    A token already inside a ``<bdi>`` (the footer's copyright line) is left as it is.
    """
    out: list[str] = []
    depth = 0
    for kind, text in pieces(source):
        if kind == "tag":
            bdi = _BDI.match(text)
            if bdi is not None:
                depth = max(0, depth + (-1 if bdi.group(1) else 1))
        elif kind == "jinja" and depth == 0 and (found := token_kind(text)) is not None:
            text = wrap(text, found)
        out.append(text)
    return "".join(out)
