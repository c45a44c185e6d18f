"""Run the service with uvicorn: one process, or a supervisor and ``--workers N`` processes.

The socket is bound here first (an address in use is a one-line error, as
for the preview: ``devtools/preview/server.bind``), then shared by every
worker. Each worker builds its own app and compiles the templates once;
it logs ``worker PID ready: generation G`` when it can render.

SIGHUP reloads the content without downtime. With one process the app
handles it itself; with several, uvicorn's supervisor would restart the
workers, so :class:`Supervisor` passes the signal on to each worker
instead, and each recompiles beside the engine it serves and swaps
(``state.py``): a broken edit leaves every worker serving the old content.
SIGINT and SIGTERM stop the server gracefully.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import tempfile
from typing import Callable

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from renderer.devtools.preview.server import bind, url_of
from renderer.service.config import CONFIG_ENV, SUPERVISOR_ENV, ServiceConfig
from renderer.service.metrics import MULTIPROC_ENV

__all__ = ["Supervisor", "bind", "serve", "url_of"]


class Supervisor(Multiprocess):
    """uvicorn's worker supervisor, where SIGHUP means "reload the content" rather than "restart"."""

    def handle_hup(self) -> None:
        for process in self.processes:
            if process.pid is not None and process.exitcode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGHUP)


def _uvicorn_options(access_log: bool, log_level: str) -> dict[str, object]:
    # timeout_graceful_shutdown: a batch stream in progress gets this long to finish on SIGTERM.
    # uvicorn writes its access lines at the info level.
    return {"log_level": "info" if access_log else log_level, "access_log": access_log, "lifespan": "on", "timeout_graceful_shutdown": 30,
            "server_header": False, "timeout_keep_alive": 30}


def serve(config: ServiceConfig, sock: socket.socket, *, workers: int = 1, access_log: bool = False,
          log_level: str = "warning", announce: Callable[[str], None] = print) -> None:
    """Serve until SIGINT or SIGTERM, on ``sock``, in one process or ``workers`` of them.

    Raises:
        ConfigError: no API key is configured (checked before any worker starts).
    """
    from renderer.service.app import create_app

    url = url_of(sock)
    if workers <= 1:
        app = create_app(config)
        announce(f"Serving the render API at {url} (1 process; SIGHUP reloads the content)")
        # uvicorn stops gracefully on SIGINT or SIGTERM, then raises the signal again for the handler
        # it found: for SIGTERM let that be a no-op, so that a stop by a process manager exits 0.
        previous = signal.signal(signal.SIGTERM, lambda number, frame: None)
        try:
            with contextlib.suppress(KeyboardInterrupt):
                uvicorn.Server(uvicorn.Config(app, **_uvicorn_options(access_log, log_level))).run(sockets=[sock])
        finally:
            signal.signal(signal.SIGTERM, previous)
        announce("Service stopped.")
        return
    # Every worker reads its settings (never the keys) from the environment of its spawn.
    metrics_dir = tempfile.mkdtemp(prefix="renderer-metrics-")
    saved = {name: os.environ.get(name) for name in (CONFIG_ENV, SUPERVISOR_ENV, MULTIPROC_ENV)}
    os.environ.update({CONFIG_ENV: config.to_env(), SUPERVISOR_ENV: str(os.getpid()), MULTIPROC_ENV: metrics_dir})
    try:
        options = uvicorn.Config("renderer.service.app:app_from_environment", factory=True, workers=workers,
                                 **_uvicorn_options(access_log, log_level))
        announce(f"Serving the render API at {url} ({workers} worker processes; SIGHUP reloads the content)")
        Supervisor(options, sockets=[sock]).run()
        announce("Service stopped.")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(metrics_dir, ignore_errors=True)
