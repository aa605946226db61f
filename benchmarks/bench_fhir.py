"""In-process benchmark of the FHIR adapter: Bundle -> record (with fhir.resources R4B validation), record ->
assessment -> Observations.

Run: ``python3 benchmarks/bench_fhir.py [--repeat N]``. Not a test: it prints figures and never fails on speed.

Inputs: the example bundle of ``examples/emd-liver-rrmm-pr.json`` (51 entries: 3 assessments, 2 therapy lines),
the EHR-style searchset ``examples/fhir/ehr-searchset-ndmm-emd.json`` (25 entries), and a dense bundle built from a
record with 20 assessments (every response parameter at every date).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmemd.clinical import assess
from mmemd.fhir import assessment_to_observations, bundle_to_record, record_to_bundle

ROOT = Path(__file__).resolve().parents[1]


def _dense_record(n: int = 20) -> dict[str, Any]:
    rec = json.loads((ROOT / "examples" / "emd-liver-rrmm-pr.json").read_text(encoding="utf-8"))
    base = rec["assessments"][0]
    rec["assessments"] = []
    for i in range(n):
        a = json.loads(json.dumps(base))
        a["date"] = f"{2025 + (5 + i) // 12}-{(5 + i) % 12 + 1:02d}-01"
        a["serum_m_protein"]["value"] = round(3.0 * 0.9**i, 2)
        rec["assessments"].append(a)
    return rec


def _time(fn: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """(wall-clock median, wall-clock p99, CPU-time median) in ms. On a shared machine the wall clock includes other
    processes' time: the CPU median (``time.process_time``) is the figure to compare with the 25 ms target."""
    fn()
    ts = []
    cpu = []
    for _ in range(repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    ts.sort()
    return statistics.median(ts) * 1e3, ts[int(0.99 * (len(ts) - 1))] * 1e3, statistics.median(cpu) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=300)
    args = ap.parse_args()
    liver = json.loads(
        (ROOT / "examples" / "fhir" / "emd-liver-rrmm-pr.bundle.json").read_text(encoding="utf-8")
    )
    ehr = json.loads((ROOT / "examples" / "fhir" / "ehr-searchset-ndmm-emd.json").read_text(encoding="utf-8"))
    dense = record_to_bundle(_dense_record())
    for name, b in (("liver example", liver), ("EHR searchset", ehr), ("dense 20 assessments", dense)):
        med, p99, cpu = _time(lambda b=b: bundle_to_record(b), args.repeat)
        print(
            f"bundle_to_record  {name:22s} {len(b['entry']):4d} entries  median {med:6.2f} ms  p99 {p99:6.2f} ms"
            f"  CPU median {cpu:6.2f} ms"
        )
    rec = bundle_to_record(liver).record
    med, p99, cpu = _time(lambda: assessment_to_observations(assess(rec), "Patient/1"), args.repeat)
    print(
        f"assess + assessment_to_observations (liver)         median {med:6.2f} ms  p99 {p99:6.2f} ms"
        f"  CPU median {cpu:6.2f} ms"
    )


if __name__ == "__main__":
    main()
