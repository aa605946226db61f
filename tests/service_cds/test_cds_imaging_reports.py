"""patient-view with an imaging DiagnosticReport in the prefetch: the card names the lesions read from the report's
text (to be confirmed), in English and in Chinese without English prose."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest
from cds_support import SERVICE_URL, TokenFactory, bearer, hook_body, make_app, make_config, searchset
from fastapi.testclient import TestClient

from mmemd.service._cds_hooks import PREFETCH
from mmemd.service._cds_models import CdsResponse

SERVICE = "/cds-services/mmemd-patient-view"
PID = "rad-1"
ZH_PET = (
    "检查日期：2025-03-20\n"
    "检查所见：T10椎体骨质破坏并椎旁软组织肿块形成，大小约4.2cm×3.1cm，较前增大。"
    "肝S6段新发低密度结节，约2.1cm×1.8cm。\n"
    "诊断意见：T10椎体及椎旁浆细胞瘤，较前增大；肝S6段新发病灶，考虑髓外浸润。"
)


def _prefetch(report: dict[str, Any] | None) -> dict[str, Any]:
    myeloma = {
        "resourceType": "Condition",
        "id": "mm",
        "verificationStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}
            ]
        },
        "code": {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.90", "code": "C90.00"}]},
        "subject": {"reference": f"Patient/{PID}"},
        "onsetDateTime": "2024-11-02",
    }
    out: dict[str, Any] = {key: None for key in PREFETCH}
    out["patient"] = {"resourceType": "Patient", "id": PID, "gender": "female", "birthDate": "1961-04-18"}
    out["conditions"] = searchset([myeloma])
    out["diagnosticReports"] = searchset([report]) if report else None
    return out


def _pet_report() -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": "petct-0320",
        "status": "final",
        "category": [
            {"coding": [{"system": "http://loinc.org", "code": "LP29684-5", "display": "Radiology"}]}
        ],
        "code": {"text": "PET-CT全身显像"},
        "subject": {"reference": f"Patient/{PID}"},
        "effectiveDateTime": "2025-03-20",
        "presentedForm": [
            {"contentType": "text/plain; charset=utf-8", "data": base64.b64encode(ZH_PET.encode()).decode()}
        ],
    }


@pytest.fixture
def zh_client(jwks: dict[str, Any]) -> Iterator[TestClient]:
    app, _ = make_app(make_config(jwks), lang="zh")
    with TestClient(app) as c:
        yield c


def _card(client: TestClient, token: TokenFactory, report: dict[str, Any] | None) -> Any:
    resp = client.post(
        SERVICE, json=hook_body(_prefetch(report), patient_id=PID), headers=bearer(token(SERVICE_URL))
    )
    assert resp.status_code == 200, resp.text
    (card,) = CdsResponse.model_validate(resp.json()).cards
    return card


def _line(detail: str, start: str) -> str:
    return next(line for line in detail.splitlines() if line.startswith(start))


def test_card_names_the_lesions_read_from_report_text(client: TestClient, token: TokenFactory) -> None:
    card = _card(client, token, _pet_report())
    line = _line(card.detail, "**Read from imaging report text")
    assert "confirm before use" in line
    assert "Paravertebral" in line or "paravertebral" in line
    assert "iver (2.1 × 1.8 cm)" in line  # "Liver" as the vocabulary names it, with the measured size
    # the lesions themselves are in the assessment: new extramedullary disease (liver) makes the card critical
    assert card.indicator == "critical"


def test_zh_card_line_has_no_english_prose(zh_client: TestClient, token: TokenFactory) -> None:
    card = _card(zh_client, token, _pet_report())
    line = _line(card.detail, "**由影像报告文本提取")
    assert "肝" in line and "（2.1 × 1.8 cm）" in line
    assert re.findall(r"[A-Za-z]{2,}", line) == ["cm", "cm"]  # units only


def test_no_report_no_line(client: TestClient, token: TokenFactory) -> None:
    card = _card(client, token, None)
    assert "Read from imaging report text" not in card.detail
