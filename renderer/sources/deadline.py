"""A wall-clock deadline over whole HTTP requests, that no server can stretch.

requests' timeouts bound each socket operation, not a request: a server that
sends one byte every 100 ms never trips a 250 ms read timeout, in the headers
or in the body, and keeps its caller for as long as it drips. Here a timer
shuts the request's connection down when the deadline passes, wherever the
request stands (TLS handshake, headers, body): the blocked read returns at
once with end-of-file and requests raises.

Use::

    session.mount("http://", DeadlineAdapter())
    session.mount("https://", DeadlineAdapter())
    with Deadline(0.3) as deadline:
        response = session.get(url, timeout=(0.1, 0.25))
        body = response.content
    deadline.expired    # True once the timer has cut the connections

Every connection of a ``DeadlineAdapter`` that this thread opens or sends a
request on inside the ``with`` is watched; other threads' requests are not
touched. The Deadline holds a duplicate descriptor of each watched socket
for the timer to shut down, so the cut works on the TCP connection itself,
below any TLS layer, and ends with the ``with``.
What the timer cannot cut is name resolution: ``getaddrinfo`` runs under the
system resolver's own timeouts (a connection made after the deadline is cut
as soon as it exists).
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from renderer.base.extras import needs_extra

with needs_extra("http", "HttpRecommendationSource"):
    from requests.adapters import HTTPAdapter
    from urllib3 import poolmanager
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_active = threading.local()


class Deadline:
    """Cuts this thread's watched connections ``seconds`` after ``__enter__``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = 0.0           # time.monotonic() of the deadline, set by __enter__
        self.expired = False
        self._lock = threading.Lock()
        # A duplicate descriptor of each watched socket: shutting it down ends every read on the
        # connection, also through TLS, and being the Deadline's own it is never closed under the
        # timer by the connection's owner. Not keyed by descriptor number: a retry's new
        # connection often gets the number its predecessor freed.
        self._cutters: list[socket.socket] = []
        self._over = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        if getattr(_active, "deadline", None) is not None:
            raise RuntimeError("a Deadline is already active in this thread")
        _active.deadline = self
        self.at = time.monotonic() + self.seconds
        self._timer.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._timer.cancel()
        _active.deadline = None
        with self._lock:
            self._over = True
            for cutter in self._cutters:
                cutter.close()
            self._cutters.clear()

    def watch(self, sock: socket.socket) -> None:
        """Cut ``sock``'s connection at the deadline (at once if it has passed)."""
        with self._lock:
            if self._over:
                return
            cutter = socket.fromfd(sock.fileno(), sock.family, sock.type)
            self._cutters.append(cutter)
            if self.expired:
                _shut(cutter)

    def _expire(self) -> None:
        with self._lock:
            if self._over:
                return
            self.expired = True
            for cutter in self._cutters:
                _shut(cutter)


def _shut(cutter: socket.socket) -> None:
    try:
        cutter.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # the peer has closed it already


def _watch(sock: socket.socket | None) -> None:
    deadline: Deadline | None = getattr(_active, "deadline", None)
    if deadline is not None and sock is not None:
        deadline.watch(sock)


class _WatchedConnection:
    """Mixed into urllib3's connections: the active Deadline watches their sockets."""

    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        # Before any TLS handshake: the handshake is cut too.
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        _watch(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        # A connection from the pool, made under an earlier deadline.
        _watch(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections an active :class:`Deadline` can cut.

    Direct connections and HTTP(S) proxies are watched; a SOCKS proxy's own
    connections are not (they keep their per-read timeouts only).
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _use_watched_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        _use_watched_pools(manager)
        return manager


def _use_watched_pools(manager: Any) -> None:
    # Only urllib3's default pools are swapped; a SOCKS manager keeps its own.
    if manager.pool_classes_by_scheme is poolmanager.pool_classes_by_scheme:
        manager.pool_classes_by_scheme = _WATCHED_POOLS
