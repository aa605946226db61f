"""Whole-process start-up: wall and CPU time of common ``mmemd`` commands in fresh interpreters.

Run: ``python benchmarks/bench_startup.py [--rounds 7]``. Each round runs every command once (interleaved, so load on
the shared machine hits them alike); medians are printed with the bare interpreter (``python -c pass``) measured in
the same rounds as the floor. CPU is user+sys of the child, the figure least disturbed by other jobs. Not a test.

The package's bytecode is compiled first, as ``pip install`` does: with ``PYTHONDONTWRITEBYTECODE`` set (as in some
containers) an editable checkout would otherwise recompile every imported module in every run, about 50 ms that no
installed copy pays (measured here: 322 against 271 ms CPU for a one-record assess).

``--no-pth`` also runs every command under ``python -S`` with the import path site would have built: the figure
without code that ``.pth`` files in site-packages run in every interpreter (environment hooks, not mmemd's).

``--src DIR`` (repeatable) runs every command from DIR too, labelled by it: the pure and the compiled wheel
unpacked by ``benchmarks/build_compiled.py``, measured in the same rounds.

``--before SRC`` also runs every command with another checkout's ``src`` directory first on ``PYTHONPATH`` (say a
``git worktree`` of the previous commit), interleaved with this one's, and prints its table first: a before/after
comparison from one run, under the same load.

Every command runs with a cache directory of its own (``MMEMD_CACHE_DIR``, a temporary directory), warmed before the
rounds — the store built, the data parsed and the results kept by ``stat`` once the files have settled — so the
figures are those of a warm cache that no other process on the machine rewrites meanwhile (code before the
per-checkout names of the kept hashes shared one entry with every other checkout, and hashed the data again
whenever another had run). ``--user-cache`` uses the user's cache instead.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIVER = ROOT / "examples" / "emd-liver-rrmm-pr.json"


def _run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, env=env)
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[:400]}")
    return wall, (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--before", type=Path, help="another checkout's src directory, run interleaved")
    parser.add_argument(
        "--no-pth",
        action="store_true",
        help="also run every command without the interpreter's .pth start-up hooks (python -S with the same sys.path)",
    )
    parser.add_argument(
        "--user-cache", action="store_true", help="use the user's mmemd cache, not a private one"
    )
    parser.add_argument(
        "--src",
        type=Path,
        action="append",
        default=[],
        help="also run every command with this directory first on PYTHONPATH (e.g. a tree made by "
        "build_compiled.py), interleaved; may be repeated",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        if not args.user_cache:
            os.environ["MMEMD_CACHE_DIR"] = cache  # the children inherit it, before and after alike
        _measure(args)


def _measure(args: argparse.Namespace) -> None:
    spec = importlib.util.find_spec("mmemd")
    assert spec is not None and spec.submodule_search_locations
    compileall.compile_dir(spec.submodule_search_locations[0], quiet=1)
    envs: dict[str, dict[str, str] | None] = {"": None}
    if args.before is not None:
        compileall.compile_dir(args.before / "mmemd", quiet=1)
        before = os.pathsep.join([str(args.before.resolve()), os.environ.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
        envs = {"before": {**os.environ, "PYTHONPATH": before}, "after": None}
    for tree in args.src:
        compileall.compile_dir(tree / "mmemd", quiet=1)
        path = os.pathsep.join([str(tree.resolve()), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        envs[str(tree)] = {**os.environ, "PYTHONPATH": path}
    mmemd = [sys.executable, "-c", "from mmemd.cli import main; main()"]
    if args.no_pth:
        # A .pth file in site-packages may run code in every interpreter (on the project machine one imports certifi,
        # ~17 ms): -S skips site's work, the import path is set to the one site built here, so the same modules load.
        pth_free = {f"{label} -S".strip(): env for label, env in envs.items()}
        envs = {**envs, **pth_free}
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "s.csv"
        csv.write_text(
            "time,status,arm\n"
            + "".join(f"{t * 1.5},{t % 3 != 0:d},{'ab'[t % 2]}\n" for t in range(1, 1001)),
            encoding="utf-8",
        )
        commands = {
            "python -c pass (floor)": [sys.executable, "-c", "pass"],
            "mmemd --version": [*mmemd, "--version"],
            "mmemd --help": [*mmemd, "--help"],
            "mmemd assess FILE": [*mmemd, "assess", str(LIVER)],
            "mmemd assess --no-advice FILE": [*mmemd, "assess", "--no-advice", str(LIVER)],
            "mmemd evidence search pomalidomide": [*mmemd, "evidence", "search", "pomalidomide"],
            "mmemd survival --help": [*mmemd, "survival", "--help"],
            "mmemd survival (1,000 rows, KM + log-rank)": [
                *mmemd,
                "survival",
                str(csv),
                "--time",
                "time",
                "--event",
                "status",
                "--group",
                "arm",
            ],
        }
        runs = [
            (label, name, _no_site(cmd) if label.endswith("-S") else cmd)
            for name, cmd in commands.items()
            for label in envs
        ]
        for label, _, cmd in runs:  # warm the page cache, __pycache__ and the mmemd cache
            _run(cmd, envs[label])
        # Results are kept by stat only for files quiet for 2 s (the store just built, among them): warm again after
        # that, so the rounds read them as any later run does.
        time.sleep(2.5)
        for label, _, cmd in runs:
            _run(cmd, envs[label])
        walls: dict[tuple[str, str], list[float]] = {(label, name): [] for label, name, _ in runs}
        cpus: dict[tuple[str, str], list[float]] = {(label, name): [] for label, name, _ in runs}
        load0 = os.getloadavg()[0]
        for _ in range(args.rounds):
            for label, name, cmd in runs:
                w, c = _run(cmd, envs[label])
                walls[label, name].append(w)
                cpus[label, name].append(c)
        load1 = os.getloadavg()[0]
    for label in envs:
        if label:
            print(f"\n{label}:")
        print(f"{args.rounds} interleaved rounds; load average {load0:.1f} -> {load1:.1f}")
        print(f"{'command':<46} {'wall median':>12} {'wall min':>10} {'CPU median':>11}")
        for name in commands:
            w, c = walls[label, name], cpus[label, name]
            print(
                f"{name:<46} {statistics.median(w) * 1e3:>9.0f} ms {min(w) * 1e3:>7.0f} ms"
                f" {statistics.median(c) * 1e3:>8.0f} ms"
            )


def _no_site(cmd: list[str]) -> list[str]:
    """``python -c CODE args`` run with ``-S``, its import path completed with the entries site adds here."""
    assert cmd[:2] == [sys.executable, "-c"]
    bare = subprocess.run(
        [sys.executable, "-S", "-c", "import json, sys; print(json.dumps(sys.path))"],
        capture_output=True,
        text=True,
        check=True,
    )
    extra = [p for p in sys.path[1:] if p not in json.loads(bare.stdout)]
    return [sys.executable, "-S", "-c", f"import sys; sys.path += {extra!r}; {cmd[2]}", *cmd[3:]]


if __name__ == "__main__":
    main()
