"""A real HTTP server on 127.0.0.1 that answers from a script and counts requests."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None            # JSON-encoded unless bytes
    delay: float = 0.0          # seconds before answering (cut short when the server closes)
    headers: dict[str, str] = field(default_factory=dict)
    drip_headers: float = 0.0   # > 0: the status line and headers go one byte at a time, this many seconds apart
    drip_body: float = 0.0      # > 0: the same for the body
    length: bool = True         # False: no Content-Length; the body ends when the connection closes

    def head(self, version: str, length: int) -> bytes:
        """The status line and headers, as the server sends them."""
        lines = [f"{version} {self.status} {HTTPStatus(self.status).phrase}",
                 *(f"{name}: {value}" for name, value in self.headers.items()),
                 "Content-Type: application/json", *([f"Content-Length: {length}"] if self.length else [])]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def encoded_body(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()


class _Closing(Exception):
    """The server is shutting down: stop dripping."""


class ScriptedServer:
    """Answers each request with the next scripted Reply (the last one repeats)."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies) or [Reply()]
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                with server._lock:
                    server.requests.append((self.path, dict(self.headers)))
                    reply = server.replies.pop(0) if len(server.replies) > 1 else server.replies[0]
                server._closing.wait(reply.delay)
                body = reply.encoded_body()
                try:
                    self.send(reply.head(self.protocol_version, len(body)), reply.drip_headers)
                    self.send(body, reply.drip_body)
                except (BrokenPipeError, ConnectionResetError, _Closing):
                    pass  # the client gave up (its budget ran out): that is the point of some tests

            def send(self, data: bytes, drip: float) -> None:
                if not drip:
                    self.wfile.write(data)
                    return
                # Each byte leaves at once (no Nagle delay), so every read the client makes gets one byte.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for index in range(len(data)):
                    if server._closing.wait(drip):
                        raise _Closing
                    self.wfile.write(data[index:index + 1])

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class TrickleServer:
    """A TCP server on 127.0.0.1 that sends ``data`` to each connection, one byte every ``drip`` seconds.

    Below HTTP: e.g. a TLS record header and then a handshake that never completes.
    """

    def __init__(self, data: bytes, drip: float) -> None:
        self.data = data
        self.drip = drip
        self.connections = 0
        self._closing = threading.Event()
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                server.connections += 1
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                try:
                    for index in range(len(server.data)):
                        if server._closing.wait(server.drip):
                            return
                        self.request.sendall(server.data[index:index + 1])
                except OSError:
                    pass  # the client gave up

        self.tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.tcp.daemon_threads = True
        self.thread = threading.Thread(target=self.tcp.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.tcp.server_address[1]

    def __enter__(self) -> TrickleServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._closing.set()
        self.tcp.shutdown()
        self.tcp.server_close()
