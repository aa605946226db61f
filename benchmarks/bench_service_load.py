"""Loopback load test of ``mmemd serve``: open-loop, constant arrival rate.

Target: ``POST /v1/assessments`` p99 <= 25 ms at 200 requests/s sustained for 60 s on 2 cores, zero errors, server
RSS < 300 MB throughout.

Run: ``python3 benchmarks/bench_service_load.py [--rate 200] [--duration 60] [--connections 32] [--wrk]``.
Not a test: it prints figures (and a JSON summary line) and never fails on speed.

Why not plain ``wrk``: wrk is closed-loop — each connection waits for its answer before sending again, so a slow
response delays the next request instead of showing up as latency ("coordinated omission"), and the request rate is
whatever the server manages. Here request *i* is due at ``t0 + i / rate`` whatever happened before; its latency is
measured from that due time, so queueing on the client side counts against the server. Requests go over a pool of
keep-alive HTTP/1.1 connections (raw asyncio streams: the generator must cost far less than the server on a 2-core
machine). ``--wrk`` additionally runs Debian's wrk (closed-loop, ``bench_service_load.lua``) for comparison.

The server runs in its own process (``python -m mmemd.cli serve``, one uvicorn worker); its RSS is sampled from
``/proc/<pid>/status`` every 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _serve import (  # noqa: E402 - the benchmarks' shared server helpers
    KEY,
    REPO,
    RssSampler,
    build_request,
    free_port,
    pct,
    read_response,
    serve,
    stop,
)


async def open_loop(
    port: int, requests: list[bytes], rate: float, duration: float, connections: int
) -> dict[str, Any]:
    """Send ``rate * duration`` requests at a constant rate; request *i* is ``requests[i % len(requests)]``."""
    n = int(rate * duration)
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    latencies: list[float] = []
    errors: dict[str, int] = {}
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.2

    async def one(due: float, request: bytes) -> None:
        conn = await pool.get()
        try:
            reader, writer = conn
            writer.write(request)
            status = await read_response(reader)
            if status != 200:
                errors[str(status)] = errors.get(str(status), 0) + 1
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            conn = await asyncio.open_connection("127.0.0.1", port)
        finally:
            latencies.append(loop.time() - due)
            pool.put_nowait(conn)

    tasks = []
    for i in range(n):
        due = t0 + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, requests[i % len(requests)])))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - t0
    while not pool.empty():
        _, w = pool.get_nowait()
        w.close()
    return {"requests": n, "elapsed_s": elapsed, "latencies": latencies, "errors": errors}


def run_wrk(port: int, duration: int, connections: int, body_file: Path) -> str:
    if shutil.which("wrk") is None:
        return "wrk not installed"
    env = {**os.environ, "MMEMD_BENCH_BODY": str(body_file), "MMEMD_BENCH_KEY": KEY}
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(HERE / "bench_service_load.lua"),
            f"http://127.0.0.1:{port}/v1/assessments",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout + out.stderr


def patient_view_setup(tmp: Path, port: int, n_tokens: int, record_path: Path) -> tuple[Path, list[bytes]]:
    """A config trusting a fresh ES384 key, and one request per token (each JWT has its own ``jti``, §5 replay)."""
    cfg, make = patient_view_requests(tmp, port, record_path)
    return cfg, [make() for _ in range(n_tokens)]


def patient_view_requests(tmp: Path, port: int, record_path: Path) -> tuple[Path, Callable[[], bytes]]:
    """A config trusting a fresh ES384 key, and a function making one patient-view request with a new token."""
    import uuid

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    from mmemd.fhir import record_to_bundle

    key = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(jwt.get_algorithm_by_name("ES384").to_jwk(key.public_key()))
    jwk.update({"kid": "bench-1", "alg": "ES384", "use": "sig"})
    (tmp / "jwks.json").write_text(json.dumps({"keys": [jwk]}), encoding="utf-8")
    base = f"http://127.0.0.1:{port}"
    cfg = tmp / "mmemd.toml"
    cfg.write_text(
        f'public_base_url = "{base}"\n\n[[cds_hooks.issuers]]\niss = "https://ehr.bench"\n'
        f'jwks_file = "{tmp / "jwks.json"}"\n',
        encoding="utf-8",
    )
    # The full prefetch: the record as FHIR, one searchset per discovery key (the Patient as a single resource).
    keys = {
        "Patient": "patient",
        "Condition": "conditions",
        "Observation": "observations",
        "MedicationStatement": "medications",
        "Procedure": "procedures",
        "BodyStructure": "bodyStructures",
    }
    record = json.loads(record_path.read_text(encoding="utf-8"))
    found: dict[str, list[Any]] = {k: [] for k in keys.values()}
    for entry in record_to_bundle(record).get("entry", []):
        found[keys[entry["resource"]["resourceType"]]].append(entry["resource"])
    prefetch: dict[str, Any] = {"patient": found.pop("patient")[0]}
    for k, res in found.items():
        prefetch[k] = (
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": len(res),
                "entry": [{"resource": r} for r in res],
            }
            if res
            else None
        )
    url = f"{base}/cds-services/mmemd-patient-view"

    def make() -> bytes:
        now = int(time.time())
        tok = jwt.encode(
            {"iss": "https://ehr.bench", "aud": url, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())},
            key,
            algorithm="ES384",
            headers={"kid": "bench-1", "typ": "JWT"},
        )
        body = {
            "hook": "patient-view",
            "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/bench", "patientId": prefetch["patient"].get("id", "p")},
            "prefetch": prefetch,
        }
        return build_request(
            "/cds-services/mmemd-patient-view",
            json.dumps(body).encode(),
            port,
            auth=f"Authorization: Bearer {tok}",
        )

    return cfg, make


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", choices=["assessments", "patient-view"], default="assessments")
    ap.add_argument("--rate", type=float, default=200.0, help="requests per second (default 200)")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    ap.add_argument("--connections", type=int, default=32, help="keep-alive connections in the pool")
    ap.add_argument("--record", type=Path, default=REPO / "examples" / "emd-liver-rrmm-pr.json")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring")
    ap.add_argument("--wrk", action="store_true", help="also run wrk (closed-loop) for comparison")
    args = ap.parse_args()

    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="mmemd-bench-"))
    port = free_port()
    body = json.dumps(json.loads(args.record.read_text(encoding="utf-8"))).encode()
    n_warm = int(args.rate * args.warmup)
    n_run = int(args.rate * args.duration)
    config: Path | None = None
    if args.target == "patient-view":
        config, all_requests = patient_view_setup(tmp, port, n_warm + n_run, args.record)
        warm_requests, run_requests = all_requests[:n_warm], all_requests[n_warm:]
        route = "POST /cds-services/mmemd-patient-view"
    else:
        warm_requests = run_requests = [build_request("/v1/assessments", body, port)]
        route = "POST /v1/assessments"
    proc = serve(port, config)
    try:
        if n_warm > 0:
            asyncio.run(open_loop(port, warm_requests, args.rate, args.warmup, args.connections))
        sampler = RssSampler(proc.pid)
        sampler.start()
        res = asyncio.run(open_loop(port, run_requests, args.rate, args.duration, args.connections))
        sampler.stop.set()
        sampler.join()
        ms = sorted(x * 1000 for x in res["latencies"])
        summary = {
            "route": route,
            "target_rate": args.rate,
            "achieved_rate": round(res["requests"] / res["elapsed_s"], 1),
            "duration_s": round(res["elapsed_s"], 1),
            "requests": res["requests"],
            "errors": res["errors"],
            "p50_ms": round(pct(ms, 50), 2),
            "p90_ms": round(pct(ms, 90), 2),
            "p99_ms": round(pct(ms, 99), 2),
            "p999_ms": round(pct(ms, 99.9), 2),
            "max_ms": round(ms[-1], 2),
            "mean_ms": round(statistics.fmean(ms), 2),
            "rss_max_mb": round(max(sampler.samples), 1),
            "rss_start_mb": round(sampler.samples[0], 1),
            "cpus": len(os.sched_getaffinity(0)),
            "loadavg_1m_after": round(os.getloadavg()[0], 2),
        }
        print(
            f"{route} open-loop {summary['achieved_rate']} req/s for {summary['duration_s']} s "
            f"({summary['requests']} requests, errors: {summary['errors'] or 0})\n"
            f"  latency ms  p50 {summary['p50_ms']}  p90 {summary['p90_ms']}  p99 {summary['p99_ms']}  "
            f"p99.9 {summary['p999_ms']}  max {summary['max_ms']}\n"
            f"  server RSS  start {summary['rss_start_mb']} MB  max {summary['rss_max_mb']} MB; "
            f"1-min load average after the run {summary['loadavg_1m_after']} on {summary['cpus']} CPUs"
        )
        print(json.dumps(summary))
        if args.wrk and args.target == "assessments":
            body_file = tmp / "body.json"
            body_file.write_bytes(body)
            print("\nwrk (closed-loop, for comparison):")
            print(run_wrk(port, int(min(args.duration, 30)), 8, body_file))
    finally:
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
