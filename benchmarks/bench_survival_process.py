"""Whole-process Kaplan–Meier + log-rank: ``mmemd survival`` against an R script and a lifelines script on the same
CSV, interleaved, in the same run.

Run: ``python benchmarks/bench_survival_process.py [--rows 100000,1000000] [--rounds 3] [--float-times]``.
Each tool starts a fresh process, reads the CSV, fits the overall and per-group curves and the log-rank test, and
prints a result (so no tool skips work). Wall time and CPU (user + sys of the child) are medians of ``--rounds``;
the machine is shared, so CPU is the figure to compare. Not a test: it prints figures and never fails on speed.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def _run(cmd: list[str]) -> tuple[float, float]:
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} exited {proc.returncode}: {proc.stderr.decode()[-400:]}")
    return wall, (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", default="100000,1000000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--float-times", action="store_true", help="continuous times instead of whole days")
    args = parser.parse_args()
    rscript = shutil.which("Rscript")
    print(
        f"load average {os.getloadavg()[0]:.1f} (2 cores, shared); medians of {args.rounds} interleaved rounds"
    )
    with tempfile.TemporaryDirectory() as tmp:
        r_file = Path(tmp) / "km.R"
        r_file.write_text(R_SCRIPT, encoding="utf-8")
        l_file = Path(tmp) / "km_lifelines.py"
        l_file.write_text(LIFELINES_SCRIPT, encoding="utf-8")
        for rows in [int(x) for x in args.rows.split(",")]:
            rng = np.random.default_rng(rows)
            arm = rng.integers(0, 2, rows)
            t_event = rng.exponential(900.0, rows) / (1 + 0.15 * arm)
            t_cens = rng.uniform(0, 3650, rows)
            t = np.minimum(t_event, t_cens)
            t = np.round(t, 3) if args.float_times else np.maximum(1, np.round(t))
            status = (t_event <= t_cens).astype(int)
            csv = Path(tmp) / f"km_{rows}.csv"
            with csv.open("w", encoding="ascii") as fh:
                fh.write("time,status,arm\n")
                fh.writelines(f"{a:g},{b},arm{c}\n" for a, b, c in zip(t, status, arm, strict=True))
            tools = {
                "mmemd survival": [
                    sys.executable,
                    "-c",
                    "from mmemd.cli import main; main()",
                    "survival",
                    str(csv),
                    "--time",
                    "time",
                    "--event",
                    "status",
                    "--group",
                    "arm",
                    "--json",
                ],
                "lifelines": [sys.executable, str(l_file), str(csv)],
            }
            if rscript:
                tools["R survival"] = [rscript, "--vanilla", str(r_file), str(csv)]
            walls: dict[str, list[float]] = {k: [] for k in tools}
            cpus: dict[str, list[float]] = {k: [] for k in tools}
            for _ in range(args.rounds):
                for name, cmd in tools.items():
                    w, c = _run(cmd)
                    walls[name].append(w)
                    cpus[name].append(c)
            ref = statistics.median(cpus["mmemd survival"])
            kind = "float" if args.float_times else "whole-day"
            print(f"{rows:,} rows ({kind} times):")
            for name in tools:
                c = statistics.median(cpus[name])
                print(
                    f"  {name:<15} wall {statistics.median(walls[name]):6.2f} s  CPU {c:6.2f} s"
                    f"  (mmemd / this: {ref / c:.2f})"
                )


if __name__ == "__main__":
    main()
