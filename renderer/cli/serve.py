"""``renderer serve``: the command-line wiring of the render service (``renderer/service/``)."""

from __future__ import annotations

import argparse

# Imported by every ``renderer`` command: the web stack loads only when the service runs.
from renderer.base.errors import UsageError
from renderer.base.extras import needs_extra
from renderer.service import DEFAULT_HOST, DEFAULT_PORT


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``serve`` subcommand to the ``renderer`` parser."""
    serve = subparsers.add_parser(
        "serve", help="the render service: an HTTP API for callers in any language",
        description="Serve the engine over HTTP (JSON in, JSON out, under /v1; OpenAPI at /openapi.json). "
                    "API keys come from $RENDERER_API_KEYS (comma-separated) or --api-keys-file. "
                    "SIGHUP or POST /v1/admin/reload recompiles the content without downtime. "
                    "See docs/service.md.")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default: {DEFAULT_HOST})")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="worker processes, each compiling the templates once (default: 1; about one per core)")
    serve.add_argument("--api-keys-file", metavar="FILE", help="API keys, one a line (with or instead of "
                       "$RENDERER_API_KEYS); several keys let one be rotated")
    serve.add_argument("--insecure-no-auth", action="store_true",
                       help="serve without API keys (otherwise the server refuses to start without one)")
    serve.add_argument("--max-body", type=int, default=None, metavar="BYTES",
                       help="largest body of a single render or trigger (default: 1 MiB)")
    serve.add_argument("--max-batch-body", type=int, default=None, metavar="BYTES",
                       help="largest batch body (default: 1 GiB; each line at most 1 MiB)")
    serve.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                       help="time a single render or trigger may take before it is answered 503 (default: 10)")
    serve.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                       help="allow browser calls from this origin (repeatable; default: CORS off)")
    serve.add_argument("--recommendations-url", metavar="URL",
                       help="the server's recommendation source, a URL template with {profile_id} "
                       "(the http extra); requests can never name one")
    serve.add_argument("--access-log", action="store_true", help="log every request line (never its headers)")
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.templates or args.blocks or args.locales:
        raise UsageError("renderer serve takes a whole content project: use --content DIR "
                         "(not --templates, --blocks or --locales)")
    with needs_extra("serve", "renderer serve"):
        import prometheus_client  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401

        from renderer.service.config import ServiceConfig, load_keys
        from renderer.service.server import bind, serve

    options = {name: value for name, value in (
        ("max_body_bytes", args.max_body), ("max_batch_bytes", args.max_batch_body),
        ("time_budget", args.time_budget)) if value is not None}
    config = ServiceConfig(content=args.content, personas=args.personas, api_keys_file=args.api_keys_file,
                           insecure_no_auth=args.insecure_no_auth, cors_origins=tuple(args.cors_origin),
                           recommendations_url=args.recommendations_url, **options)
    keys = load_keys(config)  # no key and no --insecure-no-auth: refuse before binding anything
    if not len(keys):
        print("warning: serving WITHOUT API keys (--insecure-no-auth): anyone who reaches the port can render",
              flush=True)
    sock = bind(args.host, args.port)
    try:
        serve(config, sock, workers=args.workers, access_log=args.access_log,
              announce=lambda line: print(line, flush=True))
    finally:
        sock.close()
    return 0
