"""A corpus of realistic bundles, one per convention (tests/fhir/data/corpus): mCODE, US Core searchset,
Synthea-style transaction, FHIR specification lab examples, two Chinese EHRs (one sending only local codes and names). Each has its expected record and
reasons (``*.expected.json``, reviewed by hand against the bundle); no import fails as a whole and nothing is
dropped silently."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mmemd.clinical import assess, parse_record
from mmemd.fhir import bundle_to_record

CORPUS = Path(__file__).parent / "data" / "corpus"
BUNDLES = sorted(p for p in CORPUS.glob("*.json") if not p.name.endswith(".expected.json"))


def _load(p: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
    return data


def test_corpus_covers_every_convention() -> None:
    assert [p.stem for p in BUNDLES] == [
        "chinese-ehr-relapse-text",
        "chinese-ehr",
        "fhir-spec-labs",
        "mcode-relapsed-emd",
        "synthea-transaction",
        "us-core-ndmm",
    ]


@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: p.stem)
def test_expected_record_and_reasons(path: Path) -> None:
    expected = _load(path.with_name(path.stem + ".expected.json"))
    res = bundle_to_record(_load(path))
    assert json.loads(json.dumps(res.record, default=str)) == expected["record"]
    assert sorted([r.code, r.path] for r in res.reasons) == expected["reasons"]
    parse_record(res.record)  # every corpus record is a valid mmemd.patient/1


@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: p.stem)
def test_nothing_dropped_silently(path: Path) -> None:
    bundle = _load(path)
    base = bundle_to_record(bundle)
    paths = {r.path.split(".resource")[0] for r in base.reasons}
    for i, entry in enumerate(bundle["entry"]):
        if entry["resource"]["resourceType"] == "Patient":
            continue
        smaller = {**bundle, "entry": [e for j, e in enumerate(bundle["entry"]) if j != i]}
        assert bundle_to_record(smaller).record != base.record or f"Bundle.entry[{i}]" in paths, i


@pytest.mark.parametrize(
    ("name", "category", "phase"),
    [
        ("mcode-relapsed-emd", "extramedullary", "relapsed_refractory"),
        ("chinese-ehr", "extramedullary", "newly_diagnosed"),
        # local codes with Chinese names only: diagnosis, labs, IFE, FISH text, transplant, a regimen by name
        ("chinese-ehr-relapse-text", "extramedullary", "relapsed_refractory"),
        # its imaging report says "no extramedullary soft-tissue mass": lesions known none
        ("us-core-ndmm", "none", "newly_diagnosed"),
    ],
)
def test_assessment_an_integration_engineer_expects(name: str, category: str, phase: str) -> None:
    rec = parse_record(bundle_to_record(_load(CORPUS / f"{name}.json")).record)
    assert rec.phase == phase
    assert assess(rec).emd.category == category
