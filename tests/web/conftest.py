"""Fixtures for the web page tests: an in-process client and, for the real browser, a live uvicorn server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def web_client():  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from mmemd.service import ServiceConfig, create_app

    with TestClient(create_app(ServiceConfig(local_mode=True))) as client:
        yield client


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def live_server() -> Iterator[str]:
    """The app on uvicorn, loopback, a free port, in a thread; local single-user mode (no API key)."""
    import uvicorn

    from mmemd.service import ServiceConfig, create_app

    port = _free_port()
    # reports render in this process, so a test can stand in for the renderer
    app = create_app(ServiceConfig(host="127.0.0.1", port=port, local_mode=True, report_isolation="thread"))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="mmemd-web-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
