"""Benchmark of ``mmemd cohort analyze`` on a synthetic cohort, DuckDB and Spark local mode, same data, same run
(targets at 1,000,000 patients: DuckDB <= 5 min with peak memory <= 4 GB; Spark ``local[2]`` within 3x DuckDB).

    python3 benchmarks/bench_cohort.py [--n 100000] [--seed 7] [--dir /tmp/mmemd-bench-cohort] [--workers 2]
                                       [--backends duckdb,spark] [--spark-master local[2]]

Generates the cohort once (reused when its ``cohort.json`` matches), then runs the CLI once per backend under
``/usr/bin/time -v`` and prints, per backend: wall time; CPU time (user + sys of the process and the children it
waited for: the response step's worker processes, not Spark's JVM); the CPU of the whole process tree sampled from
/proc (the only CPU figure that includes Spark's JVM and its Python workers); peak resident memory of the largest
process; the per-step timings the analysis records. Then Spark's wall and CPU as a ratio of DuckDB's, and whether the
two analyses agree. The load average is printed too: other work on a shared machine inflates wall time, not CPU time.
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


def _tree_cpu(root: int, seen: dict[int, float]) -> None:
    """Record the CPU seconds (user + sys) so far of ``root`` and every descendant, from /proc. Needed for Spark:
    its JVM (and the JVM's Python workers) are not waited for by the driver process, so ``/usr/bin/time`` does not
    count them."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parent.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    for pid in tree:
        if pid in times:
            seen[pid] = max(seen.get(pid, 0.0), times[pid])


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
    seen: dict[int, float] = {}
    with out.open("w") as fh, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(timer + cmd, stdout=fh, stderr=err, text=True, env=env)
        while child.poll() is None:
            _tree_cpu(child.pid, seen)
            time.sleep(0.5)
        err.seek(0)
        stderr = err.read()
    wall = time.perf_counter() - t0
    proc = subprocess.CompletedProcess(child.args, child.returncode, None, stderr)
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
    # Sampled every 0.5 s, so the last half second of a process may be missing: a lower bound.
    row["tree_cpu"] = sum(seen.values())
    label = backend if backend != "spark" else f"spark {args.spark_master}"
    print(f"{label}: wall {wall:.1f} s (load average before: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f})")
    if timer:
        print(
            f"  cpu {row['cpu']:.1f} s (user {user:.1f}, sys {sys_t:.1f}, processes waited for); "
            f"peak RSS (largest process) {row['rss_mib']:.0f} MiB"
        )
    print(f"  cpu of the whole process tree (sampled from /proc, JVM included): {row['tree_cpu']:.1f} s")
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
        print(
            f"spark / duckdb: wall {s['wall'] / d['wall']:.2f}x, "
            f"cpu (process tree) {s['tree_cpu'] / max(d['tree_cpu'], 1e-9):.2f}x"
        )
        same = all(d["result"][k] == s["result"][k] for k in ("rows", "incidence", "response"))
        print(f"rows, incidence and response equal on both backends: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
