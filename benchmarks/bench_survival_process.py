"""Whole-process Kaplan–Meier + log-rank: ``mmemd survival`` against an R script and a lifelines script on the same
CSV, interleaved, in the same run.

Run: ``python benchmarks/bench_survival_process.py [--rows 100000,1000000,10000000] [--times whole,float]
[--rounds 3] [--large-rounds 1]``. Each tool starts a fresh process, reads the CSV, fits the overall and per-group
curves and the log-rank test, and prints a result (so no tool skips work). Wall and CPU (user + sys of the child) are
medians of the rounds (``--large-rounds`` at 10 million rows and more, which take minutes); peak RSS is the largest
of the child's rounds. The CSV is written by a separate process: Linux counts a child's peak RSS from the fork, so a
parent holding 10 million rows of numpy would inflate the figure of a lean child. ``--tools`` runs a subset. The machine is shared, so CPU is the figure to compare. The last block is the table
docs/performance.md quotes. Not a test: it prints figures and never fails on speed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survival))
d <- read.csv(commandArgs(trailingOnly = TRUE)[[1]])
f <- survfit(Surv(time, status) ~ arm, data = d, conf.type = "log-log")
o <- survfit(Surv(time, status) ~ 1, data = d, conf.type = "log-log")
s <- survdiff(Surv(time, status) ~ arm, data = d)
cat(s$chisq, quantile(o, 0.5)$quantile, "\n")
"""

LIFELINES_SCRIPT = r"""
import sys
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
d = pd.read_csv(sys.argv[1])
KaplanMeierFitter().fit(d["time"], d["status"])
for _, g in d.groupby("arm"):
    KaplanMeierFitter().fit(g["time"], g["status"])
r = multivariate_logrank_test(d["time"], d["arm"], d["status"])
print(r.test_statistic)
"""

MMEMD = "mmemd survival"
MMEMD_CLI = [sys.executable, "-c", "from mmemd.cli import main; main()"]
# the same analysis as the two scripts: overall and per-arm curves, log-rank across arms
KM_OPTIONS = ["--time", "time", "--event", "status", "--group", "arm", "--json"]


def _run(cmd: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one child process, from its own rusage (os.wait4)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} exited {proc.returncode}: {err.decode()[-400:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _write_csv(path: Path, rows: int, kind: str) -> None:
    """Two arms, exponential event times (hazard ratio 1.15), uniform censoring over 10 years; whole days or times
    to 6 significant digits (up to 3 decimals: nearly every row its own time below 1000 days)."""
    rng = np.random.default_rng(rows)
    arm = rng.integers(0, 2, rows)
    t_event = rng.exponential(900.0, rows) / (1 + 0.15 * arm)
    t_cens = rng.uniform(0, 3650, rows)
    t = np.minimum(t_event, t_cens)
    t = np.round(t, 3) if kind == "float" else np.maximum(1, np.round(t))
    status = (t_event <= t_cens).astype(int)
    with path.open("w", encoding="ascii") as fh:
        fh.write("time,status,arm\n")
        fh.writelines(f"{a:g},{b},arm{c}\n" for a, b, c in zip(t, status, arm, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", default="100000,1000000,10000000")
    parser.add_argument("--times", default="whole,float", help="whole, float or both (comma-separated)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--large-rounds", type=int, default=1, help="rounds at 10 million rows and more")
    parser.add_argument("--tools", default="mmemd,lifelines,R", help="a subset of mmemd, lifelines, R")
    parser.add_argument("--write-csv", nargs=3, metavar=("PATH", "ROWS", "KIND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_csv:
        path, rows, kind = args.write_csv
        _write_csv(Path(path), int(rows), kind)
        return
    wanted = set(args.tools.split(","))
    rscript = shutil.which("Rscript")
    load_start = os.getloadavg()[0]
    print(f"load average {load_start:.1f} at the start (2 cores, shared); medians of interleaved rounds")
    table: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        r_file = Path(tmp) / "km.R"
        r_file.write_text(R_SCRIPT, encoding="utf-8")
        l_file = Path(tmp) / "km_lifelines.py"
        l_file.write_text(LIFELINES_SCRIPT, encoding="utf-8")
        for rows in [int(x) for x in args.rows.split(",")]:
            for kind in args.times.split(","):
                csv = Path(tmp) / f"km_{rows}_{kind}.csv"
                subprocess.run(
                    [sys.executable, __file__, "--write-csv", str(csv), str(rows), kind], check=True
                )
                tools = {
                    MMEMD: [*MMEMD_CLI, "survival", str(csv), *KM_OPTIONS],
                    "lifelines": [sys.executable, str(l_file), str(csv)],
                }
                if rscript:
                    tools["R survival"] = [rscript, "--vanilla", str(r_file), str(csv)]
                tools = {k: v for k, v in tools.items() if k.split()[0] in wanted}
                runs: dict[str, list[tuple[float, float, float]]] = {k: [] for k in tools}
                for _ in range(args.large_rounds if rows >= 10_000_000 else args.rounds):
                    for name, cmd in tools.items():
                        runs[name].append(_run(cmd))
                csv.unlink()
                med = {
                    name: (
                        statistics.median(r[0] for r in rs),
                        statistics.median(r[1] for r in rs),
                        max(r[2] for r in rs),
                    )
                    for name, rs in runs.items()
                }
                if MMEMD not in med:
                    continue
                ours = med[MMEMD][1]
                print(f"{rows:,} rows ({kind} times), {len(runs[MMEMD])} round(s):", flush=True)
                for name, (wall, cpu, rss) in med.items():
                    ratio = "" if name == MMEMD else f"  mmemd / this (CPU): {ours / cpu:.2f}"
                    print(f"  {name:<15} wall {wall:7.2f} s  CPU {cpu:7.2f} s  peak RSS {rss:6.0f} MB{ratio}")
                peers = [
                    f"{med[p][1]:.2f} s, {med[p][2]:,.0f} MB (**{ours / med[p][1]:.2f}**)"
                    if p in med
                    else "not run"
                    for p in ("lifelines", "R survival")
                ]
                table.append(
                    f"| {rows:,} | {'whole days' if kind == 'whole' else 'float'} | "
                    f"{ours:.2f} s, {med[MMEMD][2]:,.0f} MB | {peers[0]} | {peers[1]} |"
                )
    print(
        f"\nload average {os.getloadavg()[0]:.1f} at the end; CPU (user + sys), peak RSS, ratio mmemd / peer:\n"
    )
    print("| rows | times | mmemd | lifelines (ratio) | R survival (ratio) |")
    print("|---|---|---|---|---|")
    print("\n".join(table))


if __name__ == "__main__":
    main()
