"""Decision-support benchmark: assessment with work-up, prognosis and options, in-process.

Run: ``python benchmarks/bench_advice.py``. Target: <= 2 ms per patient. Reported in docs/performance.md.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def main() -> None:
    os.environ.setdefault("MMEMD_CACHE_DIR", tempfile.mkdtemp(prefix="mmemd-bench-"))
    from mmemd import knowledge
    from mmemd.advice import assess_with_advice

    kb = knowledge.load()
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]
    for r in records:  # warm caches (rules, claims) as a server would be
        assess_with_advice(r, kb)
    per: dict[str, float] = {}
    all_times: list[float] = []
    for r in records:
        times = []
        for _ in range(300):
            t = time.perf_counter()
            assess_with_advice(r, kb)
            times.append((time.perf_counter() - t) * 1e3)
        per[r["id"]] = round(statistics.median(times), 3)
        all_times += times
    print(
        json.dumps(
            {
                "records": len(records),
                "assess_with_options_ms_median": round(statistics.median(all_times), 3),
                "assess_with_options_ms_p95": round(sorted(all_times)[int(0.95 * len(all_times))], 3),
                "by_record_ms_median": per,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
