"""Recommendations from an HTTP API, fetched just before rendering.

Robust by construction: explicit connect/read timeouts, a total time budget
per recipient (default 300 ms) that a timer enforces on the connection itself
(``sources/deadline.py``: a server dripping its headers or body one byte at a
time is cut at the budget), retries of connect errors, 429 and 5xx
decided by urllib3's ``Retry`` (GET only; ``Retry-After`` honoured but capped
by the budget), a size limit on bodies, validation of the products, a TTL
cache (cachetools) and a circuit breaker (pybreaker) that stops calling a
failing API for a while. Every failure becomes RecommendationUnavailable
with a reason that names the host, never the query string or a header.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any
from urllib.parse import quote, urlsplit

from renderer.base.errors import ConfigError
from renderer.base.extras import needs_extra

with needs_extra("http", "HttpRecommendationSource"):
    import pybreaker
    import requests
    from cachetools import TTLCache
    from urllib3.util.retry import Retry

from renderer.base.models import Product, Profile
from renderer.sources import redact
from renderer.sources.base import RecommendationUnavailable, validate_payload
from renderer.sources.deadline import Deadline, DeadlineAdapter

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class _NotFound(RecommendationUnavailable):
    """The API has nothing for this profile: a fallback case, not an outage."""


class HttpRecommendationSource:
    """GET ``url_template`` (with ``{profile_id}`` and ``{limit}``) for each recipient.

    Args:
        url_template: e.g. ``"https://recs.example/v1/users/{profile_id}?limit={limit}"``.
        timeout: (connect, read) seconds for one attempt.
        budget: total seconds per recipient, retries and waits included; when it runs out the
            connection is cut, however the server sends (see ``sources/deadline.py``).
        retries: how many times to retry a connect error, 429 or 5xx.
        backoff: urllib3 backoff factor between retries (seconds).
        cache_ttl: seconds a successful answer is reused (0 disables the cache).
        cache_size: answers kept at most.
        max_items: products kept from one answer.
        max_bytes: a larger body is a failure.
        headers: sent with every request (e.g. an API key); never logged.
        breaker_failures: consecutive failures that open the circuit.
        breaker_reset: seconds the circuit stays open before one trial call.
        session: a requests Session to use (default: a new one); its ``http://`` and
            ``https://`` adapters are replaced by ones the budget can cut.

    Raises (from fetch):
        RecommendationUnavailable: with a reason that is safe to show.
    """

    def __init__(self, url_template: str, *, timeout: tuple[float, float] = (0.1, 0.25),
                 budget: float = 0.3, retries: int = 2, backoff: float = 0.02, cache_ttl: float = 300,
                 cache_size: int = 10_000, max_items: int = 50, max_bytes: int = 512 * 1024,
                 headers: dict[str, str] | None = None, breaker_failures: int = 5, breaker_reset: float = 30,
                 session: requests.Session | None = None) -> None:
        # Kept to rebuild an equivalent source in another process (see __reduce__).
        self._settings = dict(timeout=timeout, budget=budget, retries=retries, backoff=backoff,
                              cache_ttl=cache_ttl, cache_size=cache_size, max_items=max_items,
                              max_bytes=max_bytes, headers=dict(headers or {}),
                              breaker_failures=breaker_failures, breaker_reset=breaker_reset)
        if "{profile_id}" not in url_template:
            raise ConfigError("url_template must contain {profile_id}")
        if budget <= 0 or min(timeout) <= 0:
            raise ConfigError("budget and timeouts must be positive")
        if retries < 0 or max_items < 1 or max_bytes < 1:
            raise ConfigError("retries must be >= 0, max_items and max_bytes >= 1")
        self.url_template = url_template
        # The host names failures; a user:password@ before it must not show.
        netloc = urlsplit(url_template.replace("{", "").replace("}", "")).netloc
        self.host = netloc.rpartition("@")[2] or "the API"
        redact.install()
        self.timeout = timeout
        self.budget = budget
        self.retry = Retry(total=retries, connect=retries, read=0, status=retries, other=0, redirect=0,
                           allowed_methods=frozenset({"GET"}), status_forcelist=RETRY_STATUSES,
                           backoff_factor=backoff, respect_retry_after_header=True, raise_on_status=False)
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.headers = dict(headers or {})
        self.session = session or requests.Session()
        adapter = DeadlineAdapter()
        for prefix in ("http://", "https://"):
            self.session.mount(prefix, adapter)
        self.cache: TTLCache[str, list[Product]] | None = (
            TTLCache(maxsize=cache_size, ttl=cache_ttl) if cache_ttl > 0 else None)
        self._cache_lock = threading.Lock()
        self.breaker = pybreaker.CircuitBreaker(fail_max=breaker_failures, reset_timeout=breaker_reset,
                                                exclude=[_NotFound], throw_new_error_on_trip=False)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the settings only: a copy gets its own session, cache and breaker."""
        return (_rebuild, (self.url_template, self._settings))

    def fetch(self, profile: Profile, limit: int) -> list[Product]:
        """Up to ``limit`` products for ``profile``, from the cache or the API."""
        limit = max(1, min(limit, self.max_items))
        url = self.url_template.format(profile_id=quote(profile.id, safe=""), limit=limit)
        if self.cache is not None:
            with self._cache_lock:
                cached = self.cache.get(url)
            if cached is not None:
                return cached[:limit]
        try:
            products = self.breaker.call(self._fetch, url)
        except pybreaker.CircuitBreakerError:
            raise RecommendationUnavailable(
                f"{self.host} skipped: circuit open after {self.breaker.fail_max} consecutive failures "
                f"(next try within {self.breaker.reset_timeout:g} s)") from None
        products = products[: self.max_items]
        if self.cache is not None:
            with self._cache_lock:
                self.cache[url] = products
        return products[:limit]

    def _fetch(self, url: str) -> list[Product]:
        with Deadline(self.budget) as cutoff:
            return self._get(url, cutoff)

    def _get(self, url: str, cutoff: Deadline) -> list[Product]:
        deadline = cutoff.at
        retry = self.retry
        attempts = 0
        while True:
            attempts += 1
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RecommendationUnavailable(f"{self.host}: no answer within the {self._ms()} budget "
                                                f"({_attempts(attempts - 1)})")
            timeout = (min(self.timeout[0], remaining), min(self.timeout[1], remaining))
            try:
                response = self.session.get(url, headers=self.headers, timeout=timeout, stream=True,
                                            allow_redirects=False)
            except requests.Timeout:
                raise RecommendationUnavailable(
                    f"{self.host}: timed out ({_attempts(attempts)}, {self._ms()} budget)") from None
            except requests.ConnectionError as error:
                if cutoff.expired:
                    raise self._cut() from None
                try:
                    retry = retry.increment("GET", url, error=_as_urllib3(error))
                except Exception:
                    raise RecommendationUnavailable(f"{self.host}: cannot connect ({_attempts(attempts)})") from None
                self._wait(retry.get_backoff_time(), deadline, attempts)
                continue
            with response:
                if retry.is_retry("GET", response.status_code, "Retry-After" in response.headers):
                    try:
                        retry = retry.increment("GET", url, response=response.raw)
                    except Exception:
                        raise RecommendationUnavailable(
                            f"{self.host}: HTTP {response.status_code} after {_attempts(attempts)}") from None
                    after = retry.get_retry_after(response.raw) if retry.respect_retry_after_header else None
                    self._wait(after if after is not None else retry.get_backoff_time(), deadline, attempts)
                    continue
                if response.status_code == 404:
                    raise _NotFound(f"{self.host}: HTTP 404, no recommendations for this profile")
                if response.status_code != 200:
                    raise RecommendationUnavailable(f"{self.host}: HTTP {response.status_code}")
                body = self._read(response, cutoff)
            try:
                data = json.loads(body)
            except ValueError:
                raise RecommendationUnavailable(f"{self.host}: the answer is not JSON") from None
            return validate_payload(data, origin=self.host)

    def _read(self, response: requests.Response, cutoff: Deadline) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=16384):
                size += len(chunk)
                if size > self.max_bytes:
                    raise RecommendationUnavailable(f"{self.host}: answer larger than {self.max_bytes:,} bytes")
                if time.monotonic() > cutoff.at:
                    raise self._cut()
                chunks.append(chunk)
        except requests.RequestException:
            if cutoff.expired:
                raise self._cut() from None
            raise RecommendationUnavailable(f"{self.host}: the answer was cut off or too slow") from None
        if cutoff.expired:
            # A body without a length ends where the cut ended it: it is not the answer.
            raise self._cut()
        return b"".join(chunks)

    def _cut(self) -> RecommendationUnavailable:
        return RecommendationUnavailable(
            f"{self.host}: timed out, no complete answer within the {self._ms()} budget")

    def _wait(self, seconds: float, deadline: float, attempts: int) -> None:
        """Sleep before a retry, unless the wait would overrun the budget."""
        if time.monotonic() + seconds >= deadline:
            raise RecommendationUnavailable(
                f"{self.host}: gave up after {_attempts(attempts)}; the next retry would exceed the "
                f"{self._ms()} budget")
        time.sleep(seconds)

    def _ms(self) -> str:
        return f"{self.budget * 1000:.0f} ms"


def _rebuild(url_template: str, settings: dict[str, Any]) -> HttpRecommendationSource:
    return HttpRecommendationSource(url_template, **settings)


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"


def _as_urllib3(error: Exception) -> Exception:
    # Retry.increment classifies by urllib3's exception types; requests wraps them.
    from urllib3.exceptions import NewConnectionError, ProtocolError

    cause: Any = error.args[0] if error.args else None
    reason = getattr(cause, "reason", None)
    if isinstance(reason, NewConnectionError) or isinstance(cause, NewConnectionError):
        return reason if isinstance(reason, NewConnectionError) else cause
    return ProtocolError(str(error))
