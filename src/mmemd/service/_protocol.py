"""uvicorn's HTTP/1.1 protocol with a deadline for reading each request.

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive``, but nothing bounds a connection that
never finishes sending its request: a client that opens a socket and sends nothing, trickles its headers
("slowloris") or trickles its body holds a socket — and a file descriptor — for as long as it likes; 1,100 of them
exhausted a 1,024 descriptor limit and took ``/healthz`` down. Here every request must arrive whole (headers and
body) within ``read_timeout`` seconds of its first byte (or of the connection's opening); otherwise the connection is
closed. Once the request is read, the application's own time is not limited by this deadline.

It also drains keep-alive connections on a graceful shutdown (SIGTERM). uvicorn closes every idle keep-alive
connection at once; under load, many of them already hold the client's next request in the socket buffer, unread
because the event loop was busy, and closing a socket with unread data sends a TCP reset: 12 of 80 in-flight
keep-alive requests were lost that way. Here an idle connection stays open for :data:`DRAIN_SECONDS` after the
shutdown starts: a request that arrives meanwhile is answered, with ``Connection: close``, and the connection closed
after it; a connection still idle at the end is closed (no request is cut off: it had none). Requests in progress
finish with ``Connection: close``, as before. New connections are refused from the start of the shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from functools import lru_cache
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

#: how long an idle keep-alive connection may still bring one request after a graceful shutdown starts
DRAIN_SECONDS: float = 1.0
_CLOSE = (b"connection", b"close")


class DeadlineH11Protocol(H11Protocol):
    read_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_deadline: asyncio.TimerHandle | None = None
        self._draining = False

    def shutdown(self) -> None:
        self._draining = True
        if self.cycle is None or self.cycle.response_complete:
            # idle: its next request may be in the socket buffer already; give it the drain time
            self.loop.call_later(DRAIN_SECONDS, self._close_if_idle)
        else:
            self._last_response(self.cycle)

    def _last_response(self, cycle: Any) -> None:
        """This request's response is the connection's last: say so (``Connection: close``) and close after it."""
        cycle.keep_alive = False
        if not cycle.response_started and _CLOSE not in cycle.scope["headers"]:
            # uvicorn echoes a request's Connection: close into the response headers
            cycle.scope["headers"].append(_CLOSE)

    def _close_if_idle(self) -> None:
        if self.transport.is_closing():
            return
        if (self.cycle is None or self.cycle.response_complete) and self.conn.their_state in (
            h11.IDLE,
            h11.DONE,
        ):
            self.conn.send(h11.ConnectionClosed())
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        _no_delay(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._read_deadline is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()  # the first byte of the next request on a kept-alive connection
        super().data_received(data)
        if self._draining and self.cycle is not None and not self.cycle.response_complete:
            self._last_response(self.cycle)
        if self.conn.their_state in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED):
            self._disarm()  # the whole request is in

    def _arm(self) -> None:
        self._disarm()
        self._read_deadline = self.loop.call_later(self.read_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _too_slow(self) -> None:
        self._read_deadline = None
        if self.conn.their_state in (h11.DONE, h11.MUST_CLOSE):
            return
        if not self.transport.is_closing():
            self.transport.close()


def _no_delay(transport: asyncio.BaseTransport) -> None:
    """Send each response as soon as it is written (TCP_NODELAY). asyncio sets it on connections accepted by a server
    it binds itself, but not on those accepted from a socket handed to it (each worker of ``serve --workers N`` binds
    its own): there Nagle's algorithm held the end of every response until the client's delayed ACK, ~40 ms per
    request, so two workers served fewer requests than one."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # the connection was reset before we got to it
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def protocol_with_read_timeout(seconds: float) -> type[DeadlineH11Protocol]:
    """The protocol class for ``uvicorn.Config(http=...)`` with this request read deadline."""
    return type("DeadlineH11Protocol", (DeadlineH11Protocol,), {"read_timeout": seconds})


class WorkerH11Protocol(DeadlineH11Protocol):
    """The protocol of a worker process of ``mmemd serve --workers N`` (named by import string: a worker is a fresh
    process); its deadline comes from the configuration the parent validated and handed down."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read_timeout = _worker_read_timeout()


@lru_cache(maxsize=1)
def _worker_read_timeout() -> float:
    from mmemd.service._app import CONFIG_ENV

    return float(json.loads(os.environ[CONFIG_ENV])["request_read_timeout_seconds"])
