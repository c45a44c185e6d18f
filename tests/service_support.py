"""Helpers for the service tests: ``renderer serve`` in a subprocess, waited for by what it prints.

The server is started on port 0 (the OS picks a free port, announced in its
first line); every wait is for a line of its output or an HTTP answer,
bounded generously (``PATIENCE``) so that only a hang fails, never a busy machine.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import httpx

from conftest import PROJECT_ROOT

PATIENCE = 180.0
"""Seconds any one wait may take before the test fails: far beyond a busy machine's slowest."""


def new_key() -> str:
    return secrets.token_urlsafe(32)


class ServiceProcess:
    """``renderer serve`` in a subprocess; every line it prints is kept in :attr:`lines`."""

    def __init__(self, *args: str, keys: list[str] | None = None, content: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.keys = keys if keys is not None else [new_key()]
        # Unbuffered: uvicorn's access lines go to standard output, which is a pipe here.
        environment = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), PYTHONUNBUFFERED="1", **(env or {}))
        environment.pop("RENDERER_API_KEYS", None)
        if self.keys:
            environment["RENDERER_API_KEYS"] = ",".join(self.keys)
        command = [sys.executable, "-m", "renderer", "serve", "--port", "0", *args]
        if content is not None:
            command += ["--content", str(content)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env=environment, cwd=PROJECT_ROOT)
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        line = self.wait_for(lambda line: "Serving the render API at" in line)
        self.url = re.search(r"at (http://\S+?)/? \(", line).group(1)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self.lines.append("")  # the end of the output
            self._changed.notify_all()

    def wait_for(self, matches: Callable[[str], bool], count: int = 1, start: int = 0) -> str:
        """The ``count``-th line from ``start`` on that ``matches``; fails if the output ends first."""
        with self._changed:
            def found() -> list[str] | None:
                hits = [line for line in self.lines[start:] if line and matches(line)]
                if len(hits) >= count or (self.lines and self.lines[-1] == ""):
                    return hits
                return None

            hits = self._changed.wait_for(found, PATIENCE)
            assert hits is not None and len(hits) >= count, f"not printed in time:\n{self.output}"
            return hits[count - 1]

    def wait_ready(self, workers: int = 1) -> None:
        """Until each worker has compiled every template in every language."""
        self.wait_for(lambda line: "every language compiled" in line, count=workers)

    @property
    def output(self) -> str:
        with self._changed:
            return "".join(self.lines)

    def client(self, key: str | None = "") -> httpx.Client:
        """An HTTP client for this server, sending ``key`` (default: the first key; None: no key)."""
        key = self.keys[0] if key == "" else key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=PATIENCE)

    def stop(self) -> int:
        """SIGTERM, and the exit code once it has ended."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=PATIENCE)
        finally:
            if self.process.poll() is None:
                self.process.kill()


def raw_request(url: str, method: str, path: str, *, headers: dict[str, str] | None = None,
                body: bytes | None = None) -> tuple[int, bytes]:
    """A request with ``path`` sent exactly as written (no client-side ``..`` clean-up); status and body."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=PATIENCE)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until(check: Callable[[], bool], what: str) -> None:
    """Ask ``check`` again (a fresh HTTP answer each time) until it holds, within ``PATIENCE``."""
    deadline = time.monotonic() + PATIENCE
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)

