"""Recommendation sources: where ``RecommendedProducts`` come from when a render
is not given a payload. One protocol, one required method::

    class RecommendationSource(Protocol):
        def fetch(self, profile: Profile, limit: int) -> list[Product]: ...

A source raises :class:`RecommendationUnavailable` (with a reason that is safe
to show: no keys, no header values) when it cannot answer; the engine then
uses the template's fallback and records a warning.

The HTTP source needs the ``http`` extra (``pip install 'renderer[http]'``);
the names here load on first use, so importing this package costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from renderer.base.lazy import lazy_names

_EXPORTS = {
    "RecommendationSource": "renderer.sources.base",
    "RecommendationUnavailable": "renderer.sources.base",
    "StaticSource": "renderer.sources.base",
    "HttpRecommendationSource": "renderer.sources.http",
    "RateLimitedSource": "renderer.sources.ratelimit",
    "RecordingSource": "renderer.sources.recording",
    "ReplaySource": "renderer.sources.recording",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_names(globals(), _EXPORTS)


if TYPE_CHECKING:
    from renderer.sources.base import RecommendationSource, RecommendationUnavailable, StaticSource
    from renderer.sources.http import HttpRecommendationSource
    from renderer.sources.ratelimit import RateLimitedSource
    from renderer.sources.recording import RecordingSource, ReplaySource
