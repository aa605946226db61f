"""Cox benchmark: mmemd's vectorised Efron fit against R ``coxph`` and lifelines on the same rows, same run.

Run: ``python benchmarks/bench_cox.py [--rows 10000,100000,1000000] [--repeat 3] [--lifelines-max 100000]``.
Data: integer-day times (many ties, as in a registry), about 70 % events, 3 covariates (age-like normal, a binary
sex, a normal lab value) with true log-hazard ratios 0.02, −0.4, 0.3. For each size the script times

* compute, in-process: ``cox_fit`` on numpy arrays (mmemd), ``coxph(..., ties = "efron")`` inside R (``system.time``
  around the fit only, data already in a data frame), ``CoxPHFitter.fit`` (lifelines, Efron) — best of ``--repeat``;
* whole process: ``mmemd survival FILE --cox ...`` (read, KM, Cox, JSON) against ``Rscript`` reading the same CSV
  and fitting — once each.

Coefficients are compared across tools. Timings are wall-clock on a shared 2-core machine (load average printed).
Not a test: it prints figures and never fails on speed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

R_FIT = r"""
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[[1]])
reps <- as.integer(args[[2]])
best <- Inf
for (i in seq_len(reps)) {
  t <- system.time(f <- coxph(Surv(time, status) ~ age + sex + lab, data = d, ties = "efron"))[["elapsed"]]
  best <- min(best, t)
}
cat(sprintf("%.17g", best), sprintf("%.17g", coef(f)), "\n")
"""


def make_data(path: Path, rows: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    age = rng.normal(65, 10, rows)
    sex = rng.integers(0, 2, rows).astype(np.float64)
    lab = rng.normal(0, 1, rows)
    lin = 0.02 * (age - 65) - 0.4 * sex + 0.3 * lab
    t_event = rng.exponential(900.0, rows) * np.exp(-lin)
    t_cens = rng.uniform(0, 2500, rows)
    time_ = np.maximum(1.0, np.ceil(np.minimum(t_event, t_cens)))
    status = (t_event <= t_cens).astype(np.int64)
    with path.open("w", encoding="ascii") as fh:
        fh.write("time,status,age,sex,lab\n")
        for row in zip(time_, status, np.round(age, 3), sex, np.round(lab, 4), strict=True):
            fh.write("{:.0f},{},{:.3f},{:.0f},{:.4f}\n".format(*row))
    # Read back what was written (rounded), so every tool fits the very same numbers.
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return {"time": data[:, 0], "status": data[:, 1], "x": data[:, 2:5]}


def best_of(fn: object, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lifelines-max", type=int, default=100_000)
    args = parser.parse_args()
    from mmemd.research.survival._cox_fit import cox_fit

    rscript = shutil.which("Rscript")
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores, shared)")
    with tempfile.TemporaryDirectory() as tmp:
        r_file = Path(tmp) / "fit.R"
        r_file.write_text(R_FIT, encoding="utf-8")
        for rows in [int(x) for x in args.rows.split(",")]:
            path = Path(tmp) / f"cox_{rows}.csv"
            d = make_data(path, rows)
            t_ours, fit = best_of(
                lambda d=d: cox_fit(d["time"], d["status"] == 1, d["x"], ties="efron"), args.repeat
            )
            line = f"{rows:>9,} rows, {int(d['status'].sum()):,} events: mmemd compute {t_ours:.3f} s"
            coefs = {"mmemd": np.asarray(fit.coef)}  # type: ignore[attr-defined]
            t_r = None
            if rscript:
                out = subprocess.run(
                    [rscript, "--vanilla", str(r_file), str(path), str(args.repeat)],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()
                t_r = float(out[0])
                coefs["R"] = np.array([float(v) for v in out[1:4]])
                line += f" | R coxph {t_r:.3f} s (ratio mmemd/R {t_ours / t_r:.2f})"
            if rows <= args.lifelines_max:
                import pandas as pd
                from lifelines import CoxPHFitter  # type: ignore[import-untyped,unused-ignore]

                frame = pd.DataFrame(d["x"], columns=["age", "sex", "lab"]).assign(
                    time=d["time"], status=d["status"]
                )
                t_l, cph = best_of(
                    lambda frame=frame: CoxPHFitter().fit(frame, duration_col="time", event_col="status"), 1
                )
                coefs["lifelines"] = np.asarray(cph.params_.to_numpy())  # type: ignore[attr-defined]
                line += f" | lifelines {t_l:.3f} s (ratio {t_ours / t_l:.3f})"
            print(line)
            ref = coefs["mmemd"]
            for name, c in coefs.items():
                if name != "mmemd":
                    print(f"    max |coef - {name}| = {np.max(np.abs(c - ref)):.1e}")
            # Whole process, once each.
            cmd = [
                sys.executable,
                "-c",
                "from mmemd.cli import main; main()",
                "survival",
                str(path),
                "--time",
                "time",
                "--event",
                "status",
                "--cox",
                "age + sex + lab",
                "--json",
            ]
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            t_proc = time.perf_counter() - t0
            if proc.returncode != 0:
                sys.exit(proc.stderr[-500:])
            json.loads(proc.stdout)
            whole = f"    whole process: mmemd survival --cox {t_proc:.2f} s (KM included)"
            if rscript:
                t0 = time.perf_counter()
                subprocess.run(
                    [rscript, "--vanilla", str(r_file), str(path), "1"], capture_output=True, check=True
                )
                t_rp = time.perf_counter() - t0
                whole += f" | Rscript read.csv + coxph {t_rp:.2f} s (ratio {t_proc / t_rp:.2f})"
            print(whole)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
