"""Run the preview app with uvicorn: in the foreground, or in a thread (tests, tools)."""

from __future__ import annotations

import contextlib
import socket
import threading
import webbrowser
from types import FrameType
from typing import Callable, Iterator

import uvicorn
from starlette.applications import Starlette

from renderer.base.errors import RendererError
from renderer.devtools.preview import DEFAULT_HOST, DEFAULT_PORT


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


class _Server(uvicorn.Server):
    """uvicorn's server, which says when it can answer and ends the live-reload streams on Ctrl+C.

    Without the latter, a stopping server waits for every open page's event
    stream (they never end by themselves) until its graceful-shutdown timeout.
    """

    def __init__(self, app: Starlette, on_started: Callable[[], None]) -> None:
        super().__init__(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                        timeout_graceful_shutdown=1))
        self._app = app
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._on_started()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._app.state.hub.close_threadsafe()


def _announce(message: str) -> None:
    print(message, flush=True)


def serve(app: Starlette, sock: socket.socket, *, open_browser: bool = False,
          announce: Callable[[str], None] = _announce) -> None:
    """Serve ``app`` on ``sock`` until interrupted (Ctrl+C).

    The URL is announced once the server answers requests (the app's start-up,
    which starts the background compiler, is done); Ctrl+C stops it at once:
    open event streams are ended, a compile in progress is left to its thread.
    """
    url = url_of(sock)

    def started() -> None:
        announce(f"Preview running at {url} (Ctrl+C to stop)")
        if open_browser:
            threading.Thread(target=webbrowser.open, args=[url], daemon=True).start()

    # uvicorn shuts down gracefully, then re-raises the Ctrl+C it caught
    # (unless SIGINT was ignored, as in a shell's background job).
    with contextlib.suppress(KeyboardInterrupt):
        _Server(app, started).run(sockets=[sock])
    announce("Preview stopped.")


@contextlib.contextmanager
def serve_in_thread(app: Starlette, host: str = DEFAULT_HOST, port: int = 0,
                    *, timeout: float = 120.0) -> Iterator[str]:
    """Serve ``app`` from a background thread; yields its base URL once it answers, stops on exit.

    Raises:
        RendererError: the server thread ended, or did not start within ``timeout`` seconds.
    """
    sock = bind(host, port)
    ready = threading.Event()
    server = _Server(app, ready.set)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    waited = 0.0
    while not ready.wait(0.05):
        waited += 0.05
        if not thread.is_alive() or waited > timeout:
            sock.close()
            raise RendererError(f"the preview server did not start on {url_of(sock)}")
    try:
        yield url_of(sock)
    finally:
        app.state.hub.close_threadsafe()
        server.should_exit = True
        thread.join(timeout)
        sock.close()
