"""Outbound FHIR fetches go only to the calling issuer's allow-listed FHIR base, never past it, within one total
deadline — and a refused fhirServer gets the same answer whatever was tried."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from cds_support import SERVICE_URL, TokenFactory, bearer, hook_body, make_app, make_config
from fastapi.testclient import TestClient

from mmemd.service._fhir_egress import allowed_fhir_server, within_base

SERVICE = "/cds-services/mmemd-patient-view"
AUTH = {
    "access_token": "tok-egress-1",
    "token_type": "Bearer",
    "expires_in": 300,
    "scope": "patient/*.read",
    "subject": "mmemd",
}
BASE = "https://ehr.example.org/fhir"


def post(jwks: dict[str, Any], token: TokenFactory, handler: Any, body: dict[str, Any], **cds: Any) -> Any:
    app, _ = make_app(make_config(jwks, **cds), fhir_transport=httpx.MockTransport(handler))
    with TestClient(app) as c:
        return c.post(SERVICE, json=body, headers=bearer(token(SERVICE_URL)))


@pytest.mark.parametrize(
    "server",
    [
        "https://intranet.example.org/fhir",
        "https://127.0.0.1:6379/",
        "https://ehr.example.org:8443/fhir",
        "https://ehr.example.org/fhirevil",
        "https://ehr.example.org/",
    ],
)
def test_fhir_server_not_allow_listed_is_refused_before_any_request(
    jwks: dict[str, Any], token: TokenFactory, server: str
) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"resourceType": "Patient", "id": "p-1"})

    resp = post(jwks, token, handler, hook_body(None, fhirServer=server, fhirAuthorization=AUTH))
    assert resp.status_code == 412 and seen == []
    body = resp.json()
    assert body["errors"] == [
        {"path": "$.fhirServer", "message": "not allow-listed", "code": "fhir_server_not_allowed"}
    ]
    # the same words whatever host or port was named: no oracle
    assert server not in resp.text and body["detail"].endswith("nothing was fetched")


@pytest.mark.parametrize("patient_id", ["../../v1/assessments", "..%2F..%2Fv1", "%2e%2e/%2e%2e/admin"])
def test_patient_id_cannot_lead_outside_the_base(
    jwks: dict[str, Any], token: TokenFactory, patient_id: str
) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset"})

    resp = post(
        jwks, token, handler, hook_body(None, patient_id=patient_id, fhirServer=BASE, fhirAuthorization=AUTH)
    )
    assert resp.status_code in (412, 422)  # 422: the hook model already refuses such an id
    assert all(p.startswith("/fhir/") and ".." not in p for p in seen), seen


def test_next_link_outside_the_base_on_the_same_host_is_refused(
    jwks: dict[str, Any], token: TokenFactory
) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/fhir/Patient/p-1":
            return httpx.Response(200, json={"resourceType": "Patient", "id": "p-1"})
        link = [{"relation": "next", "url": "https://ehr.example.org/v1/assessments"}]
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset", "link": link})

    resp = post(jwks, token, handler, hook_body(None, fhirServer=BASE, fhirAuthorization=AUTH))
    assert resp.status_code == 412
    assert seen and all(p.startswith("/fhir/") for p in seen), seen


def test_one_total_deadline_for_a_trickling_server(jwks: dict[str, Any], token: TokenFactory) -> None:
    async def trickle(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(
            30
        )  # far beyond the deadline; per-read timeouts would never fire on this transport
        return httpx.Response(200, json={"resourceType": "Patient", "id": "p-1"})

    resp = post(
        jwks,
        token,
        trickle,
        hook_body(None, fhirServer=BASE, fhirAuthorization=AUTH),
        fhir_timeout_seconds=0.2,
    )
    assert resp.status_code == 412 and "timed out" in resp.json()["detail"]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://ehr.example.org/fhir", True),
        ("https://ehr.example.org/fhir/", True),
        ("https://ehr.example.org:443/fhir/Patient/1?x=1", True),
        ("https://EHR.example.org/fhir/Observation", True),
        ("http://ehr.example.org/fhir/Patient/1", False),
        ("https://ehr.example.org/fhir/../v1", False),
        ("https://ehr.example.org/fhir/%2E%2E/v1", False),
        ("https://ehr.example.org/fhir/a%2Fb", False),
        ("https://ehr.example.org/fhir\\..\\v1", False),
        ("https://ehr.example.org/fhirx/Patient", False),
        ("https://ehr.example.org.evil.com/fhir/Patient", False),
        ("https://user@evil.com/fhir", False),
        ("https://ehr.example.org:99999/fhir", False),
    ],
)
def test_within_base(url: str, ok: bool) -> None:
    assert within_base(url, BASE) is ok


def test_allowed_fhir_server_names_the_base() -> None:
    assert allowed_fhir_server("https://ehr.example.org/fhir/R4", [BASE]) == BASE
    assert allowed_fhir_server("https://other.example.org/fhir", [BASE]) is None
    assert allowed_fhir_server(BASE, []) is None
