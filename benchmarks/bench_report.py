"""Clinician-report benchmark: HTML and PDF report for one patient, in-process, warm (as the service runs), and the PDF
whole process (``mmemd report --format pdf``) beside the peer, headless chromium printing the same HTML.

Run: ``python benchmarks/bench_report.py [--rounds N] [--process-rounds M]``. Targets: HTML <= 300 ms, PDF <= 1.2 s
in-process. Prints JSON: per format and language the median and p90 wall time and the median CPU time (the CPU time is
the figure to quote on a shared machine: wall time grows with the other load, CPU time hardly). The peer rows (median
of M, interleaved with mmemd's whole-process runs) give wall time and the CPU time of the processes the peer waited
for, and each row the PDF's page count. The heaviest example record (most options, both chart panels) is used.
Reported in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TARGET_MS = {"html": 300.0, "pdf": 1200.0}
RECORD = "emd-liver-rrmm-pr"  # 14 options, 84 evidence rows, M-protein and SPD series


def _pages(pdf: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _timed_process(cmd: list[str], out: Path) -> tuple[float, float, int]:
    """Wall and CPU (ms) of one process run, and the page count of the PDF it wrote."""
    out.unlink(missing_ok=True)
    t, c = time.perf_counter(), _children_cpu()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall, cpu = (time.perf_counter() - t) * 1e3, (_children_cpu() - c) * 1e3
    return wall, cpu, _pages(out.read_bytes())


def _summary(wall: list[float], cpu: list[float], **extra: Any) -> dict[str, Any]:
    wall = sorted(wall)
    return {
        "rounds": len(wall),
        "median_ms": round(statistics.median(wall), 1),
        "p90_ms": round(wall[int(0.9 * (len(wall) - 1))], 1),
        "cpu_median_ms": round(statistics.median(cpu), 1),
        **extra,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--rounds", type=int, default=0, help="in-process rounds per case (default 20 html, 5 pdf)"
    )
    ap.add_argument("--process-rounds", type=int, default=3, help="whole-process rounds (mmemd and chromium)")
    args = ap.parse_args()
    os.environ.setdefault("MMEMD_CACHE_DIR", tempfile.mkdtemp(prefix="mmemd-bench-"))
    from mmemd import knowledge
    from mmemd.report import build_report, render_report
    from mmemd.report._html import render_html

    kb = knowledge.load()
    record_path = EXAMPLES / f"{RECORD}.json"
    record = json.loads(record_path.read_text(encoding="utf-8"))
    results: dict[str, dict[str, Any]] = {}
    for fmt in ("html", "pdf"):
        for lang in ("en", "zh"):
            out = render_report(record, lang=lang, fmt=fmt, kb=kb)  # warm: imports, fonts, templates, rules
            rounds = args.rounds or (20 if fmt == "html" else 5)
            wall: list[float] = []
            cpu: list[float] = []
            for _ in range(rounds):
                t, c = time.perf_counter(), time.process_time()
                out = render_report(record, lang=lang, fmt=fmt, kb=kb)
                cpu.append((time.process_time() - c) * 1e3)
                wall.append((time.perf_counter() - t) * 1e3)
            extra: dict[str, Any] = {"bytes": len(out)}
            if isinstance(out, bytes):
                extra["pages"] = _pages(out)
            row = _summary(wall, cpu, **extra, target_ms=TARGET_MS[fmt])
            row["within_target"] = row["cpu_median_ms"] <= TARGET_MS[fmt]
            results[f"{fmt}/{lang}"] = row

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    tmp = Path(tempfile.mkdtemp(prefix="mmemd-bench-pdf-"))
    report = build_report(record, kb)
    for lang in ("en", "zh"):
        # The peer prints the very HTML the PDF is made from (JPEG charts, inline CSS), from a file.
        page = tmp / f"report.{lang}.html"
        page.write_text(render_html(report, lang, chart_format="jpeg"), encoding="utf-8")  # type: ignore[arg-type]
        ours = [
            sys.executable,
            "-c",
            "import sys; from mmemd.cli import main; sys.argv[0] = 'mmemd'; main()",
            "report",
            str(record_path),
            "--lang",
            lang,
            "--format",
            "pdf",
            "-o",
            str(tmp / "ours.pdf"),
        ]
        peer = [
            *([chromium] if chromium else []),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={tmp / 'chromium-profile'}",
            f"--print-to-pdf={tmp / 'peer.pdf'}",
            page.as_uri(),
        ]
        runs: dict[str, list[tuple[float, float, int]]] = {"process": [], "chromium": []}
        for _ in range(args.process_rounds):  # interleaved, so both see the same machine load
            runs["process"].append(_timed_process(ours, tmp / "ours.pdf"))
            if chromium:
                runs["chromium"].append(_timed_process(peer, tmp / "peer.pdf"))
        for name, rs in runs.items():
            if rs:
                results[f"pdf-{name}/{lang}"] = _summary(
                    [r[0] for r in rs], [r[1] for r in rs], pages=rs[-1][2]
                )
        if runs["chromium"]:
            peer_cpu = results[f"pdf-chromium/{lang}"]["cpu_median_ms"]
            results[f"pdf-cpu-ratio-to-chromium/{lang}"] = {
                "in_process": round(results[f"pdf/{lang}"]["cpu_median_ms"] / peer_cpu, 2),
                "whole_process": round(results[f"pdf-process/{lang}"]["cpu_median_ms"] / peer_cpu, 2),
            }
    shutil.rmtree(tmp, ignore_errors=True)
    load = [round(x, 1) for x in os.getloadavg()]
    print(
        json.dumps(
            {
                "record": RECORD,
                "cpus": os.cpu_count(),
                "load_average_after": load,
                "chromium": chromium or "absent (apt-get install chromium)",
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
