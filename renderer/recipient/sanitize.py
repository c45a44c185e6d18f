"""Per-recipient clean-up of data on its way into a template: URLs, header lines, lengths.

:class:`Cleaner` applies it to one recipient's values and collects warnings.

Runs for several values of every recipient, so the common case costs one
memoised lookup or one length check (see benchmarks/bench_render.py).
HTML escaping is not done here: the HTML environment autoescapes every token.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from renderer.base.limits import Limits

URL_SCHEMES = ("https", "http", "mailto")
"""The only schemes a URL-valued token may carry; anything else is replaced."""

ELLIPSIS = "…"

# Never allowed in a URL: whitespace and controls (browsers drop tabs and line
# breaks, so "java\tscript:" would run as "javascript:"), zero-width and
# bidirectional formatting characters (they hide what a link really says),
# and the quotes and angle brackets a valid URL always percent-encodes.
_NOT_IN_URL = r"\s<>\"`\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff"
# An absolute http(s) URL with a host, or a mailto: address. Everything else
# (javascript:, data:, vbscript:, "//host", "/path", "&#106;avascript:") fails.
_SAFE_URL = re.compile(
    rf"(?:https?://[^{_NOT_IN_URL}/\\?#@]|mailto:[^{_NOT_IN_URL}])[^{_NOT_IN_URL}]*", re.IGNORECASE)

# C0 and C1 controls (CR, LF, NUL, NEL, ...) and the Unicode line and
# paragraph separators would end a header line; they become spaces.
_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Bidirectional embeddings, overrides and isolates can reorder the rest of an
# inbox line; names in right-to-left scripts display correctly without them.
_BIDI_CONTROLS = re.compile(r"[\u202a-\u202e\u2066-\u2069]")

_ZWJ = "\u200d"

# Control characters have no place in text shown to a person, and break XML
# parsers (lxml, many mail tools); tabs and line breaks are only whitespace.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


SAFE_URLS: set[str] = set()
"""URLs already found safe. Product URLs recur for thousands of recipients, so
callers test ``url in SAFE_URLS`` inline and call :func:`is_safe_url` only on a miss."""
_SAFE_URLS_MAX = 16384


def is_safe_url(url: str) -> bool:
    """Whether ``url`` is an absolute ``http(s)://host...`` URL or a ``mailto:`` link.

    >>> is_safe_url("https://fernhill.example/p/1"), is_safe_url("javascript:alert(1)")
    (True, False)
    """
    if url in SAFE_URLS:
        return True
    if _SAFE_URL.fullmatch(url) is None:
        return False
    if len(SAFE_URLS) >= _SAFE_URLS_MAX:
        SAFE_URLS.clear()  # a crude bound; the set refills with the URLs in use
    SAFE_URLS.add(url)
    return True


def excerpt(value: str, limit: int = 60) -> str:
    """A short, printable rendering of untrusted text for a warning message."""
    return repr(value if len(value) <= limit else value[:limit] + ELLIPSIS)


def header_text(value: str, limit: int | None = None) -> str:
    """One line, safe for a mail header, at most ``limit`` characters.

    Line breaks and other control characters become spaces, bidirectional
    controls are dropped, runs of whitespace collapse to one space, and text
    longer than ``limit`` is cut with an ellipsis (see :func:`clip`).
    """
    text = _HEADER_BREAKS.sub(" ", value)
    if not text.isascii():
        text = _BIDI_CONTROLS.sub("", text)
    text = " ".join(text.split())
    return clip(text, limit) if limit is not None and len(text) > limit else text


def _continues(text: str, index: int) -> bool:
    """Whether the character at ``index`` belongs to the one before it on screen."""
    char = text[index]
    if text[index - 1] == _ZWJ or char == _ZWJ:
        return True
    if "\ufe00" <= char <= "\ufe0f" or "\U0001f3fb" <= char <= "\U0001f3ff" or "\U000e0020" <= char <= "\U000e007f":
        return True  # variation selectors, skin tones, emoji tag characters
    return unicodedata.category(char) in ("Mn", "Mc", "Me")


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut.

    The cut never separates a letter from its combining marks or breaks an
    emoji sequence (ZWJ, variation selector, skin tone).

    >>> clip("Fernhill", 5)
    'Fern…'
    """
    if len(text) <= limit:
        return text
    end = max(limit - 1, 0)
    while 0 < end < len(text) and _continues(text, end):
        end -= 1
    return text[:end].rstrip() + ELLIPSIS


class Cleaner:
    """Replaces unsafe URLs and cuts over-long text for one recipient, noting each change.

    Callers test the common case inline (``url in SAFE_URLS``, a length check)
    and only call in here when something must change. Notes are grouped into
    one warning per kind of change, and kept only for tokens the template uses.
    """

    __slots__ = ("limits", "brand", "_notes")

    def __init__(self, limits: Limits, brand: dict[str, Any]) -> None:
        self.limits = limits
        self.brand = brand
        self._notes: dict[tuple[str, tuple[str, ...]], list[str]] | None = None

    def note(self, tokens: tuple[str, ...], kind: str, detail: str) -> None:
        if self._notes is None:
            self._notes = {}
        self._notes.setdefault((kind, tokens), []).append(detail)

    def fallback(self, image: bool = False) -> str:
        """The brand's ``placeholder_image`` (for images) or ``site_url``: where a bad or missing URL points."""
        for key in ("placeholder_image", "site_url") if image else ("site_url",):
            candidate = self.brand.get(key)
            if isinstance(candidate, str) and is_safe_url(candidate):
                return candidate
        return "#"

    def url(self, value: str | None, tokens: tuple[str, ...], field: str, item: str | None = None) -> str:
        """``value`` if it is a safe URL, else the fallback (noted unless the value was simply missing)."""
        if value is not None and is_safe_url(value):
            return value
        fallback = self.fallback(image=field.endswith("image_url"))
        if value is not None:
            detail = excerpt(value) if item is None else f"{item!r}: {excerpt(value)}"
            self.note(tokens, f"{field} replaced by {fallback} (only http, https and mailto: links are allowed)",
                      detail)
        return fallback

    def text(self, value: str, limit: int, tokens: tuple[str, ...], field: str, item: str | None = None) -> str:
        """``value`` without control characters, cut to ``limit`` (a cut is noted).

        Callers come here only when ``len(value) > limit or not value.isprintable()``.
        """
        if not value.isprintable():
            value = _CONTROLS.sub("", value)
        if len(value) <= limit:
            return value
        size = f"{len(value):,} characters"
        self.note(tokens, f"{field} cut to {limit} characters", size if item is None else f"{item!r}: {size}")
        return clip(value, limit)

    def warnings(self, used: frozenset[str] | None) -> list[str]:
        """One line per kind of change, for the tokens in ``used`` (all when ``None``)."""
        lines = []
        for (kind, tokens), details in (self._notes or {}).items():
            if used is None or not used.isdisjoint(tokens):
                more = f" and {len(details) - 3:,} more" if len(details) > 3 else ""
                lines.append(f"{kind} ({', '.join(details[:3])}{more})")
        return lines
