"""patient-view with prefetch in standard conventions only (US Core searches, mCODE, ICD-10-CM by OID, RxNorm
displays): a relapsed patient with new extramedullary disease gets a critical card; feedback accepts ``extension``."""

from __future__ import annotations

from typing import Any

from cds_support import SERVICE_URL, TokenFactory, bearer, hook_body, searchset
from fastapi.testclient import TestClient

from mmemd.service._cds_models import CdsResponse

SERVICE = "/cds-services/mmemd-patient-view"
CM_OID = "urn:oid:2.16.840.1.113883.6.90"
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
PID = "us-core-1"


def _subject() -> dict[str, str]:
    return {"reference": f"Patient/{PID}"}


def _condition(cid: str, code: str, onset: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        "verificationStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "problem-list-item",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": CM_OID, "code": code}]},
        "subject": _subject(),
        "onsetDateTime": onset,
        **extra,
    }


def _order(oid: str, display: str, authored: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": oid,
        "status": "completed",
        "intent": "order",
        "medicationCodeableConcept": {"text": display},
        "subject": _subject(),
        "authoredOn": authored,
    }


def _m_protein(oid: str, day: str, value: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": "33358-3"}]},
        "subject": _subject(),
        "effectiveDateTime": day,
        "valueQuantity": {"value": float(value), "unit": "g/dl", "system": UCUM, "code": "g/dl"},
    }


def relapsed_emd_prefetch() -> dict[str, Any]:
    conditions = [
        _condition("mm", "C90.02", "2022-03-01"),  # ICD-10-CM "in relapse", by OID
        # mCODE SecondaryCancerCondition: liver involvement found at relapse
        _condition(
            "liver",
            "C78.7",
            "2025-05-10",
            bodySite=[{"coding": [{"system": SCT, "code": "10200004", "display": "Liver structure"}]}],
        ),
    ]
    orders = [
        _order("o1", "Bortezomib 3.5 MG Injection", "2022-03-10"),
        _order("o2", "Lenalidomide 25 MG Oral Capsule", "2022-03-10"),
        _order("o3", "Daratumumab 20 MG/ML Injectable Solution", "2024-01-15"),
    ]
    status = {
        "resourceType": "Observation",
        "id": "status",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "97509-4"}]},
        "subject": _subject(),
        "effectiveDateTime": "2025-05-12",
        "valueCodeableConcept": {"coding": [{"system": SCT, "code": "271299001"}]},
    }
    return {
        "patient": {"resourceType": "Patient", "id": PID, "gender": "male", "birthDate": "1957-09-30"},
        "conditions": searchset(conditions),
        "observations": searchset(
            [_m_protein("mp1", "2025-02-01", "0.6"), _m_protein("mp2", "2025-05-12", "1.9")]
        ),
        "observationsAll": searchset([status]),
        "medications": searchset(orders),
        "medicationStatements": None,
        "procedures": None,
        "bodyStructures": None,
    }


def _post(client: TestClient, token: TokenFactory, prefetch: dict[str, Any]) -> CdsResponse:
    resp = client.post(SERVICE, json=hook_body(prefetch, patient_id=PID), headers=bearer(token(SERVICE_URL)))
    assert resp.status_code == 200, resp.text
    return CdsResponse.model_validate(resp.json())


def test_relapsed_emd_patient_in_standard_codes_gets_a_critical_card(
    client: TestClient, token: TokenFactory
) -> None:
    (card,) = _post(client, token, relapsed_emd_prefetch()).cards
    assert card.indicator == "critical"
    assert "new extramedullary disease (liver)" in card.summary
    assert card.detail is not None and "liver" in card.detail


def test_myeloma_coded_only_in_icd_o_3_is_not_an_empty_response(
    client: TestClient, token: TokenFactory
) -> None:
    prefetch = relapsed_emd_prefetch()
    dx = _condition("mm", "x", "2024-01-01")
    dx["code"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/icd-o-3", "code": "9732/3"}]}
    prefetch["conditions"] = searchset([dx])
    prefetch["observations"] = None
    prefetch["observationsAll"] = None
    prefetch["medications"] = None
    assert len(_post(client, token, prefetch).cards) == 1


def test_feedback_extension_is_accepted(client: TestClient, token: TokenFactory) -> None:
    (card,) = _post(client, token, relapsed_emd_prefetch()).cards
    feedback = {
        "feedback": [
            {
                "card": card.uuid,
                "outcome": "overridden",
                "outcomeTimestamp": "2026-01-05T10:00:00Z",
                "extension": {"com.example.ehr.session": "abc"},
            }
        ],
        "extension": {"com.example.ehr.batch": 1},
    }
    url = f"{SERVICE}/feedback"
    resp = client.post(url, json=feedback, headers=bearer(token(f"{SERVICE_URL}/feedback")))
    assert resp.status_code == 200 and resp.json() == {"recorded": 1}
