"""`mmemd assess --batch` gives, line for line and byte for byte, what assessing each record on its own gives.

The batch path is tuned for throughput (blocks of lines, worker processes, bytes straight from pydantic-core, the
engine's per-process caches); none of that may change a single output byte. The records are the shipped examples
and deterministic variations of them (every varied field drawn from a seeded generator), with invalid lines mixed in,
enough of them to fill more than one block so that the worker pool runs.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mmemd.advice import assess_with_advice
from mmemd.cli._assess_file import _process_kb
from mmemd.cli._clinical import _CHUNK_BYTES, _to_json
from mmemd.clinical.assessment import assess
from mmemd.clinical.errors import RecordError
from mmemd.clinical.record import parse_record_json

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.json"))


# Patient facts drawn per record, and laboratory values at diagnosis (analyte, unit, low, high).
_FACTS: dict[str, list[Any]] = {
    "ecog": [None, 0, 1, 2, 3],
    "phase": ["newly_diagnosed", "relapsed_refractory"],
    "transplant_eligible": [None, True, False],
}
_LABS = (
    ("creatinine", "mg/dL", 0.5, 6.0),
    ("albumin", "g/dL", 2.0, 5.0),
    ("beta2_microglobulin", "mg/L", 1.0, 12.0),
)


def _varied(rnd: random.Random, base: dict[str, Any], i: int) -> dict[str, Any]:
    rec = dict(base, id=f"v{i}", age=rnd.randint(30, 90))
    rec.update({name: rnd.choice(values) for name, values in _FACTS.items()})
    labs = dict(rec.get("labs") or {})
    for analyte, unit, low, high in _LABS:
        labs[analyte] = {"value": round(rnd.uniform(low, high), 1), "unit": unit}
    rec["labs"] = labs
    assessments = rec.get("assessments")
    if assessments:
        # Scale every later serum M-protein: the response moves between categories (and across thresholds).
        factor = rnd.choice([0.0, 0.05, 0.2, 0.5, 0.8, 1.0, 1.3, 2.0])
        rows = []
        for j, a in enumerate(assessments):
            a = dict(a)
            spep = a.get("serum_m_protein")
            if j > 0 and isinstance(spep, dict):
                a["serum_m_protein"] = dict(spep, value=round(spep["value"] * factor, 2))
            rows.append(a)
        rec["assessments"] = rows
    return rec


def _hostile(base: dict[str, Any]) -> list[bytes]:
    """Lines that take the input boundary's careful path or fail there: repeated keys, escapes, long numbers, NaN,
    deep nesting, malformed JSON, text that is not UTF-8 — and two valid ones with colons and brackets in a string."""
    text = json.dumps(base)
    head = text[:-1]
    return [
        (head + ', "id": "again"}').encode(),  # a repeated key
        text.replace('"id": "', '"id": "\\u00e9\\"', 1).encode(),  # escapes in a string (valid)
        text.replace('"id": "', '"id": "a:b[c]{', 1).encode(),  # colons and brackets in a string (valid)
        (head + ', "age": 1234567890123456789}').encode(),
        (head + ', "age": NaN}').encode(),
        (head + ', "extra": ' + "[" * 70 + "]" * 70 + "}").encode(),
        text[:-3].encode(),
        text.encode().replace(b'"id": "', b'"id": "\xff', 1),
    ]


def _lines(n: int) -> list[bytes]:
    """The examples and hostile lines, then ``n`` seeded variations of the examples; every 97th variation is made
    invalid."""
    bases = [json.loads(p.read_text(encoding="utf-8")) for p in EXAMPLES]
    out = [json.dumps(b).encode() for b in bases]
    out += _hostile(bases[0])
    rnd = random.Random(20261205)
    for i in range(n):
        rec = _varied(rnd, bases[i % len(bases)], i)
        if i % 97 == 13:
            rec["sex"] = "unknown"  # not in the value set
        out.append(json.dumps(rec).encode())
        if i % 331 == 200:
            out += _hostile(rec)  # in later blocks too, so that workers other than the first report them
    return out


def _expected(line: bytes, lineno: int, advice: bool) -> bytes:
    try:
        record = parse_record_json(line)
    except RecordError as exc:
        report = exc.report()
        report["line"] = lineno
        return json.dumps(report, ensure_ascii=False).encode()
    doc = assess_with_advice(record, _process_kb())[0] if advice else assess(record)
    return _to_json(doc)


@pytest.mark.parametrize("advice", [False, True], ids=["no-advice", "advice"])
def test_batch_with_workers_equals_each_record_assessed_alone(tmp_path: Path, advice: bool) -> None:
    lines = _lines(2 * _CHUNK_BYTES // 1000)  # about 1.5 KB a line: three blocks
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    assert src.stat().st_size > 2 * _CHUNK_BYTES  # three blocks: the worker pool runs
    cmd = [sys.executable, "-c", "from mmemd.cli import main; main()", "assess", "--batch", str(src)]
    cmd += ["--workers", "2", "--advice" if advice else "--no-advice"]
    proc = subprocess.run(cmd, capture_output=True, timeout=600, check=False)
    assert proc.returncode == 2, proc.stderr[-2000:]  # the invalid lines
    got = proc.stdout.split(b"\n")
    assert got[-1] == b""
    got.pop()
    assert len(got) == len(lines)
    for n, (line, out) in enumerate(zip(lines, got, strict=True), start=1):
        assert out == _expected(line, n, advice), f"line {n}"


def test_kept_items_are_written_as_pydantic_core_writes_the_whole_assessment() -> None:
    """The batch writes each kept advice item's JSON once and splices it in; every example, written with an empty
    store, again from the store, and after the other examples filled it, gives pydantic-core's own bytes."""
    from mmemd.cli import _clinical

    docs = [assess_with_advice(parse_record_json(p.read_bytes()), _process_kb())[0] for p in EXAMPLES]
    assert any(d.options for d in docs) and any(d.workup for d in docs) and any(d.prognosis for d in docs)
    for doc in docs:
        _clinical._ITEM_JSON.clear()
        assert _clinical._advised_json(doc) == _to_json(doc)
        assert _clinical._advised_json(doc) == _to_json(doc)
    for doc in reversed(docs):
        assert _clinical._advised_json(doc) == _to_json(doc)
