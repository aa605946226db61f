"""Assessment -> FHIR Observations: validated R4B resources with the mCODE NCIt codes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir_helpers import EXAMPLE_RECORDS, ROOT

from mmemd.clinical import assess
from mmemd.fhir import assessment_to_bundle, assessment_to_observations

NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
MM = "urn:mmemd:fhir:CodeSystem:mmemd"


def _by_code(obs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["code"]["coding"][0]["code"]: o for o in obs}


def _value(o: dict[str, Any]) -> str:
    return str(o["valueCodeableConcept"]["coding"][0]["code"])


def test_liver_example_codes() -> None:
    rec = json.loads((ROOT / "examples" / "emd-liver-rrmm-pr.json").read_text(encoding="utf-8"))
    a = assess(rec)
    obs = _by_code(assessment_to_observations(a, "Patient/123"))
    assert obs["C139007"]["code"]["coding"][0]["system"] == NCIT
    assert _value(obs["C139007"]) == "C70660"  # ISS III
    assert _value(obs["C141392"]) == "C141396"  # R-ISS III
    assert _value(obs["r2_iss"]) == "r2_iss_IV"
    assert obs["r2_iss"]["component"][0]["valueQuantity"]["value"] == 4.0
    assert obs["high_risk"]["valueBoolean"] is True
    assert _value(obs["emd_category"]) == "extramedullary"
    assert _value(obs["imwg_response"]) == "PR"
    for o in obs.values():
        assert o["subject"] == {"reference": "Patient/123"}
        assert o["effectiveDateTime"] == "2025-09-01"  # the latest response assessment
        assert a.versions.knowledge_base in o["method"]["text"] and a.versions.mmemd in o["method"]["text"]


@pytest.mark.parametrize(
    ("stage", "iss_code", "riss_code"),
    [("I", "C70658", "C141394"), ("II", "C70659", "C141395"), ("III", "C70660", "C141396")],
)
def test_stage_codes(stage: str, iss_code: str, riss_code: str) -> None:
    base = json.loads((ROOT / "examples" / "emd-liver-rrmm-pr.json").read_text(encoding="utf-8"))
    a = assess(base).model_dump(mode="json")
    a["staging"]["iss"] = stage
    a["staging"]["r_iss"] = stage
    obs = _by_code(assessment_to_observations(a))
    assert _value(obs["C139007"]) == iss_code
    assert _value(obs["C141392"]) == riss_code


@pytest.mark.parametrize("path", EXAMPLE_RECORDS, ids=lambda p: p.stem)
def test_every_example_exports_valid_observations(path: Any) -> None:
    a = assess(json.loads(path.read_text(encoding="utf-8")))
    obs = assessment_to_observations(a, f"Patient/{a.patient_id}")
    assert len(obs) == 6
    for o in obs:
        Observation.model_validate(o)
        # A result that could not be determined is emitted with a dataAbsentReason, never dropped.
        assert ("valueCodeableConcept" in o) or ("valueBoolean" in o) or ("dataAbsentReason" in o)
    by = _by_code(obs)
    if a.staging.iss is None:
        assert by["C139007"]["dataAbsentReason"]["coding"][0]["code"] == "unknown"
    bundle = assessment_to_bundle(a)
    Bundle.model_validate(bundle)
