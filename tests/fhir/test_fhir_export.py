"""Assessment -> FHIR Observations: validated R4B resources with the mCODE NCIt codes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir_helpers import EXAMPLE_RECORDS, ROOT

from mmemd.clinical import assess
from mmemd.fhir import assessment_to_bundle, assessment_to_observations, record_to_bundle

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
        notes = " ".join(n["text"] for n in o["note"])
        assert a.versions.knowledge_base in notes and a.versions.mmemd in notes
    for key in ("emd_category", "imwg_response", "high_risk", "97509-4"):
        assert obs[key]["effectiveDateTime"] == "2025-09-01"  # the latest response assessment
    # without a diagnosis date the stages are not dated by the response date
    assert "effectiveDateTime" not in obs["C139007"]


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
    solitary = a.emd.category in ("solitary_bone_plasmacytoma", "solitary_extramedullary_plasmacytoma")
    assert len(obs) == (4 if solitary else 7)
    for o in obs:
        Observation.model_validate(o)
        # A result that could not be determined is emitted with a dataAbsentReason, never dropped.
        assert ("valueCodeableConcept" in o) or ("valueBoolean" in o) or ("dataAbsentReason" in o)
    by = _by_code(obs)
    if solitary:  # no myeloma stage for a solitary plasmacytoma, and the EMD result says why
        assert {"C139007", "C141392", "r2_iss"}.isdisjoint(by)
        assert any("no myeloma stage" in n["text"] for n in by["emd_category"]["note"])
    elif a.staging.iss is None:
        assert by["C139007"]["dataAbsentReason"]["coding"][0]["code"] == "unknown"
    bundle = assessment_to_bundle(a)
    Bundle.model_validate(bundle)


def _liver() -> dict[str, Any]:
    rec: dict[str, Any] = json.loads(
        (ROOT / "examples" / "emd-liver-rrmm-pr.json").read_text(encoding="utf-8")
    )
    return rec


def test_mcode_staging_conformance() -> None:
    rec = _liver()
    bundle = assessment_to_bundle(assess(rec), record=rec)
    by = _by_code([e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"])
    iss, riss, status = by["C139007"], by["C141392"], by["97509-4"]
    mcode = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
    assert iss["meta"]["profile"] == [mcode + "mcode-myeloma-iss-stage"]
    assert riss["meta"]["profile"] == [mcode + "mcode-myeloma-riss-stage"]
    assert status["meta"]["profile"] == [mcode + "mcode-cancer-disease-status"]
    for o in (iss, riss):
        assert o["category"][0]["coding"][0]["code"] == "385356007"
        assert o["focus"] == [{"reference": f"Condition/{rec['id']}-diagnosis"}]
        assert o["effectiveDateTime"] == rec["diagnosis"]["date"]  # staged at diagnosis
    assert iss["method"]["coding"][0]["code"] == "1149162008"
    assert riss["method"]["coding"][0]["code"] == "1149163003"
    assert status["focus"] == iss["focus"]
    assert status["valueCodeableConcept"]["coding"][0]["code"] == "268910001"  # PR: improved
    Bundle.model_validate(bundle)


def test_ids_are_deterministic_and_fhir_safe() -> None:
    rec = _liver()
    rec["id"] = "x" * 62 + "/ü"  # long, and not a FHIR id
    a = assess(rec)
    first = [o["id"] for o in assessment_to_observations(a)]
    again = [o["id"] for o in assessment_to_observations(a)]
    assert first == again and len(set(first)) == len(first)
    assert all(len(i) <= 64 and all(c.isalnum() or c in "-." for c in i) for i in first)


def test_export_reads_back_as_the_same_record() -> None:
    from mmemd.fhir import bundle_to_record

    rec = _liver()
    bundle = assessment_to_bundle(assess(rec), record=rec)
    res = bundle_to_record(json.loads(json.dumps(bundle)))
    assert json.loads(json.dumps(res.record, default=str)) == json.loads(
        json.dumps(bundle_to_record(json.loads(json.dumps(record_to_bundle(rec)))).record, default=str)
    )
    derived = [r for r in res.reasons if r.code == "derived_value"]
    assert len(derived) == 7  # every exported result is recognised as mmemd's own
    assert "unknown_code" not in {r.code for r in res.reasons}
