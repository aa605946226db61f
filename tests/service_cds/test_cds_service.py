"""The patient-view service: discovery, prefetch → cards, 412, null and OperationOutcome prefetch values, request
validation, the report link, and a full round trip with signed tokens through ``create_app``."""

from __future__ import annotations

import copy
import logging
import re
import time
import uuid
from typing import Any

import jwt
import pytest
from cds_support import (
    DISCOVERY_URL,
    EXAMPLES,
    ISS,
    NOW,
    SERVICE_URL,
    TokenFactory,
    bearer,
    example,
    hook_body,
    make_app,
    make_config,
    prefetch_for,
)
from fastapi.testclient import TestClient

from mmemd.service._cds_models import Card, CdsResponse, Discovery
from mmemd.service._config import ServiceConfig

NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))
SERVICE = "/cds-services/mmemd-patient-view"


def post(client: TestClient, token: TokenFactory, body: Any) -> Any:
    return client.post(SERVICE, json=body, headers=bearer(token(SERVICE_URL)))


def valid_response(resp: Any) -> CdsResponse:
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    parsed = CdsResponse.model_validate(doc)  # the spec's model, including the no-null/no-empty rule
    for card in doc["cards"]:
        Card.model_validate(card)
        assert len(card["summary"]) < 140
    return parsed


def test_discovery_lists_the_service_with_prefetch_templates(client: TestClient, token: TokenFactory) -> None:
    resp = client.get("/cds-services", headers=bearer(token(DISCOVERY_URL)))
    doc = Discovery.model_validate(resp.json())
    (svc,) = doc.services
    assert (svc.hook, svc.id) == ("patient-view", "mmemd-patient-view")
    assert svc.description and svc.title
    assert svc.prefetch is not None
    for key in ("patient", "conditions", "observations", "medications"):
        assert "{{context.patientId}}" in svc.prefetch[key]
    assert svc.prefetch["patient"] == "Patient/{{context.patientId}}"
    assert svc.extension is not None and set(svc.extension["org.mmemd.versions"]) >= {
        "mmemd",
        "knowledge_base",
    }


@pytest.mark.parametrize("name", NAMES)
def test_every_example_gives_a_valid_card(client: TestClient, token: TokenFactory, name: str) -> None:
    record = example(name)
    parsed = valid_response(post(client, token, hook_body(prefetch_for(record), patient_id=record["id"])))
    (card,) = parsed.cards
    assert card.uuid is not None and uuid.UUID(card.uuid)
    assert card.source.url is not None and card.links
    assert card.detail is not None and "mmemd 0.1.0" in card.detail


def test_new_emd_and_progression_is_critical_with_options_in_detail(
    client: TestClient, token: TokenFactory
) -> None:
    record = example("emd-skin-new-lesion-progression")
    (card,) = valid_response(post(client, token, hook_body(prefetch_for(record)))).cards
    assert card.indicator == "critical"
    assert "new extramedullary disease" in card.summary and "progressive disease" in card.summary
    assert card.detail is not None
    assert "### Top treatment options" in card.detail
    assert "emdtx-" not in card.detail and "\\[1\\]" in card.detail  # cited by number, not claim id
    assert "grade" in card.detail


def test_high_risk_without_urgent_findings_is_warning(client: TestClient, token: TokenFactory) -> None:
    record = example(
        "emd-liver-rrmm-pr"
    )  # lesion detected 92 days before the latest assessment, PR, high risk
    (card,) = valid_response(post(client, token, hook_body(prefetch_for(record)))).cards
    assert card.indicator == "warning"


def test_cards_in_chinese(jwks: dict[str, Any], token: TokenFactory) -> None:
    app, _ = make_app(make_config(jwks, card_language="zh"))
    record = example("emd-skin-new-lesion-progression")
    with TestClient(app) as c:
        (card,) = valid_response(post(c, token, hook_body(prefetch_for(record)))).cards
    assert "新发髓外病变" in card.summary and "疾病进展" in card.summary
    assert card.detail is not None and "主要治疗方案" in card.detail


def test_not_a_myeloma_patient_gets_no_cards(client: TestClient, token: TokenFactory) -> None:
    prefetch = prefetch_for(example("emd-liver-rrmm-pr"))
    prefetch["conditions"] = None
    resp = post(client, token, hook_body(prefetch))
    assert resp.json() == {"cards": []}


def test_missing_conditions_without_fhir_server_is_412(client: TestClient, token: TokenFactory) -> None:
    prefetch = prefetch_for(example("emd-liver-rrmm-pr"))
    del prefetch["conditions"]
    resp = post(client, token, hook_body(prefetch))
    assert resp.status_code == 412
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["errors"] == [
        {"path": "$.prefetch.conditions", "message": "missing", "code": "prefetch_missing"}
    ]


def test_missing_other_data_is_named_on_the_card(client: TestClient, token: TokenFactory) -> None:
    # A US Core server that cannot answer a key: the card says which data were not available.
    prefetch = prefetch_for(example("emd-liver-rrmm-pr"))
    del prefetch["medications"]
    (card,) = valid_response(post(client, token, hook_body(prefetch))).cards
    assert card.detail is not None
    assert "`prefetch.medications`: data not available: medication orders (therapy history)" in card.detail


def test_no_prefetch_at_all_is_412(client: TestClient, token: TokenFactory) -> None:
    resp = post(client, token, hook_body(None))
    assert resp.status_code == 412
    assert {e["path"] for e in resp.json()["errors"]} == {"$.prefetch.patient", "$.prefetch.conditions"}


def test_null_prefetch_key_means_no_data(client: TestClient, token: TokenFactory) -> None:
    record = example("emd-liver-rrmm-pr")
    prefetch = prefetch_for(record)
    prefetch["medications"] = None  # spec: the EHR has no data for this key
    (card,) = valid_response(post(client, token, hook_body(prefetch))).cards
    full = valid_response(post(client, token, hook_body(prefetch_for(record)))).cards[0]
    # without the therapy history the refractoriness caution on the same option disappears
    assert card.detail != full.detail


def test_operation_outcome_prefetch_is_treated_as_missing(client: TestClient, token: TokenFactory) -> None:
    prefetch = prefetch_for(example("emd-liver-rrmm-pr"))
    prefetch["procedures"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout"}],
    }
    (card,) = valid_response(post(client, token, hook_body(prefetch))).cards
    assert card.detail is not None and "`prefetch.procedures`: data not available" in card.detail


def test_search_outcome_entries_in_a_searchset_are_ignored(client: TestClient, token: TokenFactory) -> None:
    record = example("emd-liver-rrmm-pr")
    prefetch = prefetch_for(record)
    prefetch["observations"]["entry"].append(
        {
            "resource": {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "information", "code": "informational"}],
            },
            "search": {"mode": "outcome"},
        }
    )
    with_outcome = valid_response(post(client, token, hook_body(prefetch))).cards[0]
    plain = valid_response(post(client, token, hook_body(prefetch_for(record)))).cards[0]
    assert with_outcome.detail == plain.detail


def test_unmapped_fhir_data_are_listed_in_the_detail(client: TestClient, token: TokenFactory) -> None:
    prefetch = prefetch_for(example("emd-liver-rrmm-pr"))
    prefetch["observations"]["entry"].append(
        {
            "resource": {
                "resourceType": "Observation",
                "id": "odd-1",
                "status": "final",
                "subject": {"reference": "Patient/emd-liver-rrmm-pr"},
                "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
                "effectiveDateTime": "2025-09-01",
                "valueQuantity": {
                    "value": 6.1,
                    "unit": "%",
                    "system": "http://unitsofmeasure.org",
                    "code": "%",
                },
            }
        }
    )
    (card,) = valid_response(post(client, token, hook_body(prefetch))).cards
    assert card.detail is not None
    assert "EHR data that could not be used" in card.detail
    assert "prefetch.observations Observation/odd-1" in card.detail


def test_malformed_fhir_resource_costs_only_itself(client: TestClient, token: TokenFactory) -> None:
    prefetch = prefetch_for(example("emd-liver-rrmm-pr"))
    bad = prefetch["observations"]["entry"][0]["resource"]
    bad["status"] = 42
    (card,) = valid_response(post(client, token, hook_body(prefetch))).cards
    assert card.detail is not None
    assert f"prefetch.observations Observation/{bad['id']} .status" in card.detail
    assert "R-ISS" in card.summary  # the rest of the record was still assessed


def test_incomplete_record_gives_an_info_card_listing_fields(client: TestClient, token: TokenFactory) -> None:
    prefetch = prefetch_for(example("emd-liver-rrmm-pr"))
    prefetch["observations"] = None
    prefetch["medications"] = None
    resp = post(client, token, hook_body(prefetch))
    cards = valid_response(resp).cards
    assert len(cards) == 1 and cards[0].indicator in ("info", "warning", "critical")


def test_optional_body_structures_may_be_absent(client: TestClient, token: TokenFactory) -> None:
    prefetch = prefetch_for(example("emd-liver-rrmm-pr"))
    prefetch.pop("bodyStructures", None)
    (card,) = valid_response(post(client, token, hook_body(prefetch))).cards
    assert card.detail is not None and "prefetch.bodyStructures" in card.detail


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda b: b.update(hook="order-sign"), "$.hook"),
        (lambda b: b.pop("hookInstance"), "$.hookInstance"),
        (lambda b: b["context"].pop("patientId"), "$.context.patientId"),
        (lambda b: b["context"].update(userId="dr-1"), "$.context.userId"),
        (lambda b: b["context"].update(patientId="../admin"), "$.context.patientId"),
        (
            lambda b: b.update(
                fhirAuthorization={
                    "access_token": "t",
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "scope": "patient/*.read",
                    "subject": "mmemd",
                }
            ),
            "$",
        ),
    ],
)
def test_invalid_requests_are_422_with_paths(
    client: TestClient, token: TokenFactory, mutate: Any, path: str
) -> None:
    body = hook_body(prefetch_for(example("emd-liver-rrmm-pr")))
    mutate(body)
    resp = post(client, token, body)
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert path in [e["path"] for e in resp.json()["errors"]]


def test_malformed_json_is_400(client: TestClient, token: TokenFactory) -> None:
    headers = {**bearer(token(SERVICE_URL)), "content-type": "application/json"}
    resp = client.post(SERVICE, content=b"{not json", headers=headers)
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith("application/problem+json")


def test_authentication_comes_before_body_validation(client: TestClient) -> None:
    resp = client.post(SERVICE, content=b"{not json")
    assert resp.status_code == 401 and resp.json()["reason"] == "missing_token"


def test_token_for_discovery_is_not_accepted_by_the_service(client: TestClient, token: TokenFactory) -> None:
    body = hook_body(prefetch_for(example("emd-liver-rrmm-pr")))
    resp = client.post(SERVICE, json=body, headers=bearer(token(DISCOVERY_URL)))
    assert resp.status_code == 401 and resp.json()["reason"] == "wrong_audience"


def test_report_link_serves_html_and_expires(jwks: dict[str, Any], token: TokenFactory) -> None:
    clock = [NOW]
    from fastapi import FastAPI

    from mmemd.service._cds_hooks import build_router, new_state
    from mmemd.service._problem import install_problem_handlers

    config = make_config(jwks, report_link_ttl_seconds=60)
    state = new_state(config, clock=lambda: clock[0])
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(build_router(config, state))
    with TestClient(app) as c:
        (card,) = valid_response(post(c, token, hook_body(prefetch_for(example("emd-liver-rrmm-pr"))))).cards
        assert card.links is not None
        url = str(card.links[0].url).removeprefix("http://testserver")
        page = c.get(url)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-store"
        assert c.get(url.split("/report/")[0] + "/report/not-a-token").status_code == 404
        clock[0] += 61
        assert c.get(url).status_code == 404


def test_logs_carry_no_patient_values(
    client: TestClient, token: TokenFactory, caplog: pytest.LogCaptureFixture
) -> None:
    record = copy.deepcopy(example("emd-liver-rrmm-pr"))
    caplog.set_level(logging.DEBUG)
    prefetch = prefetch_for(record)
    valid_response(post(client, token, hook_body(prefetch)))
    dumped = " ".join(str(vars(r)) for r in caplog.records if r.name.startswith("mmemd"))
    assert "cds patient-view" in dumped
    # Markers that cannot occur by chance: a bare year such as "1958" also turns up in timing fields
    # (relativeCreated 195856.57); the full birth date, with its hyphens, cannot.
    birth_date = prefetch["patient"]["birthDate"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", birth_date)
    for marker in ("liver", birth_date, "emd-liver-rrmm-pr", "Practitioner/dr-1"):
        assert marker not in dumped


# ---- full round trip through the real app (create_app), tokens signed by a test key, real clock ------------------
def test_round_trip_with_signed_tokens(jwks: dict[str, Any], ec_key: Any) -> None:
    from mmemd.service import create_app

    config = ServiceConfig(
        public_base_url="https://cds.example.org",
        cds_hooks=make_config(jwks).cds_hooks,
    )

    def signed(aud: str) -> dict[str, str]:
        now = int(time.time())
        claims = {"iss": ISS, "aud": aud, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
        tok = jwt.encode(claims, ec_key, algorithm="ES384", headers={"kid": "ec-1", "typ": "JWT"})
        return bearer(tok)

    base = "https://cds.example.org/cds-services"
    record = example("emd-skin-new-lesion-progression")
    with TestClient(create_app(config)) as c:
        disc = c.get("/cds-services", headers=signed(base))
        assert disc.status_code == 200
        (svc,) = Discovery.model_validate(disc.json()).services
        resp = c.post(
            f"/cds-services/{svc.id}",
            json=hook_body(prefetch_for(record)),
            headers=signed(f"{base}/{svc.id}"),
        )
        (card,) = valid_response(resp).cards
        assert card.indicator == "critical"
        # source.url is a general page (the spec: not patient-specific); the report is a link
        assert str(card.source.url) == "https://cds.example.org/"
        assert card.links and str(card.links[0].url).startswith(f"{base}/{svc.id}/report/")
        feedback = {
            "feedback": [
                {"card": card.uuid, "outcome": "overridden", "outcomeTimestamp": "2026-01-05T10:00:00Z"}
            ]
        }
        fb = c.post(
            f"/cds-services/{svc.id}/feedback", json=feedback, headers=signed(f"{base}/{svc.id}/feedback")
        )
        assert fb.status_code == 200 and fb.json() == {"recorded": 1}
        unsigned = c.post(f"/cds-services/{svc.id}", json=hook_body(prefetch_for(record)))
        assert unsigned.status_code == 401
