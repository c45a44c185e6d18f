"""The engine a service worker serves, compiled in the background and swapped whole.

A worker starts answering at once (``/healthz``); it is ready (``/readyz``)
once every template is compiled in every language. A reload (``POST
/v1/admin/reload`` or SIGHUP) builds a new :class:`Engine` beside the one
serving, compiles everything in a background thread and then swaps one
reference: a request holds the engine it started with, so it never sees
half of a reload. When a compile fails, the old engine keeps serving and
the error is reported in ``/readyz``.

The served engine has ``auto_reload`` off: content changes only by a
reload, so that every worker serves one known generation and no render
pays for checking the files.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from renderer.base.errors import RendererError
from renderer.content.locales import DEFAULT_LANGUAGE
from renderer.engine import Engine
from renderer.service.config import ServiceConfig

log = logging.getLogger("renderer.service")


@dataclass(frozen=True)
class Served:
    """One generation of content: the engine and what it was compiled from."""

    engine: Engine
    generation: int
    templates: tuple[str, ...]
    content_hash: str
    compiled_at: float
    seconds: float


def recommendation_source(config: ServiceConfig) -> Any:
    """The server's own recommendation source (``--recommendations-url``), or ``None``."""
    if not config.recommendations_url:
        return None
    from renderer.sources.http import HttpRecommendationSource

    return HttpRecommendationSource(config.recommendations_url)


def build(config: ServiceConfig, source: Any, generation: int, *, every_language: bool = True) -> Served:
    """A new engine over the content with every template compiled (in English, or in every language).

    Raises:
        RendererError: the content or a template is broken (file and line).
    """
    started = time.perf_counter()
    engine = Engine(config.content, personas=config.personas, recommendations=source, auto_reload=False)
    names = tuple(engine.template_names())
    for name in names:
        engine.compiled(name)
    engine.trigger_templates()
    engine.rules()
    if every_language:
        compile_languages(engine, names)
    return Served(engine, generation, names, engine.content_hash(), time.time(), time.perf_counter() - started)


def compile_languages(engine: Engine, names: tuple[str, ...]) -> None:
    """Every template in every language of the content (about 40 ms a template and language)."""
    for language in sorted(engine.languages() - {DEFAULT_LANGUAGE}):
        for name in names:
            engine.compiled(name, language)


class ServiceState:
    """What one worker serves: the current generation, and the last reload's outcome."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.source = recommendation_source(config)
        self.served: Served | None = None
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self._lock = threading.Lock()
        self._pending = False
        self._running = False
        self._done = threading.Condition(self._lock)

    @property
    def ready(self) -> bool:
        return self.served is not None

    def reload(self) -> None:
        """Start a (re)compile in a background thread; a request during one is queued behind it, once."""
        with self._lock:
            if self._running:
                self._pending = True
                return
            self._running = True
        threading.Thread(target=self._run, name="renderer-reload", daemon=True).start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the reloads under way to end; whether they did within ``timeout``."""
        with self._done:
            return self._done.wait_for(lambda: not self._running, timeout)

    def _run(self) -> None:
        while True:
            self._build_once()
            with self._lock:
                if not self._pending:
                    self._running = False
                    self._done.notify_all()
                    return
                self._pending = False

    def _build_once(self) -> None:
        previous = self.served
        generation = (previous.generation if previous else 0) + 1
        try:
            # The first start is ready once every template compiles in English (the other languages
            # follow, and a request in one of them meanwhile compiles its own); a reload swaps only
            # when everything is compiled, so that no request waits for a compile.
            served = build(self.config, self.source, generation, every_language=previous is not None)
            self.served = served  # the swap: one reference, atomic for every request that follows
            self.last_error = self.last_error_at = None
            log.info("worker %d ready: generation %d, %d templates compiled in %.1f s", os.getpid(),
                     generation, len(served.templates), served.seconds)
            if previous is None:
                compile_languages(served.engine, served.templates)
                log.info("worker %d: every language compiled (%s)", os.getpid(),
                         ", ".join(sorted(served.engine.languages() | {DEFAULT_LANGUAGE})))
        except RendererError as error:
            self.last_error, self.last_error_at = str(error), time.time()
            keeps = f"generation {previous.generation} keeps serving" if previous else "not ready"
            log.error("worker %d: the content failed to compile (%s): %s", os.getpid(), keeps, error)
        except Exception as error:  # a bug: keep serving what works, and say so
            self.last_error, self.last_error_at = f"internal error: {type(error).__name__}: {error}", time.time()
            log.exception("worker %d: the content failed to compile", os.getpid())

    def readiness(self, *, detailed: bool) -> dict[str, Any]:
        served = self.served
        answer: dict[str, Any] = {"ready": served is not None, "pid": os.getpid(),
                                  "generation": served.generation if served else 0,
                                  "reloading": self._running}
        if detailed:
            if served is not None:
                answer.update(templates=list(served.templates), content_hash=served.content_hash,
                              compiled_at=served.compiled_at, compile_seconds=round(served.seconds, 3))
            answer["last_reload_error"] = self.last_error
        elif self.last_error:
            answer["last_reload_error"] = "the last reload failed (details with an API key)"
        return answer
