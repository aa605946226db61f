"""Knowledge-base benchmarks: store load + first query, and search latency.

Run: ``python benchmarks/bench_knowledge.py`` (prints a JSON summary). Targets: load + first query <= 50 ms,
search median <= 5 ms. Not a test: timings are measured and reported in docs/performance.md, never asserted.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

QUERIES = [
    "泊马度胺",
    "pomalidomide",
    "CAR-T ORR",
    "中枢神经系统",
    "髓外",
    "预后",
    "daratumumab EMD",
    "ASCT OS",
    "lenalid",
]


def _in_fresh_process(code: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    return float(out.stdout.strip())


def main() -> None:
    os.environ.setdefault("MMEMD_CACHE_DIR", tempfile.mkdtemp(prefix="mmemd-bench-"))
    from mmemd import knowledge
    from mmemd.knowledge._store import build_store, store_path

    t0 = time.perf_counter()
    build_store(store_path())
    build_ms = (time.perf_counter() - t0) * 1e3

    # Load + first query in a fresh process, after imports (what a CLI call or a server start pays).
    load_code = (
        "import time\nfrom mmemd import knowledge\n"
        "t=time.perf_counter(); kb=knowledge.load(); kb.search('泊马度胺'); print((time.perf_counter()-t)*1e3)"
    )
    loads = [_in_fresh_process(load_code) for _ in range(7)]
    import_code = (
        "import time\nt=time.perf_counter()\nfrom mmemd import knowledge\n"
        "kb=knowledge.load(); kb.search('泊马度胺'); print((time.perf_counter()-t)*1e3)"
    )
    with_import = [_in_fresh_process(import_code) for _ in range(5)]

    kb = knowledge.load()
    for q in QUERIES:  # warm the claim cache as a long-running server would be
        kb.search(q)
    per_query: dict[str, float] = {}
    all_times: list[float] = []
    for q in QUERIES:
        times = []
        for _ in range(200):
            t = time.perf_counter()
            kb.search(q)
            times.append((time.perf_counter() - t) * 1e3)
        per_query[q] = round(statistics.median(times), 3)
        all_times += times
    filt = []
    for _ in range(200):
        t = time.perf_counter()
        kb.claims(agent="pomalidomide", endpoint="ORR")
        filt.append((time.perf_counter() - t) * 1e3)
    print(
        json.dumps(
            {
                "claims": len(kb),
                "store_build_ms": round(build_ms, 1),
                "load_plus_first_query_ms_median": round(statistics.median(loads), 2),
                "load_plus_first_query_ms_max": round(max(loads), 2),
                "import_load_first_query_ms_median": round(statistics.median(with_import), 1),
                "search_ms_median": round(statistics.median(all_times), 3),
                "search_ms_p95": round(sorted(all_times)[int(0.95 * len(all_times))], 3),
                "search_ms_median_by_query": per_query,
                "filter_ms_median": round(statistics.median(filt), 3),
            },
            ensure_ascii=False,
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
