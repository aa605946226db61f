"""What the service benchmarks share: start ``mmemd serve`` in its own process, stop it, sample its memory, speak
raw HTTP/1.1 over keep-alive asyncio streams, and summarise latencies.

Not a benchmark itself (the leading underscore keeps it out of the list of benchmarks).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
KEY = "bench-load-key"
RECORD = REPO / "examples" / "emd-liver-rrmm-pr.json"
BUNDLE = REPO / "examples" / "fhir" / "emd-liver-rrmm-pr.bundle.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(
    port: int,
    config: Path | None = None,
    workers: int = 1,
    env: dict[str, str] | None = None,
    log_level: str = "warning",
    stderr: Any = subprocess.DEVNULL,
    cpus: str | None = None,
) -> subprocess.Popen[bytes]:
    """``mmemd serve`` on 127.0.0.1:``port``, returned once ``/healthz`` answers 200. ``cpus`` pins the server (and
    its worker and render processes) to those CPUs with ``taskset -c``."""
    args = [sys.executable, "-c", "from mmemd.cli import main; main()", "serve", "--port", str(port)]
    args += ["--log-level", log_level, "--workers", str(workers)]
    if config is not None:
        args += ["--config", str(config)]
    if cpus is not None:
        args = ["taskset", "-c", cpus, *args]
    proc = subprocess.Popen(
        args,
        env={**os.environ, "MMEMD_API_KEYS": KEY, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


def stop(proc: subprocess.Popen[bytes]) -> int | None:
    """SIGTERM (a graceful stop), then SIGKILL after 30 s; the exit status."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    """Every descendant process of ``pid`` (worker and render processes)."""
    try:
        kids = [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return [k for kid in kids for k in (kid, *children(kid))]


def children_rss_mb(pid: int) -> float:
    total = 0.0
    for k in children(pid):
        try:
            total += rss_mb(k)
        except OSError:
            continue
    return total


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds consumed so far by these processes (``/proc/<pid>/stat``)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


class RssSampler(threading.Thread):
    """The process's RSS every 100 ms, with the time of each sample (seconds since start)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[float] = []
        self.times: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        t0 = time.monotonic()
        while not self.stop.is_set():
            try:
                self.samples.append(rss_mb(self.pid))
                self.times.append(time.monotonic() - t0)
            except OSError:
                return
            self.stop.wait(0.1)

    def at(self, seconds: float) -> float:
        """The first sample taken at or after ``seconds`` (the last one if the run was shorter)."""
        for t, v in zip(self.times, self.samples, strict=True):
            if t >= seconds:
                return v
        return self.samples[-1]


def build_request(path: str, body: bytes, port: int, auth: str = f"X-API-Key: {KEY}") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def get_request(path: str, port: int) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-API-Key: {KEY}\r\n\r\n".encode()


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


def pct(sorted_ms: list[float], p: float) -> float:
    k = max(0, min(len(sorted_ms) - 1, round(p / 100 * len(sorted_ms) + 0.5) - 1))
    return sorted_ms[k]


def summary_ms(values: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values)
    if not ms:
        return {}
    return {
        "n": len(ms),
        "p50_ms": round(pct(ms, 50), 2),
        "p99_ms": round(pct(ms, 99), 2),
        "max_ms": round(ms[-1], 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }
