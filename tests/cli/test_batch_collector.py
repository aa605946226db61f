"""The batch freezes the engine state out of the cyclic collector's reach and collects young objects less often.

That is only sound while an assessment leaves no reference cycles behind (reference counting then frees every
record's objects); these tests pin that premise and that the collector's settings are given back afterwards.
"""

from __future__ import annotations

import gc
import io
import json
from pathlib import Path

import pytest

from mmemd.advice import assess_with_advice
from mmemd.cli._assess_file import OutputFormat, _process_kb
from mmemd.cli._clinical import _run_batch
from mmemd.clinical.assessment import assess
from mmemd.clinical.errors import RecordError
from mmemd.clinical.record import parse_record_json

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.json"))


def _cyclic_garbage(work: object) -> int:
    gc.collect()
    gc.disable()
    try:
        work()  # type: ignore[operator]
        return gc.collect()
    finally:
        gc.enable()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_an_assessment_leaves_no_reference_cycles(path: Path) -> None:
    text = path.read_bytes()
    kb = _process_kb()
    assess_with_advice(parse_record_json(text), kb)  # warm caches first: they live on, they are not garbage

    def work() -> None:
        rec = parse_record_json(text)
        assess(rec)
        assess_with_advice(rec, kb)

    assert _cyclic_garbage(work) == 0


def test_an_invalid_record_leaves_no_reference_cycles() -> None:
    def work() -> None:
        try:
            parse_record_json(b'{"id": "x", "id": "y", "phase": 3}')
        except RecordError as exc:
            exc.report()

    assert _cyclic_garbage(work) == 0


def test_batch_gives_the_collector_settings_back(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    before = gc.get_threshold()
    lines = b"".join(json.dumps(json.loads(p.read_bytes())).encode() + b"\n" for p in EXAMPLES[:3])
    assert _run_batch(io.BytesIO(lines), 1, OutputFormat.json, True) == 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert capfdbinary.readouterr().out.count(b"\n") == 3
