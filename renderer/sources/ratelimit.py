"""A per-process rate limit in front of another recommendation source.

Worker processes share nothing, so a cluster-wide cap of R requests per
second is R / W per worker process: ``RateLimitedSource(source,
per_second=R / W)`` in the engine's config gives every worker its own
bucket of that size (see docs/scaling.md).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from renderer.base.errors import ConfigError
from renderer.base.models import Product, Profile
from renderer.sources.base import RecommendationSource, RecommendationUnavailable


class RateLimitedSource:
    """Ask ``source`` at most ``per_second`` times a second, on average, in this process.

    A call waits for its turn up to ``max_wait`` seconds; a call that would
    wait longer is refused at once (``RecommendationUnavailable``), so the
    email goes out with the template's fallback instead of stalling the
    batch. ``burst`` calls may go through back to back after a quiet spell.
    A pickled copy (a worker's) starts with a full bucket of its own.

    Raises:
        ValueError: ``per_second`` is not positive, ``burst`` < 1 or ``max_wait`` < 0.

    Example:
        >>> from renderer.sources import StaticSource
        >>> source = RateLimitedSource(StaticSource([]), per_second=50)
    """

    def __init__(self, source: RecommendationSource, *, per_second: float, burst: int = 1,
                 max_wait: float = 0.1, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if per_second <= 0 or burst < 1 or max_wait < 0:
            raise ConfigError("per_second must be positive, burst at least 1 and max_wait at least 0")
        self.source = source
        self.per_second = per_second
        self.burst = burst
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = clock()  # when the bucket is next full enough for one call (GCRA's arrival time)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the settings only: a copy gets a fresh bucket (and its source a fresh session)."""
        return (_rebuild, (self.source, self.per_second, self.burst, self.max_wait))

    def _turn(self) -> float:
        """Seconds to wait before this call may go; raises when that is over ``max_wait``."""
        interval = 1.0 / self.per_second
        with self._lock:
            now = self._clock()
            due = max(self._next, now)
            wait = due - now - (self.burst - 1) * interval
            if wait > self.max_wait:
                raise RecommendationUnavailable(f"rate limit of {self.per_second:g} requests/s reached")
            self._next = due + interval
        return max(wait, 0.0)

    def fetch(self, profile: Profile, limit: int) -> list[Product]:
        """The wrapped source's answer, once this process's rate allows it."""
        wait = self._turn()
        if wait:
            self._sleep(wait)
        return self.source.fetch(profile, limit)


def _rebuild(source: RecommendationSource, per_second: float, burst: int, max_wait: float) -> RateLimitedSource:
    return RateLimitedSource(source, per_second=per_second, burst=burst, max_wait=max_wait)
