"""Benchmark of the imaging-report extractor: a 900-character Chinese PET-CT report and a 900-character English one.

Run: ``python3 benchmarks/bench_imaging.py [--repeat N]``. Not a test: it prints figures and never fails on speed.
Target: extraction of a 900-character report in at most 5 ms (in process, median and p99). ``cpu ms`` is the CPU
time per report (``time.process_time``), the figure to trust on a shared machine; the ratio is CPU time to the
floor's CPU time.

There is no peer tool that reads myeloma lesions from report text, so the ratio printed is against a floor that
any reader must pay: NFKC-normalising the text and one regex pass for sizes. Whole-process figures run
``mmemd imaging extract FILE --json`` (start-up, imports, lexicon compilation included).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

from mmemd.imaging import extract

ZH_BLOCKS = [
    "检查项目：PET-CT全身显像（疗效评估）\n检查日期：2024-09-01\n检查所见：\n",
    "与2024-05-20 PET-CT比较：T10椎体骨质破坏并椎旁软组织肿块形成，大小约4.2cm×3.1cm，SUVmax约9.8，较前增大。",
    "原左侧肾上腺结节已消失。右侧胸壁软组织肿块较前缩小，现大小约2.0cm×1.2cm，SUVmax约3.1（前次约8.6）。",
    "肝S6段新发低密度结节，约2.1cm×1.8cm，SUVmax约6.0。肝S8段见小囊状低密度影，边界清，增强未见强化。",
    "脑实质未见异常放射性浓聚。颈部、纵隔及腹膜后未见肿大淋巴结。双侧腹股沟见小淋巴结，SUVmax约1.5，考虑反应性。",
    "脾脏不大，胰腺形态正常，双肾及膀胱未见异常。胃肠道未见异常浓聚。双肺纹理清晰，未见结节及实变。",
    "甲状腺大小形态正常。双侧胸膜未见增厚，未见胸腔积液。心包未见积液。全身多发骨质破坏，部分代谢轻度增高。\n",
    "诊断意见：\n1. T10椎体骨质破坏伴椎旁软组织肿块，较前增大，符合浆细胞瘤。\n",
    "2. 原左侧肾上腺病灶消失；右侧胸壁病灶较前缩小，代谢减低，提示治疗有效。\n",
    "3. 肝S6段新发结节，考虑骨髓瘤髓外浸润。\n4. 肝S8段小囊肿。双侧腹股沟反应性小淋巴结。\n",
]
EN_BLOCKS = [
    "EXAM: FDG PET/CT SKULL BASE TO MID THIGH\nDATE OF EXAM: 2024-03-14\nCLINICAL HISTORY: Multiple myeloma.\n",
    "FINDINGS:\nHEAD/NECK: No hypermetabolic cervical lymphadenopathy. Thyroid normal.\n",
    "CHEST: No pulmonary nodules. No pleural effusion. Mediastinum unremarkable.\n",
    "ABDOMEN/PELVIS: A new 3.2 x 2.1 cm soft tissue mass in the left adrenal gland with SUVmax 7.4. ",
    "The hypermetabolic mass in the pancreatic tail is unchanged, measuring 3.0 x 2.5 cm, SUVmax 6.8. ",
    "Two simple hepatic cysts, the largest 1.2 cm. Spleen normal. Physiologic uptake in the bowel.\n",
    "MUSCULOSKELETAL: Lytic lesion of the right 6th rib with an associated soft tissue mass measuring 4.1 x 2.6 cm, "
    "previously 3.0 x 2.0 cm. Diffuse heterogeneous marrow uptake.\n",
    "IMPRESSION:\n1. New hypermetabolic left adrenal mass, consistent with extramedullary plasmacytoma.\n",
    "2. Stable pancreatic tail mass. 3. Enlarging right 6th rib lesion with soft tissue mass, compatible with "
    "plasmacytoma.\n4. Hepatic cysts.\n",
]


def _report(blocks: list[str], length: int = 900) -> str:
    text = "".join(blocks)
    while len(text) < length:
        text += blocks[len(text) % len(blocks)]
    return text[:length]


def _floor(text: str) -> None:
    norm = unicodedata.normalize("NFKC", text)
    re.findall(r"\d+(?:\.\d+)?\s*(?:cm|mm)?\s*[×x]\s*\d+(?:\.\d+)?\s*(?:cm|mm)", norm)


def _time(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return statistics.median(ts) * 1e3, ts[int(0.99 * (len(ts) - 1))] * 1e3


def _cpu(fn: Callable[[], object], repeat: int) -> float:
    """Mean CPU time per call in ms: on a shared machine wall-clock figures include time waiting for a core."""
    fn()
    c0 = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - c0) / repeat * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=500)
    ap.add_argument("--process-repeat", type=int, default=5)
    args = ap.parse_args()
    print(
        f"{'report':<24}{'chars':>6}{'lesions':>8}{'median ms':>11}{'p99 ms':>9}{'cpu ms':>8}{'floor ms':>10}"
        f"{'ratio':>8}"
    )
    for name, blocks in (("Chinese PET-CT", ZH_BLOCKS), ("English PET/CT", EN_BLOCKS)):
        text = _report(blocks)
        n = len(extract(text).lesions)
        med, p99 = _time(lambda t=text: extract(t), args.repeat)
        fmed, _ = _time(lambda t=text: _floor(t), args.repeat)
        cpu = _cpu(lambda t=text: extract(t), args.repeat)
        fcpu = _cpu(lambda t=text: _floor(t), args.repeat)
        print(
            f"{name:<24}{len(text):>6}{n:>8}{med:>11.2f}{p99:>9.2f}{cpu:>8.2f}{fmed:>10.3f}{cpu / fcpu:>8.0f}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.txt"
        path.write_text(_report(ZH_BLOCKS), encoding="utf-8")
        cmd = [
            sys.executable,
            "-c",
            "from mmemd.cli import main; main()",
            "imaging",
            "extract",
            str(path),
            "--json",
        ]
        ts = []
        for _ in range(args.process_repeat):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            ts.append(time.perf_counter() - t0)
        print(
            f"whole process (mmemd imaging extract --json, Chinese): median {statistics.median(ts) * 1e3:.0f} ms"
        )


if __name__ == "__main__":
    main()
