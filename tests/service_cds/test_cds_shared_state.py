"""State shared by several workers and hosts (``mmemd.service._state``): the Redis/Valkey backend on a real
``redis-server``, and two ``mmemd serve`` processes on one Redis refusing a JWT replayed from one to the other."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cds_support import ISS
from pydantic import ValidationError
from typer.testing import CliRunner

from mmemd.cli._app import build_app
from mmemd.service._cds_config import CdsHooksConfig
from mmemd.service._config import ServiceConfig
from mmemd.service._state import SharedStateUnavailable, redis_state, shared_state

SERVER = shutil.which("redis-server") or shutil.which("valkey-server")
needs_redis = pytest.mark.skipif(
    SERVER is None,
    reason="needs the Debian package redis-server (or valkey-server) for the shared-state backend",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if SERVER is None:
        pytest.skip("needs the Debian package redis-server (or valkey-server)")
    pytest.importorskip("redis", reason="needs the redis PyPI client (the [dev] extra)")
    import redis

    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError("redis-server did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@needs_redis
def test_replay_cache_is_atomic_across_clients(redis_url: str) -> None:
    a = redis_state(redis_url, CdsHooksConfig(), prefix=f"t{uuid.uuid4().hex}:")
    b = redis_state(redis_url, CdsHooksConfig(), prefix=a.replay._r.prefix)  # type: ignore[attr-defined]
    assert a.shared and a.backend == "redis"
    assert a.replay.add(ISS, "jti-1", until=1_000.0, now=900.0) is True
    assert b.replay.add(ISS, "jti-1", until=1_000.0, now=900.0) is False  # the other instance sees it
    assert b.replay.add(ISS, "jti-2", until=1_000.0, now=900.0) is True
    assert a.replay.add("https://other.example.org", "jti-1", until=1_000.0, now=900.0) is True


EXACT_RECORD = {
    "id": "p",
    "labs": {"albumin": {"value": Decimal("3.50"), "unit": "g/dL"}},
    "list": [Decimal("1e-3")],
}


def _report_link_round_trip(state: Any, read_at: float) -> Any:
    state.reports.put("tok", EXACT_RECORD, now=0.0)
    got = state.reports.get("tok", now=read_at)
    assert got == EXACT_RECORD and isinstance(got["labs"]["albumin"]["value"], Decimal)
    assert str(got["labs"]["albumin"]["value"]) == "3.50"
    return got


@needs_redis
def test_cards_and_report_links_round_trip_exact_numbers(redis_url: str) -> None:
    a = redis_state(redis_url, CdsHooksConfig(), prefix=f"t{uuid.uuid4().hex}:")
    _report_link_round_trip(a, 0.0)
    assert a.cards.get("missing", now=0.0) is None


def test_in_process_report_links_keep_exact_numbers_and_expire() -> None:
    from mmemd.service._state import in_process_state

    state = in_process_state(CdsHooksConfig(report_link_ttl_seconds=60))
    got = _report_link_round_trip(state, 59.0)
    assert got is not EXACT_RECORD  # kept as text, so a caller's later change cannot reach the stored link
    assert state.reports.get("tok", now=60.0) is None


def test_unreachable_store_fails_closed() -> None:
    pytest.importorskip("redis", reason="needs the redis PyPI client (the [dev] extra)")
    state = redis_state(f"redis://127.0.0.1:{_free_port()}/0", CdsHooksConfig(), timeout=0.5)
    with pytest.raises(SharedStateUnavailable) as info:
        state.replay.add(ISS, "j", until=10.0, now=0.0)
    assert "127.0.0.1" not in str(info.value)  # the URL (which may hold a password) is not disclosed


def test_default_is_in_process_and_url_schemes_are_checked() -> None:
    assert shared_state(None, CdsHooksConfig()).shared is False
    with pytest.raises(ValueError, match="shared_state_url"):
        ServiceConfig(shared_state_url="http://user:secret@cache:6379")
    with pytest.raises(ValidationError) as info:
        ServiceConfig(shared_state_url="memcached://user:secret@cache")
    # what `mmemd serve` prints (errors without their input) does not repeat the URL's password
    assert "secret" not in " ".join(
        e["msg"] for e in info.value.errors(include_input=False, include_url=False)
    )


def test_several_workers_without_a_shared_store_are_refused() -> None:
    r = CliRunner().invoke(build_app(), ["serve", "--workers", "2", "--port", str(_free_port())])
    assert r.exit_code == 2
    assert "shared_state_url" in r.stderr and "replayed" in r.stderr


# ---- two server processes on one Redis ------------------------------------------------------------------------------
PUBLIC = "https://mmemd.example.org"


def _serve(port: int, config: Path, redis_url: str, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "MMEMD_SHARED_STATE_URL": redis_url, "MMEMD_API_KEYS": "k-shared-state"}
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from mmemd.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--config",
            str(config),
            *extra,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _ready(proc: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.communicate()[1][-2000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("server did not become ready")


@needs_redis
def test_jti_replayed_on_a_second_server_process_is_refused(
    redis_url: str, tmp_path: Path, ec_key: Any, jwks: dict[str, Any]
) -> None:
    (tmp_path / "jwks.json").write_text(json.dumps(jwks), encoding="utf-8")
    config = tmp_path / "mmemd.toml"
    config.write_text(
        f'public_base_url = "{PUBLIC}"\n[[cds_hooks.issuers]]\niss = "{ISS}"\njwks_file = "{tmp_path / "jwks.json"}"\n',
        encoding="utf-8",
    )
    ports = [_free_port(), _free_port()]
    procs = [_serve(p, config, redis_url) for p in ports]
    try:
        for proc, port in zip(procs, ports, strict=True):
            _ready(proc, f"http://127.0.0.1:{port}")
        now = int(time.time())
        claims = {
            "iss": ISS,
            "aud": f"{PUBLIC}/cds-services",
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
        }
        tok = jwt.encode(claims, ec_key, algorithm="ES384", headers={"kid": "ec-1", "typ": "JWT"})
        headers = {"Authorization": f"Bearer {tok}"}
        first = httpx.get(f"http://127.0.0.1:{ports[0]}/cds-services", headers=headers, timeout=10)
        assert first.status_code == 200, first.text
        replay = httpx.get(f"http://127.0.0.1:{ports[1]}/cds-services", headers=headers, timeout=10)
        assert replay.status_code == 401 and replay.json()["reason"] == "replayed_jti"
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.communicate(timeout=30)


@needs_redis
def test_two_workers_on_one_redis_serve_and_share_the_replay_cache(
    redis_url: str, tmp_path: Path, ec_key: Any, jwks: dict[str, Any]
) -> None:
    (tmp_path / "jwks.json").write_text(json.dumps(jwks), encoding="utf-8")
    config = tmp_path / "mmemd.toml"
    config.write_text(
        f'public_base_url = "{PUBLIC}"\n[[cds_hooks.issuers]]\niss = "{ISS}"\njwks_file = "{tmp_path / "jwks.json"}"\n',
        encoding="utf-8",
    )
    port = _free_port()
    proc = _serve(port, config, redis_url, "--workers", "2")
    try:
        _ready(proc, f"http://127.0.0.1:{port}")
        now = int(time.time())
        claims = {
            "iss": ISS,
            "aud": f"{PUBLIC}/cds-services",
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
        }
        tok = jwt.encode(claims, ec_key, algorithm="ES384", headers={"kid": "ec-1", "typ": "JWT"})
        # a new connection each time, so either worker may serve it: the token is good once, whichever worker
        codes = [
            httpx.get(
                f"http://127.0.0.1:{port}/cds-services",
                headers={"Authorization": f"Bearer {tok}"},
                timeout=10,
            ).status_code
            for _ in range(4)
        ]
        assert codes == [200, 401, 401, 401]
    finally:
        proc.terminate()
        proc.communicate(timeout=60)


def _children(pid: int) -> list[int]:
    return [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _connections_held(pid: int, port: int) -> int:
    """How many established TCP connections to ``port`` this process holds (its sockets in /proc/net/tcp)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    held = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        if f[9] in inodes and int(f[1].split(":")[1], 16) == port and f[3] == "01":  # 01: ESTABLISHED
            held += 1
    return held


@needs_redis
@pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="needs Linux /proc to see which worker holds a socket"
)
def test_workers_share_the_connections_and_a_dead_worker_is_replaced(redis_url: str, tmp_path: Path) -> None:
    config = tmp_path / "mmemd.toml"
    config.write_text("", encoding="utf-8")
    port = _free_port()
    proc = _serve(port, config, redis_url, "--workers", "2")
    clients: list[httpx.Client] = []
    try:
        _ready(proc, f"http://127.0.0.1:{port}")
        # 40 keep-alive connections opened at once: the kernel spreads them over the workers' sockets by address
        # hash (all 40 on one worker has probability 2**-39)
        for _ in range(40):
            c = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
            assert c.get("/healthz").status_code == 200
            clients.append(c)
        before = set(_children(proc.pid))
        held = {p: _connections_held(p, port) for p in before}
        # (the earliest may have been closed meanwhile by the keep-alive timeout on a busy machine)
        assert len([p for p, n in held.items() if n > 0]) == 2, held  # both workers hold connections
        # a worker killed outright is replaced, and the service keeps answering
        busiest = max(held, key=lambda p: held[p])
        os.kill(busiest, 9)
        deadline = time.monotonic() + 90
        while busiest in _children(proc.pid) or not set(_children(proc.pid)) - before:
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.2)
        _ready(proc, f"http://127.0.0.1:{port}")
    finally:
        for c in clients:
            c.close()
        proc.terminate()
        proc.communicate(timeout=60)
    assert proc.returncode == 0
