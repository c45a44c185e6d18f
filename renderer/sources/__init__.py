"""Recommendation sources: where ``RecommendedProducts`` come from when a render
is not given a payload. One protocol, one required method::

    class RecommendationSource(Protocol):
        def fetch(self, profile: Profile, limit: int) -> list[Product]: ...

A source raises :class:`RecommendationUnavailable` (with a reason that is safe
to show: no keys, no header values) when it cannot answer; the engine then
uses the template's fallback and records a warning.
"""

from __future__ import annotations

from .base import RecommendationSource, RecommendationUnavailable, StaticSource
from .http import HttpRecommendationSource
from .ratelimit import RateLimitedSource
from .recording import RecordingSource, ReplaySource

__all__ = [
    "HttpRecommendationSource",
    "RateLimitedSource",
    "RecommendationSource",
    "RecommendationUnavailable",
    "RecordingSource",
    "ReplaySource",
    "StaticSource",
]
