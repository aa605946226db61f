"""Meta-analysis benchmark: REML pooling of dat.bcg and of 10,000 simulated studies, leave-one-out,
the knowledge-base synthesis, and one forest plot.

Run: ``python benchmarks/bench_meta.py``. No target in the issue; figures go to docs/performance.md.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "tests" / "research_meta" / "data"


def _time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    os.environ.setdefault("MMEMD_CACHE_DIR", tempfile.mkdtemp(prefix="mmemd-bench-"))
    import numpy as np

    from mmemd import knowledge
    from mmemd.research import meta
    from mmemd.research.meta._forest import forest_plot
    from mmemd.research.meta._synthesize import synthesize

    bcg = meta.effect_sizes(meta.read_table(DATA / "dat_bcg.csv"), "RR")
    rng = np.random.default_rng(1)
    n = rng.integers(20, 400, 10_000)
    events = rng.binomial(n, rng.beta(6, 4, 10_000))
    big = meta.proportions("PLO", events.tolist(), n.tolist())
    kb = knowledge.load()
    synthesize(kb, "ORR")  # warm the claim cache
    out = Path(tempfile.mkdtemp()) / "forest.png"
    rows = [
        ("rma REML, dat.bcg (k=13)", _time(lambda: meta.rma(bcg, "REML"), 200)),
        ("rma PM, dat.bcg (k=13)", _time(lambda: meta.rma(bcg, "PM"), 200)),
        ("rma REML, k=10,000", _time(lambda: meta.rma(big, "REML"), 5)),
        ("leave-one-out REML, dat.bcg", _time(lambda: meta.leave_one_out(bcg, "REML"), 20)),
        ("synthesize ORR (knowledge base)", _time(lambda: synthesize(kb, "ORR"), 20)),
        ("forest plot PNG, dat.bcg", _time(lambda: forest_plot(meta.rma(bcg, "REML"), out), 3)),
    ]
    for name, secs in rows:
        print(f"{name:40s} {secs * 1000:9.2f} ms")


if __name__ == "__main__":
    main()
