"""`mmemd serve`: a real uvicorn process on loopback — serving, JSON access log, graceful shutdown, config errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _service_support import REPO_EXAMPLES
from typer.testing import CliRunner

from mmemd.cli._app import build_app

KEY = "serve-test-key-91b2"
MARKER = "ZQX-PHI-5512"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(port: int, **env: str) -> subprocess.Popen[str]:
    code = "from mmemd.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", str(port)],
        env={**os.environ, "MMEMD_API_KEYS": KEY, "MMEMD_SHUTDOWN_TIMEOUT": "10", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_ready(proc: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.communicate()[1]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("server did not become ready")


@pytest.fixture
def server() -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = _free_port()
    proc = _start(port)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, base)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> tuple[int, str]:
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serves_logs_json_and_stops_gracefully(server: tuple[subprocess.Popen[str], str], sig: int) -> None:
    proc, base = server
    record = json.loads((REPO_EXAMPLES / "emd-liver-rrmm-pr.json").read_text(encoding="utf-8"))
    record["id"] = MARKER
    r = httpx.post(
        f"{base}/v1/assessments", json=record, headers={"Authorization": f"Bearer {KEY}"}, timeout=30
    )
    assert r.status_code == 200 and r.json()["patient_id"] == MARKER
    assert (
        httpx.get(f"{base}/v1/evidence", params={"q": MARKER}, headers={"X-API-Key": KEY}).status_code == 200
    )
    assert httpx.get(f"{base}/v1/version").status_code == 401
    # uvicorn re-raises the signal after its graceful shutdown, so the exit status is the signal's: killed by it
    # (-sig), or 128+sig once Python turned SIGINT into KeyboardInterrupt — never a crash code, never a traceback.
    code, err = _stop(proc, sig)
    assert code in (0, -sig, 128 + sig), err
    assert "Traceback" not in err
    assert "Finished server process" in err
    assert MARKER not in err and KEY not in err
    access = [json.loads(line) for line in err.splitlines() if line.startswith('{"event": "access"')]
    assert [(a["route"], a["status"]) for a in access][-3:] == [
        ("/v1/assessments", 200),
        ("/v1/evidence", 200),
        ("/v1/version", 401),
    ]


def test_in_flight_request_finishes_during_shutdown(server: tuple[subprocess.Popen[str], str]) -> None:
    proc, base = server
    body = (REPO_EXAMPLES / "emd-liver-rrmm-pr.json").read_bytes()
    half = len(body) // 2
    result: dict[str, Any] = {}
    sent_half = threading.Event()
    go_on = threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield body[:half]
        sent_half.set()
        go_on.wait(10)
        yield body[half:]

    def request() -> None:
        try:
            result["response"] = httpx.post(
                f"{base}/v1/assessments",
                content=slow_body(),
                headers={"X-API-Key": KEY, "content-type": "application/json"},
                timeout=30,
            )
        except httpx.HTTPError as exc:  # pragma: no cover - reported below
            result["error"] = exc

    t = threading.Thread(target=request)
    t.start()
    assert sent_half.wait(10)
    time.sleep(0.3)  # let the server start reading the request
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)  # the server is now shutting down, with our request in flight
    assert proc.poll() is None, "the server must wait for the in-flight request"
    go_on.set()
    t.join(30)
    assert "error" not in result, result.get("error")
    assert result["response"].status_code == 200
    _, err = proc.communicate(timeout=30)
    assert "Finished server process" in err


runner = CliRunner()
cli_app = build_app()


def test_local_mode_on_a_public_bind_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMEMD_LOCAL_MODE", "true")
    res = runner.invoke(cli_app, ["serve", "--host", "0.0.0.0"])
    assert res.exit_code == 2
    assert "loopback" in res.output


def test_bad_config_file_is_exit_2_without_echoing_values(tmp_path: Path) -> None:
    cfg = tmp_path / "mmemd.toml"
    cfg.write_text('api_key_hashes = ["plain-secret-key"]\n', encoding="utf-8")
    res = runner.invoke(cli_app, ["serve", "--config", str(cfg)])
    assert res.exit_code == 2
    assert "api_key_hashes" in res.output and "plain-secret-key" not in res.output
    cfg.write_text("port = \n", encoding="utf-8")
    res = runner.invoke(cli_app, ["serve", "--config", str(cfg)])
    assert res.exit_code == 2 and "TOML" in res.output
    res = runner.invoke(cli_app, ["serve", "--config", str(tmp_path / "missing.toml")])
    assert res.exit_code == 2 and "cannot read config" in res.output
