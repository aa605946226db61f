"""Benchmark of ``mmemd cohort analyze`` on a synthetic cohort, DuckDB and Spark local mode, same data, same run
(targets at 1,000,000 patients: DuckDB <= 5 min with peak memory <= 4 GB; Spark ``local[2]`` within 3x DuckDB).

    python3 benchmarks/bench_cohort.py [--n 100000] [--seed 7] [--dir /tmp/mmemd-bench-cohort] [--workers 2]
                                       [--backends duckdb,spark] [--spark-master local[2]]

Generates the cohort once (reused when its ``cohort.json`` matches), then runs the CLI once per backend under
``/usr/bin/time -v`` and prints, per backend, wall time, CPU time (user + sys of the process and the children it
waited for: the response step's worker processes; on Spark the JVM and its Python workers), peak resident memory of
the largest process, and the per-step timings the analysis records; then Spark's wall and CPU as a ratio of
DuckDB's, and the machine's load average (other work on a shared machine inflates wall time, not CPU time). The
two analyses' results are compared (they must be equal but for the engine name and timings).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _ensure_cohort(n: int, seed: int, d: Path) -> dict[str, object]:
    manifest = d / "cohort.json"
    if manifest.is_file():
        m = json.loads(manifest.read_text())
        if m.get("n") == n and m.get("seed") == seed:
            return dict(m)
    from mmemd.research.cohort import synth_cohort

    if d.exists():
        shutil.rmtree(d)
    t0 = time.perf_counter()
    synth_cohort(n, d, seed=seed)
    print(f"synth: {n} patients in {time.perf_counter() - t0:.1f} s")
    return dict(json.loads(manifest.read_text()))


def _run(backend: str, args: argparse.Namespace) -> dict[str, Any] | None:
    out = args.dir.parent / f"mmemd-bench-cohort-{backend}.json"
    report = args.dir.parent / f"mmemd-bench-cohort-{backend}.html"
    cmd = [
        sys.executable,
        "-c",
        "from mmemd.cli import main; main()",
        "cohort",
        "analyze",
        str(args.dir),
        "--backend",
        backend,
        "--json",
        "--report",
        str(report),
    ]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    env = dict(os.environ)
    if backend == "spark":
        env["MMEMD_SPARK_MASTER"] = args.spark_master
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    load = os.getloadavg()
    t0 = time.perf_counter()
    with out.open("w") as fh:
        proc = subprocess.run(timer + cmd, stdout=fh, stderr=subprocess.PIPE, text=True, check=False, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print(f"{backend}: exit {proc.returncode}\n{proc.stderr[-4000:]}", file=sys.stderr)
        return None
    result = json.loads(out.read_text())
    row: dict[str, Any] = {"backend": backend, "wall": wall, "load": load, "result": result}
    if timer:
        user = float(re.search(r"User time \(seconds\): ([\d.]+)", proc.stderr).group(1))  # type: ignore[union-attr]
        sys_t = float(re.search(r"System time \(seconds\): ([\d.]+)", proc.stderr).group(1))  # type: ignore[union-attr]
        rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))  # type: ignore[union-attr]
        row.update(cpu=user + sys_t, user=user, sys=sys_t, rss_mib=rss_kb / 1024)
    label = backend if backend != "spark" else f"spark {args.spark_master}"
    print(f"{label}: wall {wall:.1f} s (load average before: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f})")
    if timer:
        print(
            f"  cpu {row['cpu']:.1f} s (user {user:.1f}, sys {sys_t:.1f}); peak RSS (largest process) {row['rss_mib']:.0f} MiB"
        )
    print("  steps (s):", ", ".join(f"{k} {v}" for k, v in result["timings_s"].items()))
    return row


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "mmemd-bench-cohort")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--backends", default="duckdb,spark")
    ap.add_argument("--spark-master", default="local[2]")
    args = ap.parse_args()

    manifest = _ensure_cohort(args.n, args.seed, args.dir)
    rows = manifest["rows"]
    assert isinstance(rows, dict)
    print(f"cohort: {rows['patients']} patients, {rows['assessments']} assessments")
    runs = {}
    for backend in args.backends.split(","):
        row = _run(backend.strip(), args)
        if row is None:
            return 1
        runs[row["backend"]] = row
    if "duckdb" in runs and "spark" in runs:
        d, s = runs["duckdb"], runs["spark"]
        ratio = f"spark / duckdb: wall {s['wall'] / d['wall']:.2f}x"
        if "cpu" in d and "cpu" in s:
            ratio += f", cpu {s['cpu'] / d['cpu']:.2f}x"
        print(ratio)
        same = all(d["result"][k] == s["result"][k] for k in ("rows", "incidence", "response"))
        print(f"rows, incidence and response equal on both backends: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
