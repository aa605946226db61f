"""`mmemd serve` closes connections that never finish their request (idle, slow headers, slow body), keeps serving
others meanwhile."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = tmp_path_factory.mktemp("limits") / "mmemd.toml"
    config.write_text("request_read_timeout_seconds = 1.0\n", encoding="utf-8")
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from mmemd.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--config",
            str(config),
        ],
        env={**os.environ, "MMEMD_API_KEYS": "limits-key"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise AssertionError(proc.communicate()[1][-2000:])
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def _closed_by_server(sock: socket.socket) -> bool:
    """True when the server closes the connection (generous wait: this checks *that* it closes, not how fast)."""
    sock.settimeout(30)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, TimeoutError):
        return False


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)))


@pytest.mark.parametrize(
    "sent",
    [
        b"",  # idle: connected, nothing sent
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n",  # slow headers: never finished
        b"POST /v1/assessments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    ],
    ids=["idle", "slow-headers", "slow-body"],
)
def test_unfinished_requests_are_closed(base: str, sent: bytes) -> None:
    with _connect(base) as sock:
        sock.sendall(sent)
        assert _closed_by_server(sock)
    assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200


def test_others_are_served_while_slow_clients_wait(base: str) -> None:
    socks = [_connect(base) for _ in range(50)]
    try:
        for s in socks:
            s.sendall(b"GET /healthz HTTP/1.1\r\n")
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
    finally:
        for s in socks:
            s.close()


def test_keep_alive_connection_serves_several_requests(base: str) -> None:
    with httpx.Client(base_url=base, timeout=10) as client:
        assert [client.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
