"""Prefetch data the EHR did not send is fetched from ``fhirServer`` with ``fhirAuthorization`` (an
``httpx.MockTransport`` stands in for the FHIR server): the Bearer token is sent there and nowhere else, pages are
followed, failures answer 412, and the token never reaches a log or a response."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cds_support import (
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

from mmemd.service._cds_models import CdsResponse
from mmemd.service._fhir_fetch import render_template

FHIR = "https://ehr.example.org/fhir"
ACCESS_TOKEN = "opaque-fhir-access-token-7f3a"
SERVICE = "/cds-services/mmemd-patient-view"
AUTH = {
    "access_token": ACCESS_TOKEN,
    "token_type": "Bearer",
    "expires_in": 300,
    "scope": "patient/Patient.read patient/Observation.read",
    "subject": "mmemd",
}


class FakeFhir:
    """Answers the discovery queries from a full prefetch; records every request."""

    def __init__(
        self, prefetch: dict[str, Any], page_size: int | None = None, fail: dict[str, int] | None = None
    ):
        self.prefetch = prefetch
        self.page_size = page_size
        self.fail = fail or {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/fhir/")
        rtype = path.split("/")[0]
        key = {
            "Patient": "patient",
            "Condition": "conditions",
            # Observation?patient=…&category=laboratory and Observation?patient=… answer alike here: the service
            # drops the repeats of the second key.
            "Observation": "observations",
            "MedicationRequest": "medications",
            "MedicationStatement": "medicationStatements",
            "Procedure": "procedures",
            "BodyStructure": "bodyStructures",
            "DiagnosticReport": "diagnosticReports",
        }[rtype]
        if key in self.fail:
            return httpx.Response(self.fail[key], json={"resourceType": "OperationOutcome", "issue": []})
        value = self.prefetch.get(key)
        if rtype == "Patient":
            return httpx.Response(200, json=value)
        entries = (value or {}).get("entry", [])
        if self.page_size is None:
            return httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset", "entry": entries})
        page = int(parse_qs(urlsplit(str(request.url)).query).get("_page", ["0"])[0])
        chunk = entries[page * self.page_size : (page + 1) * self.page_size]
        bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": chunk}
        if (page + 1) * self.page_size < len(entries):
            bundle["link"] = [{"relation": "next", "url": f"{FHIR}/{rtype}?patient=x&_page={page + 1}"}]
        return httpx.Response(200, json=bundle)


def run(
    jwks: dict[str, Any], token: TokenFactory, fake: FakeFhir, prefetch: dict[str, Any] | None, **cfg: Any
) -> Any:
    app, _ = make_app(make_config(jwks, **cfg), fhir_transport=httpx.MockTransport(fake))
    body = hook_body(prefetch, patient_id="emd-liver-rrmm-pr", fhirServer=FHIR, fhirAuthorization=AUTH)
    with TestClient(app) as c:
        return c.post(SERVICE, json=body, headers=bearer(token(SERVICE_URL)))


def test_missing_keys_are_fetched_with_the_bearer_token(jwks: dict[str, Any], token: TokenFactory) -> None:
    full = prefetch_for(example("emd-liver-rrmm-pr"))
    partial = {k: v for k, v in full.items() if k in ("patient", "conditions")}
    fake = FakeFhir(full)
    resp = run(jwks, token, fake, partial)
    assert resp.status_code == 200, resp.text
    assert len(CdsResponse.model_validate(resp.json()).cards) == 1
    assert {r.url.path for r in fake.requests} == {
        "/fhir/Observation",
        "/fhir/MedicationRequest",
        "/fhir/MedicationStatement",
        "/fhir/Procedure",
        "/fhir/BodyStructure",
        "/fhir/DiagnosticReport",
    }
    for r in fake.requests:
        assert r.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
        assert r.url.params["patient"] == "emd-liver-rrmm-pr"
    assert ACCESS_TOKEN not in resp.text


def test_fetched_result_equals_the_prefetched_result(jwks: dict[str, Any], token: TokenFactory) -> None:
    full = prefetch_for(example("emd-skin-new-lesion-progression"))
    fetched = run(jwks, token, FakeFhir(full), None)
    given = run(jwks, token, FakeFhir(full), full)
    a = CdsResponse.model_validate(fetched.json()).cards[0]
    b = CdsResponse.model_validate(given.json()).cards[0]
    assert (a.indicator, a.summary) == (b.indicator, b.summary) == ("critical", b.summary)
    # the detail differs only by the report-link-free text: same options, same claims
    assert a.detail == b.detail


def test_search_pages_are_followed(jwks: dict[str, Any], token: TokenFactory) -> None:
    full = prefetch_for(example("emd-liver-rrmm-pr"))
    fake = FakeFhir(full, page_size=4)
    resp = run(jwks, token, fake, None)
    assert resp.status_code == 200
    n_obs = len(full["observations"]["entry"])
    # the laboratory query's first page, then the next links (each on the same host)
    lab = [
        r for r in fake.requests if r.url.path == "/fhir/Observation" and "observationsAll" not in str(r.url)
    ]
    lab_pages = [r for r in lab if r.url.params.get("category") == "laboratory" or "_page" in r.url.params]
    assert len(lab_pages) >= -(-n_obs // 4)
    assert all(r.url.host == "ehr.example.org" for r in fake.requests)


def test_too_many_pages_of_a_required_key_is_412(jwks: dict[str, Any], token: TokenFactory) -> None:
    fake = FakeFhir(prefetch_for(example("emd-liver-rrmm-pr")), page_size=1)
    resp = run(jwks, token, fake, None, fhir_max_pages=1)
    assert resp.status_code == 412
    assert "more than 1 result pages" in resp.json()["detail"]


def test_fhir_server_error_on_conditions_is_412(jwks: dict[str, Any], token: TokenFactory) -> None:
    fake = FakeFhir(prefetch_for(example("emd-liver-rrmm-pr")), fail={"conditions": 500})
    resp = run(jwks, token, fake, None)
    assert resp.status_code == 412
    body = resp.json()
    assert body["errors"][0]["path"] == "$.prefetch.conditions"
    assert "HTTP 500" in body["detail"]
    assert ACCESS_TOKEN not in resp.text


def test_fhir_server_error_on_other_data_is_named_on_the_card(
    jwks: dict[str, Any], token: TokenFactory
) -> None:
    fake = FakeFhir(prefetch_for(example("emd-liver-rrmm-pr")), fail={"observations": 403})
    resp = run(jwks, token, fake, None)
    assert resp.status_code == 200
    detail = resp.json()["cards"][0]["detail"]
    assert (
        "`prefetch.observations`: data not available: laboratory results (FHIR server answered HTTP 403)"
        in detail
    )
    assert ACCESS_TOKEN not in resp.text


def test_optional_key_failure_is_only_a_note(jwks: dict[str, Any], token: TokenFactory) -> None:
    fake = FakeFhir(prefetch_for(example("emd-liver-rrmm-pr")), fail={"bodyStructures": 404})
    resp = run(jwks, token, fake, None)
    assert resp.status_code == 200
    assert "prefetch.bodyStructures" in resp.json()["cards"][0]["detail"]


def test_timeout_is_412(jwks: dict[str, Any], token: TokenFactory) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    app, _ = make_app(make_config(jwks), fhir_transport=httpx.MockTransport(slow))
    body = hook_body(None, fhirServer=FHIR, fhirAuthorization=AUTH)
    with TestClient(app) as c:
        resp = c.post(SERVICE, json=body, headers=bearer(token(SERVICE_URL)))
    assert resp.status_code == 412 and "timed out" in resp.json()["detail"]


def test_next_link_to_another_host_is_refused(jwks: dict[str, Any], token: TokenFactory) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/fhir/Patient/p-1":
            return httpx.Response(200, json={"resourceType": "Patient", "id": "p-1"})
        return httpx.Response(
            200,
            json={
                "resourceType": "Bundle",
                "type": "searchset",
                "link": [{"relation": "next", "url": "https://evil.example.com/steal"}],
            },
        )

    seen: list[str] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return handler(request)

    app, _ = make_app(make_config(jwks), fhir_transport=httpx.MockTransport(recording))
    with TestClient(app) as c:
        resp = c.post(
            SERVICE,
            json=hook_body(None, fhirServer=FHIR, fhirAuthorization=AUTH),
            headers=bearer(token(SERVICE_URL)),
        )
    assert resp.status_code == 412
    assert "evil.example.com" not in seen


def test_access_token_never_logged(
    jwks: dict[str, Any], token: TokenFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    full = prefetch_for(example("emd-liver-rrmm-pr"))
    assert run(jwks, token, FakeFhir(full), None).status_code == 200
    assert run(jwks, token, FakeFhir(full, fail={"conditions": 503}), None).status_code == 412
    text = " ".join(str(vars(r)) for r in caplog.records)
    assert "cds fhir fetch" in text or "cds patient-view" in text
    assert ACCESS_TOKEN not in text


def test_render_template_refuses_unresolved_tokens() -> None:
    assert (
        render_template("Condition?patient={{context.patientId}}", {"patientId": "p1"})
        == "Condition?patient=p1"
    )
    with pytest.raises(ValueError):
        render_template("Practitioner/{{userPractitionerId}}", {"patientId": "p1"})


def test_plain_http_fhir_server_gets_no_token(jwks: dict[str, Any], token: TokenFactory) -> None:
    fake = FakeFhir(prefetch_for(example("emd-liver-rrmm-pr")))
    app, _ = make_app(make_config(jwks), fhir_transport=httpx.MockTransport(fake))
    body = hook_body(None, fhirServer="http://ehr.example.org/fhir", fhirAuthorization=AUTH)
    with TestClient(app) as c:
        resp = c.post(SERVICE, json=body, headers=bearer(token(SERVICE_URL)))
    assert resp.status_code == 412
    assert resp.json()["errors"][0]["code"] == "fhir_server_not_https"
    assert fake.requests == []


def test_patient_prefetch_as_a_search_bundle(jwks: dict[str, Any], token: TokenFactory) -> None:
    from cds_support import searchset

    prefetch = prefetch_for(example("emd-liver-rrmm-pr"))
    prefetch["patient"] = searchset([prefetch["patient"]])
    resp = run(jwks, token, FakeFhir(prefetch), prefetch)
    assert resp.status_code == 200 and len(resp.json()["cards"]) == 1


def test_paginated_prefetch_is_completed_from_the_server(jwks: dict[str, Any], token: TokenFactory) -> None:
    full = prefetch_for(example("emd-liver-rrmm-pr"))
    fake = FakeFhir(full, page_size=4)
    given = dict(full)
    first = dict(full["observations"])
    first["entry"] = full["observations"]["entry"][:4]
    first["link"] = [{"relation": "next", "url": f"{FHIR}/Observation?patient=x&_page=1"}]
    given["observations"] = first
    paged = run(jwks, token, fake, given)
    whole = run(jwks, token, FakeFhir(full), full)
    a = CdsResponse.model_validate(paged.json()).cards[0]
    b = CdsResponse.model_validate(whole.json()).cards[0]
    assert a.summary == b.summary
    assert any("_page=1" in str(r.url) for r in fake.requests)


def test_paginated_prefetch_without_a_server_says_so(jwks: dict[str, Any], token: TokenFactory) -> None:
    app, _ = make_app(make_config(jwks))
    prefetch = prefetch_for(example("emd-liver-rrmm-pr"))
    prefetch["observations"]["link"] = [{"relation": "next", "url": f"{FHIR}/Observation?patient=x&_page=1"}]
    with TestClient(app) as c:
        resp = c.post(SERVICE, json=hook_body(prefetch), headers=bearer(token(SERVICE_URL)))
    detail = resp.json()["cards"][0]["detail"]
    assert "only the first page of laboratory results was read" in detail


def test_token_type_is_case_insensitive(jwks: dict[str, Any], token: TokenFactory) -> None:
    full = prefetch_for(example("emd-liver-rrmm-pr"))
    app, _ = make_app(make_config(jwks), fhir_transport=httpx.MockTransport(FakeFhir(full)))
    body = hook_body(None, patient_id="emd-liver-rrmm-pr", fhirServer=FHIR, fhirAuthorization=AUTH)
    body["fhirAuthorization"] = {**AUTH, "token_type": "bearer"}
    with TestClient(app) as c:
        resp = c.post(SERVICE, json=body, headers=bearer(token(SERVICE_URL)))
    assert resp.status_code == 200 and len(resp.json()["cards"]) == 1


def test_authorization_for_another_patient_is_refused(jwks: dict[str, Any], token: TokenFactory) -> None:
    fake = FakeFhir(prefetch_for(example("emd-liver-rrmm-pr")))
    app, _ = make_app(make_config(jwks), fhir_transport=httpx.MockTransport(fake))
    body = hook_body(None, patient_id="emd-liver-rrmm-pr", fhirServer=FHIR)
    body["fhirAuthorization"] = {**AUTH, "patient": "someone-else"}
    with TestClient(app) as c:
        resp = c.post(SERVICE, json=body, headers=bearer(token(SERVICE_URL)))
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["code"] == "patient_mismatch"
    assert fake.requests == []  # nothing read with a token for another patient
