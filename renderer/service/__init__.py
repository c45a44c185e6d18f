"""The render service: the engine behind an HTTP API, for callers in any language.

From the command line: ``renderer serve [--content DIR] [--host 127.0.0.1]
[--port 8080] [--workers N]`` (the ``serve`` extra: starlette, uvicorn,
prometheus-client). Modules, bottom up:

- ``config``   - :class:`ServiceConfig` (what every worker process needs) and the API keys;
- ``problems`` - RFC 9457 problem+json answers, one per error of the library;
- ``models``   - the request and response bodies (pydantic), for validation and OpenAPI;
- ``state``    - the engine being served, its background (re)compilation and atomic swap;
- ``metrics``  - Prometheus counters and the latency histogram (shared across workers);
- ``runner``   - the threads that renders run in, answered at their time budget;
- ``batch``    - the NDJSON batch: request body spooled in, records streamed out in order;
- ``openapi``  - ``/openapi.json`` from the same models as ``schemas/``;
- ``single``   - the hot path: ``POST /v1/render/{template}`` and ``/v1/trigger`` in plain ASGI;
- ``app``      - the routes, the key check, body limits and content types;
- ``server``   - uvicorn, one process or several, SIGHUP to reload.

This package imports nothing itself, so that the ``renderer`` command does
not load the web stack unless the service runs. The CLI wiring is
``renderer/cli/serve.py``; how to run and size it is ``docs/service.md``.
"""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
