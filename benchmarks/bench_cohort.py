"""Benchmark of ``mmemd cohort analyze`` on a 100,000-patient synthetic cohort (target <= 60 s on 2 cores,
peak memory < 4 GB).

    python3 benchmarks/bench_cohort.py [--n 100000] [--seed 7] [--dir /tmp/mmemd-bench-cohort] [--workers 2]

Generates the cohort once (reused when its ``cohort.json`` matches), then runs the CLI under ``/usr/bin/time -v``
and prints wall time, CPU time (user + sys, all processes), peak resident memory of the largest process, the
per-step timings the analysis records, and the machine's load average (other work on a shared machine inflates wall
time but not CPU time).
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "mmemd-bench-cohort")
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()

    manifest = _ensure_cohort(args.n, args.seed, args.dir)
    rows = manifest["rows"]
    assert isinstance(rows, dict)
    print(f"cohort: {rows['patients']} patients, {rows['assessments']} assessments")
    out = args.dir.parent / "mmemd-bench-cohort.json"
    report = args.dir.parent / "mmemd-bench-cohort.html"
    cmd = [
        sys.executable,
        "-c",
        "from mmemd.cli import main; main()",
        "cohort",
        "analyze",
        str(args.dir),
        "--json",
        "--report",
        str(report),
    ]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    load = os.getloadavg()
    t0 = time.perf_counter()
    with out.open("w") as fh:
        proc = subprocess.run(timer + cmd, stdout=fh, stderr=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return proc.returncode
    result = json.loads(out.read_text())
    print(f"wall: {wall:.1f} s (load average before: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f})")
    if timer:
        user = float(re.search(r"User time \(seconds\): ([\d.]+)", proc.stderr).group(1))  # type: ignore[union-attr]
        sys_t = float(re.search(r"System time \(seconds\): ([\d.]+)", proc.stderr).group(1))  # type: ignore[union-attr]
        rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))  # type: ignore[union-attr]
        print(f"cpu: {user + sys_t:.1f} s (user {user:.1f}, sys {sys_t:.1f})")
        print(f"peak RSS (largest process): {rss_kb / 1024:.0f} MiB")
    print("steps (s):", ", ".join(f"{k} {v}" for k, v in result["timings_s"].items()))
    print(f"report: {report} ({report.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
