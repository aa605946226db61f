"""Graceful shutdown drains keep-alive connections: a request already on its way when the shutdown starts is
answered (with ``Connection: close``) instead of being cut off by a reset; an idle connection is closed after the
drain time; a request in progress finishes with ``Connection: close``.

The protocol is driven directly, with a transport that records what the server writes: no sockets, no timing."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from mmemd.service._protocol import protocol_with_read_timeout

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def write(self, data: Any) -> None:
        self.written += bytes(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _app(scope: Any, receive: Any, send: Any) -> None:
    release = scope["state"].get("release")
    if release is not None:
        await release.wait()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _connection(state: dict[str, Any] | None = None) -> tuple[Any, _Transport]:
    config = uvicorn.Config(_app, lifespan="off", log_config=None)
    config.load()
    protocol = protocol_with_read_timeout(10.0)(
        config=config, server_state=ServerState(), app_state=state or {}
    )
    transport = _Transport()
    protocol.connection_made(transport)
    return protocol, transport


async def _responses(transport: _Transport, n: int) -> list[bytes]:
    while transport.written.count(b"HTTP/1.1 ") < n:
        await asyncio.sleep(0)
    return [b"HTTP/1.1 " + r for r in transport.written.split(b"HTTP/1.1 ")[1:]]


def test_request_arriving_on_an_idle_connection_during_shutdown_is_answered() -> None:
    async def scenario() -> tuple[list[bytes], bool, bool]:
        protocol, transport = _connection()
        protocol.data_received(GET)
        await _responses(transport, 1)
        protocol.shutdown()  # the connection is idle: its next request may be on its way
        still_open = not transport.closed
        protocol.data_received(GET)
        answers = await _responses(transport, 2)
        return answers, still_open, transport.closed

    (first, second), open_at_shutdown, closed_after = asyncio.run(scenario())
    assert open_at_shutdown
    assert second.startswith(b"HTTP/1.1 200") and b"connection: close" in second.lower()
    assert b"connection: close" not in first.lower()
    assert closed_after  # after its last response


def test_idle_connection_is_closed_when_the_drain_time_ends() -> None:
    async def scenario() -> tuple[bool, bool]:
        protocol, transport = _connection()
        protocol.data_received(GET)
        await _responses(transport, 1)
        protocol.shutdown()
        before = transport.closed
        protocol._close_if_idle()  # what the drain timer calls
        return before, transport.closed

    assert asyncio.run(scenario()) == (False, True)


def test_request_in_progress_finishes_with_connection_close() -> None:
    async def scenario() -> tuple[bool, bytes, bool]:
        release = asyncio.Event()
        protocol, transport = _connection({"release": release})
        protocol.data_received(GET)
        await asyncio.sleep(0)
        protocol.shutdown()  # the request is in the app
        protocol._close_if_idle()  # not idle: the timer must not cut it off
        cut = transport.closed
        release.set()
        (answer,) = await _responses(transport, 1)
        return cut, answer, transport.closed

    cut, answer, closed = asyncio.run(scenario())
    assert not cut
    assert answer.startswith(b"HTTP/1.1 200") and b"connection: close" in answer.lower()
    assert closed
