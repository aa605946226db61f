"""Batch benchmark: ``mmemd assess --batch`` throughput and peak memory (targets: >= 2000 records/s on 2 cores,
peak RSS < 200 MB for a 1M-line file).

Run: ``python3 benchmarks/bench_batch.py [--lines N] [--workers W] [--no-advice] [--in-process] [--varied]`` (default
100 000 lines; ``--lines 1000000`` for the memory target; ``--in-process`` runs the batch in this process with one
worker and gives the CPU time per record of a single worker, without process start-up). By default every line is the
same dense record under a new id; ``--varied`` cycles through the example records with age, ECOG, phase, transplant
eligibility and creatinine varied (seeded), so that the rule engine meets many different patients — the engine keeps
the items it builds by the facts they come from, and the repeated record is its best case. The input is generated on the fly into a temporary file; the CLI runs as a subprocess and the
resident memory of its whole process tree (main process + workers) is sampled from /proc (Linux only).

``--src DIR`` runs mmemd from DIR (first on ``PYTHONPATH``); repeated, with ``--rounds N``, it measures several trees
in one run, interleaved — e.g. the pure and the compiled wheel unpacked by ``benchmarks/build_compiled.py``.
Not a test: it prints figures and never fails on speed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_assess import make_record

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _lines(n: int, varied: bool) -> Iterator[bytes]:
    """``n`` JSON Lines records: the dense record under new ids, or varied example records (seeded)."""
    if not varied:
        base = make_record()
        for i in range(n):
            base["id"] = f"p{i}"
            yield json.dumps(base).encode() + b"\n"
        return
    examples = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]
    rnd = random.Random(14)
    for i in range(n):
        rec = dict(examples[i % len(examples)])
        rec["id"] = f"p{i}"
        rec["age"] = rnd.randint(30, 90)
        rec["ecog"] = rnd.choice([None, 0, 1, 2, 3])
        rec["phase"] = rnd.choice(["newly_diagnosed", "relapsed_refractory"])
        rec["transplant_eligible"] = rnd.choice([None, True, False])
        labs = dict(rec.get("labs") or {})
        labs["creatinine"] = {"value": round(rnd.uniform(0.5, 6.0), 1), "unit": "mg/dL"}
        rec["labs"] = labs
        yield json.dumps(rec).encode() + b"\n"


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                out += [int(x) for x in fh.read().split()]
    except OSError:
        pass
    return out


def _tree_rss_kb(root: int) -> int:
    """Sum of VmRSS over ``root`` and its descendants (from /proc; cheap enough to sample without stealing CPU)."""
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss_kb(pid)
        stack.extend(_children(pid))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument(
        "--no-advice",
        action="store_true",
        help="clinical sections only (the clinical engine alone); default: with advice",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="one worker in this process (CPU per record of the engine alone)",
    )
    parser.add_argument(
        "--varied", action="store_true", help="varied example records instead of one repeated dense record"
    )
    parser.add_argument(
        "--src",
        type=Path,
        action="append",
        default=[],
        help="run mmemd from this directory (first on PYTHONPATH), e.g. a tree made by build_compiled.py; "
        "repeat it to measure several trees in the same run, interleaved",
    )
    parser.add_argument("--rounds", type=int, default=1, help="runs of each tree (medians are printed)")
    args = parser.parse_args()

    if args.in_process:
        if len(args.src) > 1:
            sys.exit("--in-process measures one tree: give at most one --src")
        if args.src:
            sys.path.insert(0, str(args.src[0].resolve()))
        _in_process(args.lines, not args.no_advice, args.varied)
        return
    trees: list[Path | None] = list(args.src) or [None]
    cpus: dict[Path | None, list[float]] = {tree: [] for tree in trees}
    walls: dict[Path | None, list[float]] = {tree: [] for tree in trees}
    peaks: dict[Path | None, int] = dict.fromkeys(trees, 0)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "records.jsonl"
        with src.open("wb") as fh:
            fh.writelines(_lines(args.lines, args.varied))
        size_mb = src.stat().st_size / 1e6
        cmd = [sys.executable, "-c", "from mmemd.cli import main; main()", "assess", "--batch", str(src)]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        if args.no_advice:
            cmd.append("--no-advice")
        # Several trees: one run of each per round, interleaved, so that load on the shared machine hits them alike.
        for _ in range(args.rounds):
            for tree in trees:
                elapsed, cpu, peak = _run_batch_process(cmd, tree)
                walls[tree].append(elapsed)
                cpus[tree].append(cpu)
                peaks[tree] = max(peaks[tree], peak)
    load_after = os.getloadavg()[0]
    what = "varied example records" if args.varied else "dense records, 10 assessments + 2 lesions each"
    print(
        f"{args.lines} {what} ({size_mb:.0f} MB), {'without' if args.no_advice else 'with'} advice, "
        f"workers={args.workers or 'auto'}"
    )
    for tree in trees:
        if tree is not None:
            print(f"{tree} ({args.rounds} round{'s' if args.rounds > 1 else ''}, medians):")
        elapsed, cpu = statistics.median(walls[tree]), statistics.median(cpus[tree])
        print(
            f"  wall {elapsed:.1f} s  ->  {args.lines / elapsed:,.0f} records/s (process start-up included)"
        )
        print(f"  peak RSS of the process tree: {peaks[tree] / 1024:.0f} MB")
        # The machine is shared: CPU time of the whole process tree is the contention-independent figure. Two cores
        # fully ours would give about records / (CPU / 2) per second.
        print(
            f"  CPU (user+sys, all processes) {cpu:.1f} s = {cpu / args.lines * 1e3:.3f} ms/record"
            f"  ->  {2 * args.lines / cpu:,.0f} records/s on 2 uncontended cores"
        )
    print(f"  load average before/after: {load_before:.1f} / {load_after:.1f}")


def _run_batch_process(cmd: list[str], tree: Path | None) -> tuple[float, float, int]:
    """One batch run: wall seconds, CPU seconds of the whole process tree, peak RSS (kB) of the tree."""
    env = None
    if tree is not None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(tree.resolve()), os.environ.get("PYTHONPATH", "")]),
        }
    peak = 0
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.PIPE, env=env)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss_kb(proc.pid))
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, err = proc.communicate()
        done.set()
        sampler.join()
    elapsed = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"mmemd exited {proc.returncode}: {err.decode()[:500]}")
    return elapsed, (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime), peak


def _in_process(lines: int, advice: bool, varied: bool) -> None:
    import io

    from mmemd.cli._clinical import OutputFormat, _run_batch

    data = b"".join(_lines(lines, varied))
    saved = os.dup(1)
    sink = os.open(os.devnull, os.O_WRONLY)
    os.dup2(sink, 1)
    try:
        _run_batch(
            io.BytesIO(data[: data.index(b"\n") + 1]), 1, OutputFormat.json, advice
        )  # warm: imports, rules
        t0 = time.process_time()
        _run_batch(io.BytesIO(data), 1, OutputFormat.json, advice)
        cpu = time.process_time() - t0
    finally:
        os.dup2(saved, 1)
        os.close(sink)
        os.close(saved)
    print(
        f"{lines} {'varied' if varied else 'dense'} records in process, one worker, "
        f"{'with' if advice else 'without'} advice: "
        f"CPU {cpu / lines * 1e3:.3f} ms/record -> {lines / cpu:,.0f} records/s per core "
        f"(load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
