"""Run the preview app with uvicorn: in the foreground, or in a thread (tests, tools)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import webbrowser
from typing import Callable, Iterator

import uvicorn
from starlette.applications import Starlette

from ..errors import RendererError
from .commands import DEFAULT_HOST, DEFAULT_PORT


def bind(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port), for uvicorn to serve.

    Binding here, before uvicorn starts, turns "address already in use" into
    an ``OSError`` the CLI reports in one line, instead of uvicorn's exit;
    listening at once queues the first requests instead of refusing them.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _server(app: Starlette) -> uvicorn.Server:
    # Open live-reload streams never end by themselves: give them a second on shutdown.
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=1)
    return uvicorn.Server(config)


def _announce(message: str) -> None:
    print(message, flush=True)


def serve(app: Starlette, sock: socket.socket, *, open_browser: bool = False,
          announce: Callable[[str], None] = _announce) -> None:
    """Serve ``app`` on ``sock`` until interrupted (Ctrl+C)."""
    url = url_of(sock)
    announce(f"Preview running at {url} (Ctrl+C to stop)")
    if open_browser:
        threading.Timer(0.6, webbrowser.open, [url]).start()
    try:
        _server(app).run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully, then re-raises the Ctrl+C it caught.
        announce("Preview stopped.")


@contextlib.contextmanager
def serve_in_thread(app: Starlette, host: str = DEFAULT_HOST, port: int = 0,
                    *, timeout: float = 10.0) -> Iterator[str]:
    """Serve ``app`` from a background thread; yields its base URL, stops on exit.

    Raises:
        RendererError: the server did not start within ``timeout`` seconds.
    """
    sock = bind(host, port)
    server = _server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RendererError(f"the preview server did not start on {url_of(sock)}")
        time.sleep(0.02)
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
