"""The clinician text outside the report, English and Chinese: ``mmemd assess FILE --format text --lang en|zh`` as a
whole process (CPU of the child, user+sys), the text renderer in-process (warm), and what the web page asks in
Chinese (``POST /ui/reasons`` minus HTTP: the assessment and its Chinese lines).

Run: ``python benchmarks/bench_text_zh.py [--rounds 9] [--before SRC]``. ``--before`` runs the same with another
checkout's ``src`` first on ``PYTHONPATH`` (a ``git worktree`` of the previous commit), interleaved, so load on a
shared machine hits both alike. CPU time is the figure least disturbed by other jobs. Not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIVER = ROOT / "examples" / "emd-liver-rrmm-pr.json"
MAIN = "import sys; from mmemd.cli import main; sys.argv = ['mmemd', *sys.argv[1:]]; main()"

IN_PROCESS = """
import contextlib, inspect, io, json, sys, time
from mmemd.cli._assess_file import Lang, _assess_one, _render_text
from mmemd.clinical.record import parse_record
rec = parse_record(json.loads(open(sys.argv[1], encoding="utf-8").read()))
a = _assess_one(rec, True)
takes_record = "record" in inspect.signature(_render_text).parameters
for lang in (Lang.en, Lang.zh):
    args = (a, lang, rec) if takes_record else (a, lang)
    with contextlib.redirect_stdout(io.StringIO()):
        _render_text(*args)
        t = time.process_time()
        for _ in range(200):
            _render_text(*args)
    print(f"text {lang.value}", (time.process_time() - t) / 200 * 1000)
try:
    from mmemd.service._web import clinician_texts
except ImportError:
    clinician_texts = None
if clinician_texts is not None:
    raw = json.loads(open(sys.argv[1], encoding="utf-8").read())
    clinician_texts(raw, "zh")
    t = time.process_time()
    for _ in range(300):
        clinician_texts(raw, "zh")
    print("ui/reasons zh", (time.process_time() - t) / 300 * 1000)
"""


def _env(src: Path | None) -> dict[str, str]:
    env = dict(os.environ, COLUMNS="100")
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src.resolve()), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
    return env


def _cpu_ms(cmd: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--before", type=Path, help="another checkout's src directory, run interleaved")
    args = parser.parse_args()
    envs = {"after": _env(None)}
    if args.before is not None:
        envs = {"before": _env(args.before), **envs}
    load0 = os.getloadavg()[0]
    cpus: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for lang in ("en", "zh"):
            for label, env in envs.items():
                cmd = [sys.executable, "-c", MAIN, "assess", str(LIVER), "--format", "text", "--lang", lang]
                cpus.setdefault((label, f"assess --format text --lang {lang}"), []).append(_cpu_ms(cmd, env))
    for (label, name), v in cpus.items():
        print(f"{label:7} {name:36} CPU median {statistics.median(v):6.0f} ms  min {min(v):6.0f} ms")
    for label, env in envs.items():
        out = subprocess.run(
            [sys.executable, "-c", IN_PROCESS, str(LIVER)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for line in out.splitlines():
            name, ms = line.rsplit(" ", 1)
            print(f"{label:7} in-process {name:25} {float(ms):6.2f} ms CPU a call")
    print(f"load average {load0:.1f} -> {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
