"""Benchmark of the patient registry: a registry of N patients x V visits on SQLite and/or PostgreSQL.

    python3 benchmarks/bench_registry.py [--patients 10000] [--visits 20] [--backend sqlite|postgresql|both]
        [--pg-url postgresql://...] [--samples 300] [--clinicians 20] [--seconds 300] [--dir /tmp/mmemd-bench-reg]

Measured, in-process (the library) and through the ASGI app (FastAPI TestClient: routing, auth, audit, JSON; no
sockets):

- patient page: ``GET /v1/patients/{id}`` + ``GET …/history``;  ``GET …/assessment``;
- adding a visit (store + recompute the assessment): ``POST …/visits`` then ``GET …/assessment``;
- export of the registry to the cohort tables (seconds; and per 100,000 patients, extrapolated linearly);
- ``--clinicians`` threads adding visits (each to its own patients, with If-Match) for ``--seconds``: writes
  acknowledged vs visits stored (lost writes) and 5xx answers.

Without ``--pg-url`` a throw-away PostgreSQL server is started from Debian's ``postgresql`` binaries. The registry
is loaded in bulk (one change per patient carrying all visits) and reused when the directory's manifest matches.
Prints p50/p99 in milliseconds; percentiles are nearest-rank over ``--samples`` random patients.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import math
import os
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BASE = Path(__file__).resolve().parents[1] / "src" / "mmemd" / "examples" / "emd-liver-rrmm-pr.json"


def _record(i: int, visits: int) -> dict[str, Any]:
    rec: dict[str, Any] = json.loads(BASE.read_text(encoding="utf-8"))
    rec["id"] = f"bench-{i}"
    first = dt.date(2025, 6, 1)
    rows = []
    for v in range(visits):
        m = max(0.1, 3.0 * (0.85**v))
        a: dict[str, Any] = {
            "date": (first + dt.timedelta(days=30 * v)).isoformat(),
            "serum_m_protein": {"value": round(m, 2), "unit": "g/dL"},
            "serum_ife": "positive",
            "plasmacytomas": [{"lesion": "L1", "longest_cm": 4.0, "perpendicular_cm": 3.0}],
            "new_lesion": False,
        }
        if v == 0:
            a["bone_marrow_plasma_cells_pct"] = 40
        rows.append(a)
    rec["assessments"] = rows
    return rec


def _next_day(record: dict[str, Any]) -> str:
    last = max(dt.date.fromisoformat(a["date"]) for a in record["assessments"])
    return (last + dt.timedelta(days=1)).isoformat()


def _pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))] * 1000


def _start_pg(d: Path) -> tuple[str, subprocess.Popen[bytes]]:
    bindir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
    d.mkdir(parents=True, exist_ok=True)
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(d, "postgres")
    data = d / "data"
    if not data.exists():
        subprocess.run(
            [*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
        )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            *prefix,
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(d),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "max_connections=100",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import psycopg

    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    for _ in range(300):
        try:
            psycopg.connect(url).close()
            break
        except psycopg.OperationalError:
            time.sleep(0.1)
    return url, proc


def _load(url: str, n: int, visits: int) -> None:
    from mmemd.registry import Registry

    reg = Registry(url)
    have = len(reg.patient_ids())
    batch = 250
    t0 = time.perf_counter()
    for start in range(have, n, batch):
        recs = [_record(i, visits) for i in range(start, min(n, start + batch))]
        reg.create_many(recs, author="bench-loader")
    if n > have:
        print(f"  loaded {n - have} patients x {visits} visits in {time.perf_counter() - t0:.1f} s")
    reg.close()


def _bench(url: str, label: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from mmemd.advice import assess_with_advice
    from mmemd.registry import Registry
    from mmemd.registry._export import export_cohort
    from mmemd.service import ServiceConfig, create_app
    from mmemd.service._config import hash_api_key

    _load(url, args.patients, args.visits)
    out: dict[str, Any] = {"backend": label, "patients": args.patients, "visits": args.visits}
    reg = Registry(url, pool_size=args.clinicians + 4)
    ids = reg.patient_ids()
    rng = random.Random(7)
    sample = rng.sample(ids, min(args.samples, len(ids)))

    page, assess, visit = [], [], []
    for pid in sample:
        t = time.perf_counter()
        reg.get(pid)
        reg.history(pid)
        page.append(time.perf_counter() - t)
        t = time.perf_counter()
        doc, _ = assess_with_advice(reg.get(pid).record)
        doc.model_dump_json(by_alias=True)
        assess.append(time.perf_counter() - t)
    for pid in sample:
        # the day after the patient's last visit: reruns on the same registry never collide
        day = _next_day(reg.get(pid).record)
        t = time.perf_counter()
        p = reg.add_visit(pid, {"date": day, "serum_ife": "positive"}, author="bench")
        assess_with_advice(p.record)[0].model_dump_json(by_alias=True)
        visit.append(time.perf_counter() - t)
    for name, xs in (
        ("library_patient_page", page),
        ("library_assessment", assess),
        ("library_add_visit", visit),
    ):
        out[name] = {"p50_ms": round(_pct(xs, 50), 2), "p99_ms": round(_pct(xs, 99), 2), "n": len(xs)}

    key = "bench-key-0001"
    app = create_app(ServiceConfig(api_key_hashes=[hash_api_key(key)], database_url=url))
    h = {"X-API-Key": key}
    page, assess, visit = [], [], []
    with TestClient(app) as c:
        for pid in sample:
            t = time.perf_counter()
            r1 = c.get(f"/v1/patients/{pid}", headers=h)
            r2 = c.get(f"/v1/patients/{pid}/history", headers=h)
            page.append(time.perf_counter() - t)
            assert r1.status_code == r2.status_code == 200
            t = time.perf_counter()
            assert c.get(f"/v1/patients/{pid}/assessment", headers=h).status_code == 200
            assess.append(time.perf_counter() - t)
            t = time.perf_counter()
            r = c.post(f"/v1/patients/{pid}/visits", json={"date": _next_day(r1.json())}, headers=h)
            assert r.status_code == 201, r.text
            assert c.get(f"/v1/patients/{pid}/assessment", headers=h).status_code == 200
            visit.append(time.perf_counter() - t)
        for name, xs in (("http_patient_page", page), ("http_assessment", assess), ("http_add_visit", visit)):
            out[name] = {"p50_ms": round(_pct(xs, 50), 2), "p99_ms": round(_pct(xs, 99), 2), "n": len(xs)}

        # concurrent clinicians, each on their own patients, with If-Match
        stop = time.monotonic() + args.seconds
        acked = [0] * args.clinicians
        fivexx = [0]
        mine = {k: ids[k :: args.clinicians][:50] for k in range(args.clinicians)}
        before = {pid: len(reg.get(pid).record["assessments"]) for k in mine for pid in mine[k]}

        def clinician(k: int) -> None:
            n = 0
            while time.monotonic() < stop:
                pid = mine[k][n % len(mine[k])]
                g = c.get(f"/v1/patients/{pid}", headers=h)
                if g.status_code >= 500:
                    fivexx[0] += 1
                    continue
                body = {"date": _next_day(g.json()), "serum_ife": "positive"}
                r = c.post(
                    f"/v1/patients/{pid}/visits", json=body, headers={**h, "If-Match": g.headers["etag"]}
                )
                if r.status_code >= 500:
                    fivexx[0] += 1
                elif r.status_code == 201:
                    acked[k] += 1
                n += 1

        threads = [threading.Thread(target=clinician, args=(k,)) for k in range(args.clinicians)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    stored = 0
    for k in range(args.clinicians):
        for pid in mine[k]:
            stored += len(reg.get(pid).record["assessments"]) - before[pid]
    out["concurrent"] = {
        "clinicians": args.clinicians,
        "seconds": round(wall, 1),
        "visits_acknowledged": sum(acked),
        "visits_stored": stored,
        "lost_writes": sum(acked) - stored,
        "5xx": fivexx[0],
        "visits_per_s": round(sum(acked) / wall, 1),
    }
    registry = app.state.registry
    registry.close()

    t = time.perf_counter()
    summary = export_cohort(reg, workdir / f"export-{label}")
    secs = time.perf_counter() - t
    out["export"] = {
        "patients": summary.rows["patients"],
        "seconds": round(secs, 1),
        "seconds_per_100k_extrapolated": round(secs * 100_000 / max(1, summary.rows["patients"]), 1),
    }
    reg.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=10_000)
    ap.add_argument("--visits", type=int, default=20)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--pg-url", default=None)
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--clinicians", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "mmemd-bench-registry")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    results = []
    pg_proc = None
    try:
        if args.backend in ("sqlite", "both"):
            db = args.dir / f"registry-{args.patients}x{args.visits}.sqlite3"
            results.append(_bench(f"sqlite:///{db}", "sqlite", args, args.dir))
        if args.backend in ("postgresql", "both"):
            url = args.pg_url
            if url is None:
                url, pg_proc = _start_pg(args.dir / f"pg-{args.patients}x{args.visits}")
            results.append(_bench(url, "postgresql", args, args.dir))
    finally:
        if pg_proc is not None:
            pg_proc.terminate()
            pg_proc.wait(timeout=60)
    print(json.dumps({"load_average": os.getloadavg(), "cpus": os.cpu_count(), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
