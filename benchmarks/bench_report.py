"""Clinician-report benchmark: HTML and PDF report for one patient, in-process, warm (as the service runs).

Run: ``python benchmarks/bench_report.py [--rounds N]``. Targets: HTML <= 300 ms, PDF <= 3 s. Prints JSON with the
median and p90 wall time per format and language, and the CPU time (less sensitive to other load on the machine).
The heaviest example record (most options, both chart panels) is used. Reported in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TARGET_MS = {"html": 300.0, "pdf": 3000.0}
RECORD = "emd-liver-rrmm-pr"  # 14 options, 84 evidence rows, M-protein and SPD series


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=0, help="rounds per case (default 20 for html, 5 for pdf)")
    args = ap.parse_args()
    os.environ.setdefault("MMEMD_CACHE_DIR", tempfile.mkdtemp(prefix="mmemd-bench-"))
    from mmemd import knowledge
    from mmemd.report import render_report

    kb = knowledge.load()
    record = json.loads((EXAMPLES / f"{RECORD}.json").read_text(encoding="utf-8"))
    results: dict[str, dict[str, float | int | bool]] = {}
    for fmt in ("html", "pdf"):
        for lang in ("en", "zh"):
            render_report(record, lang=lang, fmt=fmt, kb=kb)  # warm: imports, fonts, templates, rules
            rounds = args.rounds or (20 if fmt == "html" else 5)
            wall: list[float] = []
            cpu: list[float] = []
            size = 0
            for _ in range(rounds):
                t, c = time.perf_counter(), time.process_time()
                out = render_report(record, lang=lang, fmt=fmt, kb=kb)
                cpu.append((time.process_time() - c) * 1e3)
                wall.append((time.perf_counter() - t) * 1e3)
                size = len(out)
            wall.sort()
            med = statistics.median(wall)
            results[f"{fmt}/{lang}"] = {
                "rounds": rounds,
                "median_ms": round(med, 1),
                "p90_ms": round(wall[int(0.9 * (rounds - 1))], 1),
                "cpu_median_ms": round(statistics.median(cpu), 1),
                "bytes": size,
                "target_ms": TARGET_MS[fmt],
                "within_target": med <= TARGET_MS[fmt],
            }
    print(json.dumps({"record": RECORD, "cpus": os.cpu_count(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
