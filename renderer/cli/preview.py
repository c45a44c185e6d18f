"""``renderer preview``: the command-line wiring of the preview server."""

from __future__ import annotations

import argparse

# Imported by every ``renderer`` command: the web stack loads only when the preview runs.
from renderer.base.extras import needs_extra
from renderer.cli.args import content_from_args
from renderer.devtools.preview import DEFAULT_HOST, DEFAULT_PORT


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``preview`` subcommand to the ``renderer`` parser."""
    preview = subparsers.add_parser(
        "preview", help="live preview server: gallery, desktop and mobile views, live reload",
        description="Serve a live preview of every template x fixture profile. Saving a block, "
                    "template, segment rule or fixture updates open pages within a second.")
    preview.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default: {DEFAULT_HOST})")
    preview.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    preview.add_argument("--open", action="store_true", help="open the gallery in a web browser")
    preview.set_defaults(func=cmd_preview)


def cmd_preview(args: argparse.Namespace) -> int:
    try:
        with needs_extra("preview", "renderer preview"):
            from renderer.devtools.preview.app import create_app
            from renderer.devtools.preview.project import PreviewProject
            from renderer.devtools.preview.server import bind, serve

        paths = content_from_args(args)
        project = PreviewProject(paths)
        sock = bind(args.host, args.port)
        try:
            serve(create_app(project, host=args.host), sock, open_browser=args.open)
        finally:
            sock.close()
    except KeyboardInterrupt:
        # Ctrl+C before the server runs (it handles its own): the same quiet stop.
        print("Preview stopped.", flush=True)
    return 0
