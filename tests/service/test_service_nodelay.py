"""Responses leave at once on every connection: TCP_NODELAY is set by the server protocol itself, because asyncio
does not set it on connections accepted from a socket handed to it — the case of each ``serve --workers N`` worker,
where Nagle's algorithm held every response for the client's delayed ACK (~40 ms a request)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from mmemd.service._protocol import _no_delay, protocol_with_read_timeout


def _accepted_nodelay() -> int:
    async def main() -> int:
        seen: list[int] = []

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                _no_delay(transport)
                sock = transport.get_extra_info("socket")
                seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        raw.bind(("127.0.0.1", 0))  # bound by us and handed over, as a worker does
        server = await asyncio.get_running_loop().create_server(Probe, sock=raw)
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        return seen[0]

    return asyncio.run(main())


def test_no_delay_is_set_on_a_connection_accepted_from_a_handed_over_socket() -> None:
    assert _accepted_nodelay() == 1


class _SocketTransport(asyncio.Transport):
    """Records nothing but carries a real TCP socket, so the option the protocol sets can be read back."""

    def __init__(self) -> None:
        super().__init__()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        extra = {"socket": self.sock, "peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}
        return extra.get(name, default)

    def close(self) -> None:
        self.sock.close()

    def is_closing(self) -> bool:
        return self.sock.fileno() == -1


async def _app(scope: Any, receive: Any, send: Any) -> None:  # never called: no request is sent
    raise AssertionError


def test_the_server_protocol_sets_no_delay_on_every_connection() -> None:
    config = uvicorn.Config(_app, lifespan="off", log_config=None)
    config.load()
    transport = _SocketTransport()
    assert (
        transport.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    )  # a new socket starts without it
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        protocol = protocol_with_read_timeout(10.0)(config=config, server_state=ServerState(), app_state={})
        protocol.connection_made(transport)
        assert transport.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        protocol.connection_lost(None)
    finally:
        transport.close()
        asyncio.set_event_loop(None)
        loop.close()
