"""Survival benchmark: Kaplan–Meier + log-rank on N rows (default 10 million) through DuckDB (mmemd) against
lifelines on the same data, and the ratio.

Run: ``python3 benchmarks/bench_survival.py [--rows N] [--groups K] [--skip-lifelines]``.
The data are generated inside DuckDB (never as a pandas frame) and written to a temporary Parquet file: exponential
survival times in days (rounded, so many ties, as in a registry), uniform censoring, K groups with different hazards
and delayed entry for a quarter of the patients. Timings are wall-clock, best of ``--repeat`` runs; lifelines runs
once (it needs the whole table in pandas). Not a test: it prints figures and never fails on speed.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_data(path: Path, rows: int, groups: int) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SELECT setseed(0.42)")
    # Hazard rises with the group number; times in whole days up to 10 years; censoring uniform over 10 years.
    con.execute(
        f"""
        COPY (
          WITH base AS (
            SELECT i, i % {groups} AS grp,
                   -ln(1 - random()) * 900.0 / (1 + 0.15 * (i % {groups})) AS t_event,
                   random() * 3650.0 AS t_censor,
                   random() AS u
            FROM range({rows}) r(i)
          )
          SELECT i AS id,
                 'arm' || grp::VARCHAR AS arm,
                 greatest(1, round(least(t_event, t_censor)))::DOUBLE AS days,
                 (t_event <= t_censor)::INTEGER AS dead,
                 CASE WHEN u < 0.25 THEN floor(u * 4 * least(t_event, t_censor) * 0.5) ELSE 0 END::DOUBLE AS entry
          FROM base
        ) TO '{path}' (FORMAT parquet)
        """
    )
    con.close()


def bench_mmemd(path: Path, entry: str | None, repeat: int) -> tuple[float, float, float, object, object]:
    from mmemd.research.survival import kaplan_meier
    from mmemd.research.survival._backend import open_table
    from mmemd.research.survival._kaplan_meier import km_group
    from mmemd.research.survival._logrank import logrank_from_tables
    from mmemd.research.survival._risk_sets import pool, risk_tables

    best_api = best_cli = float("inf")
    km = lr = None
    for r in range(repeat):
        _say(f"mmemd/DuckDB run {r + 1}/{repeat}: kaplan_meier(group, overall), .logrank included")
        t0 = time.perf_counter()
        km = kaplan_meier(
            path, time="days", event="dead", entry=entry, group="arm", at=(365, 730), overall=True
        )
        lr = km.logrank
        best_api = min(best_api, time.perf_counter() - t0)
        # The CLI's path: one engine pass feeds the curves, the pooled curve and the test.
        t0 = time.perf_counter()
        tables, _ = risk_tables(open_table(path), time="days", event="dead", entry=entry, group="arm")
        km_group(pool(tables), (365, 730), 0.95, None)
        for rt in tables:
            km_group(rt, (365, 730), 0.95, str(rt.name))
        logrank_from_tables(tables)
        best_cli = min(best_cli, time.perf_counter() - t0)
    return best_api, best_cli, _peak_mb(), km, lr


def bench_lifelines(path: Path, entry: str | None) -> tuple[float, float, float, object, float]:
    import pyarrow.parquet as pq
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    _say("lifelines: loading the Parquet file into pandas")
    t0 = time.perf_counter()
    cols = ["arm", "days", "dead", *([entry] if entry else [])]
    df = pq.read_table(path, columns=cols).to_pandas()
    load = time.perf_counter() - t0
    _say(f"lifelines: loaded in {load:.1f} s; fitting Kaplan–Meier (overall + per group)")
    t0 = time.perf_counter()
    kmf = KaplanMeierFitter().fit(df["days"], df["dead"], entry=df[entry] if entry else None)
    median = float(kmf.median_survival_time_)
    for _, part in df.groupby("arm"):
        KaplanMeierFitter().fit(part["days"], part["dead"], entry=part[entry] if entry else None)
    _say("lifelines: log-rank")
    res = multivariate_logrank_test(df["days"], df["arm"], df["dead"])
    return time.perf_counter() - t0, load, _peak_mb(), res.test_statistic, median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--groups", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--entry", action="store_true", help="use delayed entry (left truncation) in both")
    parser.add_argument("--skip-lifelines", action="store_true")
    args = parser.parse_args()
    entry = "entry" if args.entry else None

    with tempfile.TemporaryDirectory(prefix="mmemd-bench-survival-") as tmp:
        path = Path(tmp) / "cohort.parquet"
        _say(f"generating {args.rows:,} rows in DuckDB -> {path.name}")
        t0 = time.perf_counter()
        make_data(path, args.rows, args.groups)
        _say(f"generated in {time.perf_counter() - t0:.1f} s ({path.stat().st_size / 1e6:.0f} MB Parquet)")

        api, cli, peak, km, lr = bench_mmemd(path, entry, args.repeat)
        overall = km.groups[0]  # type: ignore[attr-defined]
        print(f"rows: {args.rows:,}  groups: {args.groups}  delayed entry: {bool(entry)}")
        print(f"distinct times (overall curve): {len(overall.steps.times):,}")
        print(f"mmemd/DuckDB  KM + log-rank, kaplan_meier() incl. versions: {api:.2f} s")
        print(f"mmemd/DuckDB  KM + log-rank, engine pass + numpy only:       {cli:.2f} s")
        print(f"mmemd peak RSS so far: {peak:.0f} MB")
        print(f"median {overall.median}  log-rank chi2 {lr.chi2:.4f} on {lr.df} df")  # type: ignore[attr-defined]
        if args.skip_lifelines:
            return
        ll, load, peak2, chi2, median = bench_lifelines(path, entry)
        print(
            f"lifelines     KM + log-rank (data already in pandas):     {ll:.2f} s  (+ {load:.2f} s to load)"
        )
        print(f"lifelines peak RSS (whole process): {peak2:.0f} MB")
        print(f"lifelines median {median}  log-rank chi2 {chi2:.4f}")
        print(
            f"ratio lifelines / mmemd kaplan_meier(): {ll / api:.1f}x   (with lifelines' load: {(ll + load) / api:.1f}x)"
        )
        if entry is not None:
            print(
                "note: lifelines' multivariate_logrank_test ignores delayed entry, so its chi2 differs here"
            )
        else:
            assert abs(chi2 - lr.chi2) <= 1e-6 * max(1.0, chi2), "the two implementations disagree"  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
