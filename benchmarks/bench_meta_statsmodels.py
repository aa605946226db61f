"""Meta-analysis per fit against statsmodels' ``combine_effects`` at k = 100 … 10,000 studies, same run.

Run: ``python benchmarks/bench_meta_statsmodels.py [--ks 100,1000,10000] [--repeat 50]``.
Same simulated log-odds (PLO) effect sizes for both; DerSimonian–Laird (statsmodels ``method_re="chi2"``) and
Paule–Mandel (statsmodels ``method_re="iterated"``, its iterated moment estimator). Each fit is timed in-process,
interleaved (mmemd, statsmodels, mmemd, …), median of ``--repeat``; τ² and the pooled estimate are compared.
mmemd's fit includes what ``mmemd meta`` reports (Q, I², H², prediction interval, every study's interval, weight
and back-transformed value); statsmodels' includes its own per-study table. REML (no statsmodels counterpart) is
listed for reference. Not a test: it prints figures and never fails on speed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ks", default="100,1000,10000")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    from statsmodels.stats.meta_analysis import combine_effects

    from mmemd.research import meta

    print(
        f"load average {os.getloadavg()[0]:.1f} (2 cores, shared); medians of {args.repeat} interleaved fits"
    )
    print(f"{'k':>7} {'method':>6} {'mmemd':>10} {'statsmodels':>12} {'ratio':>7}  {'|Δτ²|':>8} {'|Δμ|':>8}")
    for k in [int(x) for x in args.ks.split(",")]:
        rng = np.random.default_rng(k)
        n = rng.integers(20, 400, k)
        events = rng.binomial(n, rng.beta(6, 4, k))
        es = meta.proportions("PLO", events.tolist(), n.tolist())
        for ours, theirs in (("DL", "chi2"), ("PM", "iterated"), ("REML", None)):
            t_m: list[float] = []
            t_s: list[float] = []
            r = c = None
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                r = meta.rma(es, ours)
                t_m.append(time.perf_counter() - t0)
                if theirs:
                    t0 = time.perf_counter()
                    c = combine_effects(es.yi, es.vi, method_re=theirs)
                    t_s.append(time.perf_counter() - t0)
            assert r is not None
            m_ms = statistics.median(t_m) * 1e3
            if theirs and c is not None:
                s_ms = statistics.median(t_s) * 1e3
                d_tau = abs(r.tau2 - float(c.tau2))
                d_mu = abs(r.estimate - float(c.mean_effect_re))
                print(
                    f"{k:>7,} {ours:>6} {m_ms:>7.2f} ms {s_ms:>9.2f} ms {m_ms / s_ms:>7.2f}  {d_tau:8.1e} {d_mu:8.1e}"
                )
            else:
                print(f"{k:>7,} {ours:>6} {m_ms:>7.2f} ms {'—':>12}")


if __name__ == "__main__":
    main()
