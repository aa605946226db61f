"""Loopback measures of the service's limits: slow clients, concurrent PDFs, two workers, a mixed soak.

Not a test: it prints figures (and one JSON line per measure) and never fails on speed. Modes:

- ``slow``: ``--connections`` sockets that connect and send nothing, half a request line, or headers with half a body;
  ``/healthz`` is timed once every 50 ms throughout; counts the sockets the server closed by its read deadline.
  Target: ``/healthz`` p99 <= 100 ms, every slow socket closed.
- ``pdf``: ``--pdfs`` concurrent PDF reports while assessments run open-loop at ``--rate``; server RSS (main process,
  and with its report processes) before, at the peak and ``--settle`` seconds after. Target: assessment p99 <= 50 ms,
  main-process RSS within 20 % of the baseline after.
- ``workers``: closed-loop assessment throughput (wrk, ``--seconds``) with one worker and with two workers on one
  Redis (``redis-server`` from Debian); and a JWT replayed from one server to a second on the same Redis.
  Target: >= 1.7x.
- ``soak``: a mixed open-loop load (assessments, evidence search, FHIR import, 1 HTML report/s) at ``--rate`` for
  ``--duration`` seconds: errors, assessment p99, RSS at start and end. Target: 0 errors, p99 <= 25 ms, RSS +-10 %.

Run: ``python3 benchmarks/bench_hardening.py slow|pdf|workers|soak [options]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_service_load import (  # noqa: E402 - sibling benchmark module
    KEY,
    REPO,
    RssSampler,
    build_request,
    free_port,
    pct,
    read_response,
    rss_mb,
)

RECORD = REPO / "examples" / "emd-liver-rrmm-pr.json"
BUNDLE = REPO / "examples" / "fhir" / "emd-liver-rrmm-pr.bundle.json"


def serve(port: int, config: Path | None = None, workers: int = 1, env: dict[str, str] | None = None) -> Any:
    args = [sys.executable, "-c", "from mmemd.cli import main; main()", "serve", "--port", str(port)]
    args += ["--log-level", "warning", "--workers", str(workers)]
    if config is not None:
        args += ["--config", str(config)]
    proc = subprocess.Popen(
        args,
        env={**os.environ, "MMEMD_API_KEYS": KEY, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


def stop(proc: Any) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def children_rss_mb(pid: int) -> float:
    total = 0.0
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    for k in kids:
        try:
            total += rss_mb(int(k)) + children_rss_mb(int(k))
        except OSError:
            continue
    return total


def get_request(path: str, port: int) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-API-Key: {KEY}\r\n\r\n".encode()


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


async def typed_open_loop(
    port: int, schedule: list[tuple[str, bytes]], rate: float, connections: int
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Open-loop: request *i* of ``schedule`` is due at ``t0 + i / rate``; latency per kind from its due time."""
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    lat: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.2

    async def one(due: float, kind: str, request: bytes) -> None:
        conn = await pool.get()
        try:
            reader, writer = conn
            writer.write(request)
            status = await read_response(reader)
            if status != 200:
                errors[f"{kind} {status}"] = errors.get(f"{kind} {status}", 0) + 1
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            conn = await asyncio.open_connection("127.0.0.1", port)
        finally:
            lat.setdefault(kind, []).append(loop.time() - due)
            pool.put_nowait(conn)

    tasks = []
    for i, (kind, request) in enumerate(schedule):
        due = t0 + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, kind, request)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait()[1].close()
    return lat, errors


# ---- slow clients ---------------------------------------------------------------------------------------------------
def bench_slow(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="mmemd-bench-"))
    cfg = tmp / "mmemd.toml"
    cfg.write_text(f"request_read_timeout_seconds = {args.read_timeout}\n", encoding="utf-8")
    port = free_port()
    proc = serve(port, cfg)
    kinds = [
        b"",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
        b"POST /v1/assessments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 900\r\n\r\n{",
    ]
    socks: list[socket.socket] = []
    health: list[float] = []
    health_errors = 0
    try:
        for i in range(args.connections):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(kinds[i % 3])
            socks.append(s)
        end = time.monotonic() + args.read_timeout * 2 + 5
        while time.monotonic() < end:
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    r.read()
                health.append(time.perf_counter() - t)
            except OSError:
                health_errors += 1
            time.sleep(0.05)
        closed = 0
        by_kind = [0, 0, 0]
        for i, s in enumerate(socks):
            s.setblocking(False)
            try:
                data = s.recv(65536)
                gone = data == b"" or data.startswith(
                    b"HTTP/1.1 4"
                )  # closed, or answered with an error then closed
            except BlockingIOError:
                gone = False
            except OSError:
                gone = True
            closed += gone
            by_kind[i % 3] += gone
    finally:
        for s in socks:
            s.close()
        stop(proc)
    return {
        "measure": "slow",
        "slow_connections": args.connections,
        "closed_by_server": closed,
        "closed_idle_slowheaders_slowbody": by_kind,
        "read_timeout_s": args.read_timeout,
        "healthz": summary_ms(health),
        "healthz_errors": health_errors,
    }


# ---- concurrent PDFs ------------------------------------------------------------------------------------------------
def bench_pdf(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="mmemd-bench-"))
    cfg = tmp / "mmemd.toml"
    cfg.write_text(f"report_workers = 1\nreport_queue = {args.pdfs}\n", encoding="utf-8")
    port = free_port()
    proc = serve(port, cfg)
    body = json.dumps(json.loads(RECORD.read_text(encoding="utf-8"))).encode()
    try:
        base_main = rss_mb(proc.pid)
        sampler = RssSampler(proc.pid)
        sampler.start()
        pdf_times: list[float] = []
        pdf_status: list[int] = []

        def one_pdf() -> None:
            t = time.perf_counter()
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/v1/reports?format=pdf",
                data=body,
                headers={"X-API-Key": KEY, "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(req, timeout=600) as r:
                    r.read()
                    pdf_status.append(r.status)
            except urllib.error.HTTPError as exc:
                pdf_status.append(exc.code)
            pdf_times.append(time.perf_counter() - t)

        threads = [threading.Thread(target=one_pdf) for _ in range(args.pdfs)]
        for t in threads:
            t.start()
        peak_total = 0.0
        n = int(args.rate * args.assess_seconds)
        schedule = [("assessment", build_request("/v1/assessments", body, port))] * n
        lat, errors = asyncio.run(typed_open_loop(port, schedule, args.rate, 8))
        for t in threads:
            peak_total = max(peak_total, rss_mb(proc.pid) + children_rss_mb(proc.pid))
            t.join()
        peak_total = max(peak_total, rss_mb(proc.pid) + children_rss_mb(proc.pid))
        time.sleep(args.settle)
        sampler.stop.set()
        sampler.join()
        after_main = rss_mb(proc.pid)
        after_total = after_main + children_rss_mb(proc.pid)
    finally:
        stop(proc)
    return {
        "measure": "pdf",
        "pdfs": args.pdfs,
        "pdf_status": {str(s): pdf_status.count(s) for s in sorted(set(pdf_status))},
        "pdf_seconds": summary_ms(pdf_times),
        "assessments_during": summary_ms(lat.get("assessment", [])),
        "assessment_errors": errors,
        "rss_main_baseline_mb": round(base_main, 1),
        "rss_main_peak_mb": round(max(sampler.samples), 1),
        "rss_main_after_mb": round(after_main, 1),
        "rss_with_report_processes_peak_mb": round(peak_total, 1),
        "rss_with_report_processes_after_mb": round(after_total, 1),
        "settle_s": args.settle,
    }


# ---- two workers on one Redis ---------------------------------------------------------------------------------------
def _wrk(port: int, seconds: int, connections: int) -> float:
    body_file = Path(tempfile.mkdtemp(prefix="mmemd-bench-")) / "record.json"
    body_file.write_text(json.dumps(json.loads(RECORD.read_text(encoding="utf-8"))), encoding="utf-8")
    env = {**os.environ, "MMEMD_BENCH_BODY": str(body_file), "MMEMD_BENCH_KEY": KEY}
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "-s",
            str(HERE / "bench_service_load.lua"),
            f"http://127.0.0.1:{port}/v1/assessments",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    line = next((x for x in out.splitlines() if x.startswith("Requests/sec:")), "Requests/sec: 0")
    bad = next((x for x in out.splitlines() if x.startswith("non-200")), "")
    if bad and not bad.startswith("non-200 responses: 0 "):
        print("  wrk:", bad)
    return float(line.split()[1])


def bench_workers(args: argparse.Namespace) -> dict[str, Any]:
    server = shutil.which("redis-server") or shutil.which("valkey-server")
    if server is None or shutil.which("wrk") is None:
        raise SystemExit("needs the Debian packages redis-server (or valkey-server) and wrk")
    rport = free_port()
    redis = subprocess.Popen(
        [server, "--port", str(rport), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{rport}/0"
    out: dict[str, Any] = {"measure": "workers", "cpus": len(os.sched_getaffinity(0))}
    try:
        time.sleep(0.5)
        for workers in (1, 2):
            port = free_port()
            proc = serve(port, workers=workers, env={"MMEMD_SHARED_STATE_URL": url})
            try:
                _wrk(port, 3, args.connections)  # warm every worker
                out[f"rps_{workers}_worker"] = round(_wrk(port, args.seconds, args.connections), 1)
            finally:
                stop(proc)
        out["ratio"] = round(out["rps_2_worker"] / out["rps_1_worker"], 2) if out["rps_1_worker"] else None
        out["replayed_jti_refused"] = _replay_check(url)
    finally:
        redis.terminate()
        redis.wait(timeout=10)
    return out


def _replay_check(url: str) -> bool:
    import uuid

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    tmp = Path(tempfile.mkdtemp(prefix="mmemd-bench-"))
    key = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(jwt.get_algorithm_by_name("ES384").to_jwk(key.public_key()))
    jwk.update({"kid": "b-1", "alg": "ES384", "use": "sig"})
    (tmp / "jwks.json").write_text(json.dumps({"keys": [jwk]}), encoding="utf-8")
    cfg = tmp / "mmemd.toml"
    cfg.write_text(
        'public_base_url = "https://mmemd.bench"\n[[cds_hooks.issuers]]\niss = "https://ehr.bench"\n'
        f'jwks_file = "{tmp / "jwks.json"}"\n',
        encoding="utf-8",
    )
    ports = [free_port(), free_port()]
    procs = [serve(p, cfg, env={"MMEMD_SHARED_STATE_URL": url}) for p in ports]
    try:
        now = int(time.time())
        claims = {
            "iss": "https://ehr.bench",
            "aud": "https://mmemd.bench/cds-services",
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
        }
        tok = jwt.encode(claims, key, algorithm="ES384", headers={"kid": "b-1", "typ": "JWT"})
        codes = []
        for p in ports:
            req = urllib.request.Request(
                f"http://127.0.0.1:{p}/cds-services", headers={"Authorization": f"Bearer {tok}"}
            )
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    codes.append(r.status)
            except urllib.error.HTTPError as exc:
                codes.append(exc.code)
        return codes == [200, 401]
    finally:
        for p in procs:
            stop(p)


# ---- mixed soak ------------------------------------------------------------------------------------------------------
def bench_soak(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="mmemd-bench-"))
    cfg = tmp / "mmemd.toml"
    cfg.write_text("report_workers = 1\nreport_queue = 16\n", encoding="utf-8")
    port = free_port()
    proc = serve(port, cfg)
    record = json.dumps(json.loads(RECORD.read_text(encoding="utf-8"))).encode()
    bundle = json.dumps(json.loads(BUNDLE.read_text(encoding="utf-8"))).encode()
    fhir = build_request("/v1/fhir/assessments", bundle, port)
    per_second: list[tuple[str, bytes]] = [("report", build_request("/v1/reports?format=html", record, port))]
    per_second += [("evidence", get_request("/v1/evidence?q=pomalidomide&limit=5", port))] * 10
    per_second += [("fhir", fhir)] * 10
    rest = int(args.rate) - len(per_second)
    per_second += [("assessment", build_request("/v1/assessments", record, port))] * rest
    # spread the kinds over the second (a report first, then the others interleaved)
    order = sorted(range(len(per_second)), key=lambda i: (i * 7919) % len(per_second))
    second = [per_second[i] for i in order]
    schedule = second * int(args.duration)
    try:
        start_rss = rss_mb(proc.pid)
        sampler = RssSampler(proc.pid)
        sampler.start()
        lat, errors = asyncio.run(typed_open_loop(port, schedule, args.rate, args.connections))
        sampler.stop.set()
        sampler.join()
        end_rss = rss_mb(proc.pid)
    finally:
        stop(proc)
    return {
        "measure": "soak",
        "rate": args.rate,
        "duration_s": args.duration,
        "errors": errors,
        **{f"{k}": summary_ms(v) for k, v in sorted(lat.items())},
        "rss_start_mb": round(start_rss, 1),
        "rss_end_mb": round(end_rss, 1),
        "rss_max_mb": round(max(sampler.samples), 1),
        "loadavg_1m_after": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["slow", "pdf", "workers", "soak"])
    ap.add_argument("--connections", type=int, default=None)
    ap.add_argument("--read-timeout", type=float, default=10.0)
    ap.add_argument("--pdfs", type=int, default=16)
    ap.add_argument("--rate", type=float, default=None)
    ap.add_argument("--assess-seconds", type=float, default=20.0)
    ap.add_argument("--settle", type=float, default=60.0)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--duration", type=float, default=600.0)
    args = ap.parse_args()
    if args.mode == "slow":
        args.connections = args.connections or 1000
        result = bench_slow(args)
    elif args.mode == "pdf":
        args.rate = args.rate or 20.0
        result = bench_pdf(args)
    elif args.mode == "workers":
        args.connections = args.connections or 16
        result = bench_workers(args)
    else:
        args.connections = args.connections or 32
        args.rate = args.rate or 200.0
        result = bench_soak(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
