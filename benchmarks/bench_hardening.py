"""Loopback measures of the service's limits: slow clients, concurrent PDFs, two workers, a mixed soak.

Not a test: it prints figures (and one JSON line per measure) and never fails on speed. Modes:

- ``slow``: ``--connections`` sockets that connect and send nothing, half a request line, or headers with half a body;
  ``/healthz`` is timed once every 50 ms throughout; counts the sockets the server closed by its read deadline.
  Target: ``/healthz`` p99 <= 100 ms, every slow socket closed.
- ``pdf``: ``--pdfs`` concurrent PDF reports while assessments run open-loop at ``--rate``; server RSS (main process,
  and with its report processes) before, at the peak and ``--settle`` seconds after. Target: assessment p99 <= 50 ms,
  main-process RSS within 20 % of the baseline after.
- ``workers``: closed-loop assessment throughput (wrk, ``--seconds``) with one worker and with two workers on one
  Redis (``redis-server`` from Debian), with the CPU per request of the server processes (each worker's share),
  of wrk and of Redis, read from ``/proc``; ``ratio_by_cpu_per_request`` is what two free cores would give;
  ``--pin`` puts the server on CPU 1 and wrk on CPU 0. And a JWT replayed from one server to a second on the same
  Redis. Target: >= 1.7x.
- ``soak``: a mixed open-loop load at ``--rate`` for ``--duration`` seconds (each second: 1 HTML report,
  10 evidence searches, 10 FHIR imports, 10 CDS patient-view calls, the rest assessments); the first ``--warmup``
  seconds are not counted: errors, latency per kind, the event loop's share of a core, RSS after the warm-up and at
  the end. Target: 0 errors, assessment p99 <= 25 ms, RSS +-10 % after the warm-up.
- ``shutdown``: SIGTERM while ``--connections`` keep-alive clients are busy; every request's fate (answered,
  reset). Target: 0 resets, every request in flight answered.
- ``memory``: the soak's mix in-process, twice (``--seconds`` x ``--rate`` requests each): RSS after each pass and
  what Python still holds from the second pass, by where it was allocated (``tracemalloc``).
- ``gc``: in-process, the cyclic garbage collector's pauses while serving ``--requests`` assessments, without and
  with the long-lived state frozen.

Run: ``python3 benchmarks/bench_hardening.py slow|pdf|workers|soak|shutdown|gc|memory [options]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _serve import (  # noqa: E402 - the benchmarks' shared server helpers
    BUNDLE,
    KEY,
    RECORD,
    RssSampler,
    build_request,
    children,
    children_rss_mb,
    cpu_seconds,
    free_port,
    get_request,
    read_response,
    rss_mb,
    serve,
    stop,
    summary_ms,
)
from bench_service_load import patient_view_requests  # noqa: E402 - sibling benchmark module

Request = bytes | Callable[[], bytes]


async def typed_open_loop(
    port: int, schedule: Iterable[tuple[str, Request]], rate: float, connections: int, warmup: float = 0.0
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Open-loop: request *i* of ``schedule`` is due at ``t0 + i / rate``; latency per kind from its due time.

    A request given as a function is built when due (a CDS request signs a fresh token). Requests due in the first
    ``warmup`` seconds are sent but not counted (their kind gets a ``warmup:`` prefix)."""
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    lat: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.2
    tasks: set[asyncio.Task[None]] = set()

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

    for i, (kind, request) in enumerate(schedule):
        due = t0 + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        counted = kind if due - t0 >= warmup else f"warmup:{kind}"
        task = asyncio.create_task(one(due, counted, request() if callable(request) else request))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
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
def _wrk(port: int, seconds: int, connections: int, cpus: str | None = None) -> dict[str, float]:
    """Closed-loop wrk on ``POST /v1/assessments``: requests, requests/s, non-2xx, and wrk's own CPU seconds."""
    body_file = Path(tempfile.mkdtemp(prefix="mmemd-bench-")) / "record.json"
    body_file.write_text(json.dumps(json.loads(RECORD.read_text(encoding="utf-8"))), encoding="utf-8")
    env = {**os.environ, "MMEMD_BENCH_BODY": str(body_file), "MMEMD_BENCH_KEY": KEY}
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(HERE / "bench_service_load.lua")]
    cmd.append(f"http://127.0.0.1:{port}/v1/assessments")
    if cpus is not None:
        cmd = ["taskset", "-c", cpus, *cmd]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = out.splitlines()
    rps = next((x for x in lines if x.startswith("Requests/sec:")), "Requests/sec: 0").split()[1]
    total = next((x for x in lines if " requests in " in x), "0 requests in").split()[0]
    bad = next((x for x in lines if x.strip().startswith("Non-2xx")), "Non-2xx or 3xx responses: 0")
    return {
        "requests": float(total),
        "rps": float(rps),
        "non_2xx": float(bad.split()[-1]),
        "wrk_cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
    }


def _one_setup(workers: int, url: str, args: argparse.Namespace, redis_pid: int) -> dict[str, Any]:
    """Throughput and CPU per request of ``workers`` server processes; with ``--pin``, the server gets CPU 1 and wrk
    CPU 0 (so the generator's CPU is not taken from the server)."""
    server_cpus, wrk_cpus = ("1", "0") if args.pin else (None, None)
    port = free_port()
    proc = serve(port, workers=workers, env={"MMEMD_SHARED_STATE_URL": url}, cpus=server_cpus)
    try:
        _wrk(port, 3, args.connections, wrk_cpus)  # warm every worker
        # with --workers > 1 the supervisor only watches; the workers are its children
        workers_pids = children(proc.pid) if workers > 1 else [proc.pid]
        per_worker0 = [cpu_seconds([p]) for p in workers_pids]
        all0 = cpu_seconds([proc.pid, *children(proc.pid)])
        redis0 = cpu_seconds([redis_pid])
        t = time.monotonic()
        run = _wrk(port, args.seconds, args.connections, wrk_cpus)
        wall = time.monotonic() - t
        per_worker = [round(cpu_seconds([p]) - c, 2) for p, c in zip(workers_pids, per_worker0, strict=True)]
        server_cpu = cpu_seconds([proc.pid, *children(proc.pid)]) - all0
        redis_cpu = cpu_seconds([redis_pid]) - redis0
    finally:
        stop(proc)
    n = max(run["requests"], 1.0)
    return {
        "rps": round(run["rps"], 1),
        "requests": int(run["requests"]),
        "non_2xx": int(run["non_2xx"]),
        "server_cpu_ms_per_request": round(1000 * server_cpu / n, 3),
        "wrk_cpu_ms_per_request": round(1000 * run["wrk_cpu_s"] / n, 3),
        "redis_cpu_ms_per_request": round(1000 * redis_cpu / n, 3),
        "server_cores_busy": round(server_cpu / wall, 2),
        "wrk_cores_busy": round(run["wrk_cpu_s"] / wall, 2),
        "cpu_seconds_per_worker": per_worker,
    }


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
    out: dict[str, Any] = {
        "measure": "workers",
        "cpus": len(os.sched_getaffinity(0)),
        "pinned": args.pin,
        "loadavg_1m_before": round(os.getloadavg()[0], 2),
    }
    try:
        time.sleep(0.5)
        for workers in (1, 2):
            out[f"{workers}_worker"] = _one_setup(workers, url, args, redis.pid)
        one, two = out["1_worker"], out["2_worker"]
        out["ratio_measured"] = round(two["rps"] / one["rps"], 2) if one["rps"] else None
        # What two free cores would give: one worker is bound to one core (one interpreter lock), two workers to
        # two; the capacity of each is 1 / (server CPU per request).
        if one["server_cpu_ms_per_request"] and two["server_cpu_ms_per_request"]:
            out["ratio_by_cpu_per_request"] = round(
                2 * one["server_cpu_ms_per_request"] / two["server_cpu_ms_per_request"], 2
            )
        out["replayed_jti_refused"] = _replay_check(url)
    finally:
        redis.terminate()
        redis.wait(timeout=10)
    out["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
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
    """Each second: 1 HTML report, 10 evidence searches, 10 FHIR imports, 10 CDS patient-view calls (full prefetch,
    a fresh ES384 token each), the rest assessments. The first ``--warmup`` seconds warm the server (caches, the
    render process, the allocator's arenas): the latency figures and the RSS baseline are taken after them."""
    tmp = Path(tempfile.mkdtemp(prefix="mmemd-bench-"))
    port = free_port()
    cfg, patient_view = patient_view_requests(tmp, port, RECORD)
    # top-level keys go before the [[cds_hooks.issuers]] table
    cfg.write_text(
        "report_workers = 1\nreport_queue = 16\n" + cfg.read_text(encoding="utf-8"), encoding="utf-8"
    )
    proc = serve(port, cfg)
    record = json.dumps(json.loads(RECORD.read_text(encoding="utf-8"))).encode()
    bundle = json.dumps(json.loads(BUNDLE.read_text(encoding="utf-8"))).encode()
    fhir = build_request("/v1/fhir/assessments", bundle, port)
    per_second: list[tuple[str, Request]] = [
        ("report", build_request("/v1/reports?format=html", record, port))
    ]
    per_second += [("evidence", get_request("/v1/evidence?q=pomalidomide&limit=5", port))] * 10
    per_second += [("fhir", fhir)] * 10
    per_second += [("cds", patient_view)] * 10
    rest = int(args.rate) - len(per_second)
    per_second += [("assessment", build_request("/v1/assessments", record, port))] * rest
    # spread the kinds over the second (a report first, then the others interleaved)
    order = sorted(range(len(per_second)), key=lambda i: (i * 7919) % len(per_second))
    second = [per_second[i] for i in order]

    def schedule() -> Iterator[tuple[str, Request]]:
        for _ in range(int(args.duration)):
            yield from second

    load_before = os.getloadavg()[0]
    try:
        start_rss = rss_mb(proc.pid)
        sampler = RssSampler(proc.pid)
        sampler.start()
        cpu0 = cpu_seconds([proc.pid])
        t0 = time.monotonic()
        lat, errors = asyncio.run(
            typed_open_loop(port, schedule(), args.rate, args.connections, warmup=args.warmup)
        )
        wall = time.monotonic() - t0
        cpu = cpu_seconds([proc.pid]) - cpu0
        # report and import processes still running (a recycled render process's CPU is not counted)
        pool_cpu = cpu_seconds(children(proc.pid))
        sampler.stop.set()
        sampler.join()
        end_rss = rss_mb(proc.pid)
        with_renderers = end_rss + children_rss_mb(proc.pid)
    finally:
        stop(proc)
    after_warmup = sampler.at(args.warmup)
    steady = [v for t, v in zip(sampler.times, sampler.samples, strict=True) if t >= args.warmup]
    counted = {k: v for k, v in lat.items() if not k.startswith("warmup:")}
    return {
        "measure": "soak",
        "rate": args.rate,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "errors": errors,
        **{k: summary_ms(v) for k, v in sorted(counted.items())},
        "server_main_cpu_s": round(cpu, 1),
        "server_main_cores_busy": round(cpu / wall, 2),
        "pool_processes_cpu_s": round(pool_cpu, 1),
        "rss_start_mb": round(start_rss, 1),
        "rss_after_warmup_mb": round(after_warmup, 1),
        "rss_end_mb": round(end_rss, 1),
        "rss_max_after_warmup_mb": round(max(steady or sampler.samples), 1),
        "rss_change_after_warmup_pct": round(100 * (end_rss - after_warmup) / after_warmup, 1),
        "rss_with_render_processes_end_mb": round(with_renderers, 1),
        "loadavg_1m_before": round(load_before, 2),
        "loadavg_1m_after": round(os.getloadavg()[0], 2),
    }


# ---- graceful shutdown under load ------------------------------------------------------------------------------------
async def _shutdown_clients(
    port: int, clients: int, before: float, proc: subprocess.Popen[bytes], requests: list[bytes]
) -> dict[str, Any]:
    """``clients`` keep-alive connections in a closed loop; SIGTERM after ``before`` seconds; every request's fate."""
    loop = asyncio.get_running_loop()
    signalled: list[float] = []
    counts = {
        "answered_before_signal": 0,
        "in_flight_at_signal": 0,
        "in_flight_answered": 0,
        "sent_after_signal_answered": 0,
        "reset_in_flight": 0,
        "reset_sent_after_signal": 0,
        "answered_with_connection_close": 0,
        "reconnect_refused": 0,
    }
    statuses: dict[str, int] = {}

    async def client(n: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = n
        while True:
            request = requests[i % len(requests)]
            i += 1
            sent_at = loop.time()
            try:
                writer.write(request)
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                length = next((int(x[15:]) for x in lines[1:] if x[:15].lower() == b"content-length:"), 0)
                await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError):
                key = (
                    "reset_in_flight"
                    if not signalled or sent_at < signalled[0]
                    else "reset_sent_after_signal"
                )
                counts[key] += 1
                break
            status = lines[0].split()[1].decode()
            statuses[status] = statuses.get(status, 0) + 1
            if not signalled:
                counts["answered_before_signal"] += 1
            elif sent_at < signalled[0]:
                counts["in_flight_answered"] += 1
            else:
                counts["sent_after_signal_answered"] += 1
            if any(x.lower() == b"connection: close" for x in lines[1:]):
                counts["answered_with_connection_close"] += 1
                break
        writer.close()
        try:
            await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            counts["reconnect_refused"] += 1

    tasks = [asyncio.create_task(client(n)) for n in range(clients)]
    await asyncio.sleep(before)
    proc.send_signal(signal.SIGTERM)
    signalled.append(loop.time())
    await asyncio.gather(*tasks)
    counts["in_flight_at_signal"] = counts["in_flight_answered"] + counts["reset_in_flight"]
    return {**counts, "statuses": statuses}


def bench_shutdown(args: argparse.Namespace) -> dict[str, Any]:
    """SIGTERM while ``--connections`` keep-alive clients (closed loop: assessments, one FHIR import in eight)
    are busy; target: no request reset, every request in flight answered, exit status 0."""
    port = free_port()
    proc = serve(port, workers=args.workers)
    record = json.dumps(json.loads(RECORD.read_text(encoding="utf-8"))).encode()
    bundle = json.dumps(json.loads(BUNDLE.read_text(encoding="utf-8"))).encode()
    requests = [build_request("/v1/assessments", record, port)] * 7
    requests.append(build_request("/v1/fhir/assessments", bundle, port))
    try:
        t = time.monotonic()
        result = asyncio.run(_shutdown_clients(port, args.connections, args.before, proc, requests))
        code = proc.wait(timeout=60)
        exit_s = time.monotonic() - t - args.before
    finally:
        if proc.poll() is None:
            proc.kill()
    return {
        "measure": "shutdown",
        "clients": args.connections,
        "workers": args.workers,
        **result,
        "exit_status": code,
        "seconds_from_signal_to_exit": round(exit_s, 2),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


# ---- garbage-collector pauses, in-process --------------------------------------------------------------------------
def _gc_run(freeze: bool, n: int) -> dict[str, Any]:
    import gc

    from fastapi.testclient import TestClient

    from mmemd.service import ServiceConfig, create_app
    from mmemd.service._app import freeze_heap

    app = create_app(ServiceConfig(auth_required=False, local_mode=True, import_isolation="thread"))
    record = RECORD.read_bytes()
    bundle = BUNDLE.read_bytes()
    json_type = {"content-type": "application/json"}
    pauses: list[tuple[int, float]] = []
    started: list[float] = []

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        else:
            pauses.append((info["generation"], (time.perf_counter() - started[0]) * 1000))

    with TestClient(app) as c:
        for _ in range(20):
            c.post("/v1/assessments", content=record, headers=json_type)
        gc.unfreeze()
        if freeze:
            freeze_heap()
        gc.callbacks.append(on_gc)
        cpu = time.process_time()
        try:
            for i in range(n):
                c.post("/v1/assessments", content=record, headers=json_type)
                if i % 17 == 0:
                    c.post("/v1/fhir/assessments", content=bundle, headers=json_type)
                if i % 19 == 0:
                    c.get("/v1/evidence?q=pomalidomide&limit=5")
        finally:
            gc.callbacks.remove(on_gc)
            gc.unfreeze()
        cpu = time.process_time() - cpu
    full = [ms for g, ms in pauses if g == 2]
    return {
        "full_passes": len(full),
        "full_total_ms": round(sum(full), 1),
        "full_max_ms": round(max(full, default=0.0), 1),
        "young_passes": len(pauses) - len(full),
        "young_total_ms": round(sum(ms for g, ms in pauses if g != 2), 1),
        "cpu_s": round(cpu, 2),
    }


def bench_gc(args: argparse.Namespace) -> dict[str, Any]:
    """The cyclic collector's pauses while the app serves ``--requests`` assessments (one FHIR import in 17, one search
    in 19) in this process, without and with the long-lived state frozen (what ``mmemd serve`` does)."""
    return {
        "measure": "gc",
        "requests": args.requests,
        "not_frozen": _gc_run(False, args.requests),
        "frozen": _gc_run(True, args.requests),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


# ---- what grows, in-process ---------------------------------------------------------------------------------------
def bench_memory(args: argparse.Namespace) -> dict[str, Any]:
    """The soak's mix served in-process (``--seconds`` seconds' worth of requests at ``--rate``, twice): RSS after the
    first pass (the warm-up) and after the second, and what Python allocated in the second pass and still holds
    (``tracemalloc``), by the place that allocated it. Report and import processes as ``mmemd serve`` runs them."""
    import tracemalloc

    from fastapi.testclient import TestClient

    from mmemd.service import _malloc, create_app
    from mmemd.service._app import freeze_heap
    from mmemd.service._config import load_config

    os.environ["MMEMD_API_KEYS"] = KEY
    tmp = Path(tempfile.mkdtemp(prefix="mmemd-bench-"))
    port = free_port()
    cfg, patient_view = patient_view_requests(tmp, port, RECORD)
    _malloc.limit_malloc_arenas()  # as mmemd serve does
    app = create_app(load_config(cfg))
    freeze_heap()
    record, bundle = RECORD.read_bytes(), BUNDLE.read_bytes()
    rest = {"X-API-Key": KEY, "content-type": "application/json"}

    def one_second(c: TestClient) -> None:
        c.post("/v1/reports?format=html", content=record, headers=rest)
        for _ in range(10):
            c.get("/v1/evidence?q=pomalidomide&limit=5", headers=rest)
            c.post("/v1/fhir/assessments", content=bundle, headers=rest)
            head, body = patient_view().split(b"\r\n\r\n", 1)
            auth = next(x for x in head.split(b"\r\n") if x.lower().startswith(b"authorization:"))
            cds = {"Authorization": auth.split(b": ", 1)[1].decode(), "content-type": "application/json"}
            assert c.post("/cds-services/mmemd-patient-view", content=body, headers=cds).status_code == 200
        for _ in range(int(args.rate) - 31):
            c.post("/v1/assessments", content=record, headers=rest)

    with TestClient(app, base_url=f"http://127.0.0.1:{port}") as c:
        for _ in range(int(args.seconds)):
            one_second(c)
        after_warmup = rss_mb(os.getpid())
        tracemalloc.start(6)
        before = tracemalloc.take_snapshot()
        for _ in range(int(args.seconds)):
            one_second(c)
        after = tracemalloc.take_snapshot()
        end = rss_mb(os.getpid())
        tracing = tracemalloc.get_tracemalloc_memory()
        tracemalloc.stop()
        # what the allocator holds free but resident: glibc's malloc_trim gives it back (None: not glibc)
        trimmed = trim_seconds = None
        t0 = time.perf_counter()
        if _malloc.trim_free_memory():
            trim_seconds = time.perf_counter() - t0
            trimmed = rss_mb(os.getpid())
    grown = after.compare_to(before, "traceback")

    def where(stat: Any) -> str:
        frames = [f for f in stat.traceback if "/mmemd/" in f.filename]
        f = (frames or list(stat.traceback))[-1]  # innermost of our frames (tracemalloc lists oldest first)
        return f"{f.filename.rsplit('/', 2)[-2]}/{f.filename.rsplit('/', 1)[-1]}:{f.lineno}"

    return {
        "measure": "memory",
        "requests_per_pass": int(args.seconds) * int(args.rate),
        "rss_after_warmup_mb": round(after_warmup, 1),
        "rss_end_mb": round(end, 1),
        "rss_after_malloc_trim_mb": None if trimmed is None else round(trimmed, 1),
        "malloc_trim_ms": None if trim_seconds is None else round(trim_seconds * 1000, 2),
        "tracemalloc_own_mb": round(tracing / 2**20, 1),
        "python_held_growth_kib": round(sum(x.size_diff for x in grown) / 1024, 1),
        "largest_growth": [
            {"kib": round(x.size_diff / 1024, 1), "blocks": x.count_diff, "allocated_at": where(x)}
            for x in grown[:6]
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["slow", "pdf", "workers", "soak", "shutdown", "gc", "memory"])
    ap.add_argument("--connections", type=int, default=None)
    ap.add_argument("--read-timeout", type=float, default=10.0)
    ap.add_argument("--pdfs", type=int, default=16)
    ap.add_argument("--rate", type=float, default=None)
    ap.add_argument("--assess-seconds", type=float, default=20.0)
    ap.add_argument("--settle", type=float, default=60.0)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--duration", type=float, default=600.0)
    ap.add_argument("--before", type=float, default=5.0, help="shutdown: seconds of load before SIGTERM")
    ap.add_argument("--workers", type=int, default=1, help="shutdown: server worker processes")
    ap.add_argument("--requests", type=int, default=3000, help="gc: assessments served in-process")
    ap.add_argument("--pin", action="store_true", help="workers: server on CPU 1, wrk on CPU 0 (taskset)")
    ap.add_argument("--warmup", type=float, default=60.0, help="soak: seconds not counted (default 60)")
    args = ap.parse_args()
    if args.mode == "slow":
        args.connections = args.connections or 1000
        result = bench_slow(args)
    elif args.mode == "pdf":
        args.rate = args.rate or 20.0
        result = bench_pdf(args)
    elif args.mode == "memory":
        args.rate = args.rate or 60.0
        args.seconds = 8 if args.seconds == 20 else args.seconds
        result = bench_memory(args)
    elif args.mode == "gc":
        result = bench_gc(args)
    elif args.mode == "shutdown":
        args.connections = args.connections or 80
        result = bench_shutdown(args)
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
