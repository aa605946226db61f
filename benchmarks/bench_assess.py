"""In-process benchmark: ``assess()`` of one record with 10 assessments and 2 lesions (target: median <= 0.5 ms).

Run: ``python3 benchmarks/bench_assess.py [--repeat N]``. Not a test: it prints figures and never fails on speed.

The record is dense on purpose: every assessment carries serum and urine M-protein, both immunofixations, both free
light chains and both plasmacytomas, so every response parameter is evaluated at every date.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import statistics
import time
from typing import Any


def make_record(n_assessments: int = 10) -> dict[str, Any]:
    start = dt.date(2025, 1, 6)
    assessments = []
    for i in range(n_assessments):
        f = 0.8**i
        assessments.append(
            {
                "date": (start + dt.timedelta(days=28 * i)).isoformat(),
                "serum_m_protein": {"value": round(3.0 * f, 2), "unit": "g/dL"},
                "urine_m_protein": {"value": round(500 * 0.7**i), "unit": "mg/24h"},
                "serum_ife": "positive",
                "urine_ife": "positive",
                "free_light_chains": {
                    "kappa": {"value": round(60 * f, 1), "unit": "mg/dL"},
                    "lambda": {"value": 1.0, "unit": "mg/dL"},
                    "involved": "kappa",
                },
                "plasmacytomas": [
                    {
                        "lesion": "L1",
                        "longest_cm": round(4.0 * 0.9**i, 2),
                        "perpendicular_cm": round(3.0 * 0.9**i, 2),
                    },
                    {"lesion": "L2", "longest_cm": 3.0, "perpendicular_cm": 2.0},
                ],
                "new_lesion": False,
            }
        )
    return {
        "schema": "mmemd.patient/1",
        "id": "bench",
        "age": 64,
        "sex": "female",
        "phase": "relapsed_refractory",
        "therapy_history": [
            {"line": 1, "agents": ["bortezomib", "lenalidomide", "dexamethasone"], "refractory": False},
            {"line": 2, "agents": ["daratumumab", "pomalidomide", "dexamethasone"], "refractory": True},
        ],
        "diagnosis": {
            "date": "2022-03-01",
            "clonal_bone_marrow_plasma_cells_pct": 40,
            "circulating_plasma_cells_pct": 0,
            "myeloma_defining_events": ["anemia", "bone_lesions"],
        },
        "labs": {
            "beta2_microglobulin": {"value": 6.1, "unit": "mg/L"},
            "albumin": {"value": 32, "unit": "g/L"},
            "ldh": {"value": 310, "unit": "U/L", "upper_limit_normal": 250},
            "creatinine": {"value": 1.0, "unit": "mg/dL"},
        },
        "cytogenetics": {
            "del_17p": True,
            "del_17p_clonal_fraction_pct": 35,
            "t_4_14": False,
            "gain_1q": True,
        },
        "lesions": [
            {
                "id": "L1",
                "site": "liver",
                "relation_to_bone": "none",
                "biopsy_proven": True,
                "detected_on": "2025-01-06",
            },
            {
                "id": "L2",
                "site": "paravertebral",
                "relation_to_bone": "arising_from_bone",
                "detected_on": "2025-01-06",
            },
        ],
        "assessments": assessments,
    }


def median_us(fn: Any, repeat: int) -> tuple[float, float]:
    for _ in range(min(200, repeat)):  # warm-up
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return statistics.median(times) * 1e6, times[int(len(times) * 0.95)] * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5000)
    args = parser.parse_args()

    from mmemd.clinical import assess, parse_record

    data = make_record()
    record = parse_record(copy.deepcopy(data))
    assessment = assess(record)
    cases = [
        ("assess(dict)  validate + assess", lambda: assess(data)),
        ("assess(record) already validated", lambda: assess(record)),
        ("parse_record(dict) validation only", lambda: parse_record(data)),
        ("model_dump_json of the result", lambda: assessment.model_dump_json(by_alias=True)),
    ]
    print(f"one record, 10 assessments, 2 lesions; {args.repeat} runs each")
    for name, fn in cases:
        med, p95 = median_us(fn, args.repeat)
        print(f"  {name:<38} median {med:8.1f} µs   p95 {p95:8.1f} µs")


if __name__ == "__main__":
    main()
