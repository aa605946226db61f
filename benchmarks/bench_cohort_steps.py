"""Where ``cohort analyze`` spends its CPU, step by step, on one backend: the analysis's steps are called one after
the other in this process, and the CPU of the whole process tree is sampled from /proc and split by role — this
process (the driver), Spark's JVM, and the Python processes the JVM starts (Spark's Python workers, which run the
response step's engine core). Run it once for the code before a change and once after, on the same cohort.

    python3 benchmarks/bench_cohort_steps.py DIR [--backend spark] [--master local[2]] [--out result.json]

``DIR`` is a cohort directory (e.g. one written by ``bench_cohort.py`` or ``mmemd cohort synth``). ``--out`` writes
the analysis's rows, response rows, survival and Cox summaries as JSON, to compare two runs' results. Sampled every
0.25 s, so a process's last quarter second may be missed: the figures are lower bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

# the same /proc sampling as the whole-run benchmark (this script runs from benchmarks/)
from bench_cohort import _tree_cpu

T = TypeVar("T")


class TreeCpu:
    """The highest CPU seconds seen of each process in this process's tree, and each one's role."""

    def __init__(self) -> None:
        self.cpu: dict[int, float] = {}
        self.role: dict[int, str] = {}
        self._lock = threading.Lock()

    def sample(self) -> None:
        me = os.getpid()
        with self._lock:
            _tree_cpu(me, self.cpu)
            for pid in self.cpu:
                try:  # read each time: Spark's launcher script becomes the JVM by exec
                    with open(f"/proc/{pid}/cmdline", "rb") as fh:
                        exe = fh.read().split(b"\0")[0]
                except OSError:
                    continue
                self.role[pid] = "driver" if pid == me else ("jvm" if exe.endswith(b"java") else "workers")

    def by_role(self) -> dict[str, float]:
        self.sample()
        out: dict[str, float] = {"driver": 0.0, "jvm": 0.0, "workers": 0.0}
        with self._lock:
            for pid, cpu in self.cpu.items():
                role = self.role.get(pid, "workers")
                out[role] = out.get(role, 0.0) + cpu
        return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--backend", default="spark", choices=("spark", "duckdb"))
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    os.environ["MMEMD_SPARK_MASTER"] = args.master

    from mmemd.research.cohort._analyze import response_rows
    from mmemd.research.cohort._incidence import emd_incidence
    from mmemd.research.cohort._io import open_cohort
    from mmemd.research.cohort._outcomes import survival_by_emd
    from mmemd.research.cohort._response import line_responses
    from mmemd.research.cohort._validate import validate_and_count

    tree = TreeCpu()
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.25):
            tree.sample()

    threading.Thread(target=poll, daemon=True).start()
    print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    def step(name: str, fn: Callable[[], T]) -> T:
        before = tree.by_role()
        t0 = time.perf_counter()
        result = fn()
        wall = time.perf_counter() - t0
        after = tree.by_role()
        cpu = {k: after[k] - before.get(k, 0.0) for k in after}
        parts = ", ".join(f"{k} {v:.1f}" for k, v in cpu.items())
        print(f"{name}: wall {wall:.1f} s; cpu {sum(cpu.values()):.1f} s ({parts})", flush=True)
        return result

    source = step("open (session start)", lambda: open_cohort(args.dir, args.backend))
    tables, rows = step("validate", lambda: validate_and_count(source))
    step("incidence", lambda: emd_incidence(tables, 0.95))
    lines = step("response", lambda: line_responses(tables))
    survival, cox, _curves, notes = step("survival", lambda: survival_by_emd(tables, 0.95))
    done.set()
    total = tree.by_role()
    print(f"total: cpu {sum(total.values()):.1f} s ({', '.join(f'{k} {v:.1f}' for k, v in total.items())})")
    if args.out is not None:
        result: dict[str, Any] = {
            "rows": rows,
            "response": [r.model_dump() for r in response_rows(lines.line, lines.emd, lines.best)],
            "survival": [s.model_dump() for s in survival],
            "cox": [c.model_dump() for c in cox],
            "notes": notes,
        }
        args.out.write_text(json.dumps(result, sort_keys=True, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
