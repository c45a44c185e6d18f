"""The per-recipient ``utm`` filter: UTM parameters on a token's URL, memoised.

Static links are tagged once, at assembly (``renderer.compile.links``), with
the same :func:`tag_url`; a link made of a token is tagged per recipient.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit


@lru_cache(maxsize=8192)
def tag_url(url: str, query: str, domains: tuple[str, ...]) -> str:
    """``url`` with ``query`` appended when it points at one of ``domains`` (memoised)."""
    if not url[:8].lower().startswith(("https://", "http://")):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    host = (parts.hostname or "").lower()
    if not any(host == d or host.endswith("." + d) for d in domains):
        return url
    if "utm_" in parts.query:
        return url
    joined = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, joined, parts.fragment))


def utm_filter(url: Any, query: str, domains: tuple[str, ...]) -> Any:
    """The per-recipient ``utm`` filter: tag a token's URL (``None`` and non-strings pass)."""
    return tag_url(url, query, domains) if isinstance(url, str) else url
