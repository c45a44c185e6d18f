"""Prometheus metrics of the service: renders, skips, failures by code, latency, the recommendation source.

With ``--workers N`` each worker is its own process; the supervisor then
sets ``PROMETHEUS_MULTIPROC_DIR`` (a private temporary folder) before
starting them, ``prometheus_client`` keeps each worker's values in memory
mapped files there, and ``/metrics``, whichever worker answers it, sums
them all. One observation costs a few microseconds.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, disable_created_metrics

disable_created_metrics()  # the *_created series double the output and say nothing a dashboard uses
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

RENDERS = Counter("renderer_renders", "Emails rendered.", ["endpoint", "template"])
SKIPS = Counter("renderer_skips", "Requests that produced no email on purpose, by code.", ["endpoint", "code"])
FAILURES = Counter("renderer_failures", "Requests or batch lines that failed, by code.", ["endpoint", "code"])
LATENCY = Histogram("renderer_request_seconds", "Time to answer a render, trigger or batch line.",
                    ["endpoint"], buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10))
SOURCE_ERRORS = Counter("renderer_recommendation_errors", "Renders whose recommendation source failed "
                        "(a fallback was used, or the render aborted).")
BREAKER_OPEN = Gauge("renderer_recommendation_breaker_open", "1 while the recommendation source's circuit "
                     "breaker is open (the source is not called), else 0.", multiprocess_mode="max")
GENERATION = Gauge("renderer_content_generation", "The content generation served (1 at start, +1 per "
                   "successful reload).", multiprocess_mode="min")


@functools.lru_cache(maxsize=4096)
def child(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, kept: the labelled series of a hot path without its checks each time.

    The label values come from the server (endpoints, template names it serves, error codes), never
    from a request as such, so the cache stays small.
    """
    return metric.labels(*labels)


def breaker_state(source: Any) -> str | None:
    """``closed``, ``open`` or ``half-open`` for a source with a pybreaker breaker; ``None`` otherwise."""
    breaker = getattr(source, "breaker", None)
    state = getattr(breaker, "current_state", None)
    return str(state) if state is not None else None


def observe_source(source: Any, warnings: list[str] | None = None, code: str | None = None) -> None:
    """Count a failed recommendation fetch (a warning, or an abort) and publish the breaker's state."""
    if code == "recommendations_unavailable" or any(w.startswith("recommendations unavailable")
                                                    for w in warnings or ()):
        SOURCE_ERRORS.inc()
    state = breaker_state(source)
    if state is not None:
        BREAKER_OPEN.set(1 if state == "open" else 0)


def exposition() -> tuple[bytes, str]:
    """The metrics as Prometheus text, summed over every worker when there are several."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
