"""Authentication, configuration, body limit, CORS, request ids, the access log (no patient values) and the 500 path."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _service_support import API_KEY, AUTH, assert_problem, make_app
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import ValidationError

from mmemd.service import ServiceConfig, load_config
from mmemd.service._auth import key_matches
from mmemd.service._config import hash_api_key

V1_ROUTES = [
    ("GET", "/v1/version"),
    ("GET", "/v1/evidence"),
    ("GET", "/v1/evidence/emdtx-7-03"),
    ("POST", "/v1/assessments"),
    ("POST", "/v1/reports"),
    ("POST", "/v1/fhir/assessments"),
]

# --- API keys -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), V1_ROUTES)
def test_every_v1_route_needs_a_key(client: TestClient, method: str, path: str) -> None:
    r = client.request(method, path, json={})
    body = assert_problem(r, 401, "urn:mmemd:problem:unauthorized")
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "API key" in body["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": "wrong"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {API_KEY}"},  # right key, wrong scheme
        {"X-API-Key": API_KEY[:-1]},
        {"X-API-Key": API_KEY + " "},
    ],
)
def test_invalid_key_is_401(client: TestClient, headers: dict[str, str]) -> None:
    r = client.get("/v1/version", headers=headers)
    assert_problem(r, 401)
    assert 'error="invalid_token"' in r.headers["www-authenticate"] or "Basic" in headers.get(
        "Authorization", ""
    )


@pytest.mark.parametrize(
    "headers", [AUTH, {"Authorization": f"Bearer {API_KEY}"}, {"authorization": f"bearer {API_KEY}"}]
)
def test_valid_key_in_either_header(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get("/v1/version", headers=headers).status_code == 200


def test_any_of_several_keys() -> None:
    app = make_app(api_key_hashes=[hash_api_key("first"), hash_api_key("second")])
    with TestClient(app) as c:
        assert c.get("/v1/version", headers={"X-API-Key": "second"}).status_code == 200
        assert c.get("/v1/version", headers={"X-API-Key": "third"}).status_code == 401


def test_no_configured_keys_refuses_everything() -> None:
    with TestClient(make_app(api_key_hashes=[])) as c:
        assert c.get("/v1/version", headers={"X-API-Key": ""}).status_code == 401
        assert c.get("/v1/version", headers=AUTH).status_code == 401
        assert c.get("/healthz").status_code == 200


def test_key_matching_compares_digests() -> None:
    digests = [bytes.fromhex(hash_api_key(k)) for k in ("a", "b")]
    assert key_matches("a", digests) and key_matches("b", digests)
    assert not key_matches("c", digests) and not key_matches("a", [])
    # Known SHA-256 test vector (FIPS 180-2 "abc"): the stored form is the plain hex digest.
    assert hash_api_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_local_mode_needs_no_key_on_loopback() -> None:
    with TestClient(make_app(local_mode=True, api_key_hashes=[])) as c:
        r = c.get("/v1/version")
        assert r.status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.org"])
def test_local_mode_refused_off_loopback(host: str) -> None:
    with pytest.raises(ValidationError, match="loopback"):
        ServiceConfig(local_mode=True, host=host)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "localhost"])
def test_local_mode_allowed_on_loopback(host: str) -> None:
    assert not ServiceConfig(local_mode=True, host=host).key_required


def test_auth_cannot_be_switched_off_outside_local_mode() -> None:
    with pytest.raises(ValidationError, match="local_mode"):
        ServiceConfig(auth_required=False)
    assert ServiceConfig().key_required


# --- configuration ------------------------------------------------------------------------------------------------


def test_plain_keys_from_the_environment_are_stored_hashed(tmp_path: Path) -> None:
    cfg_file = tmp_path / "mmemd.toml"
    cfg_file.write_text(f'port = 9000\napi_key_hashes = ["{hash_api_key("from-file")}"]\n', encoding="utf-8")
    cfg = load_config(cfg_file, env={"MMEMD_API_KEYS": "k-one, k-two", "MMEMD_PORT": "9100"})
    assert cfg.port == 9100
    assert cfg.api_key_hashes == [hash_api_key(k) for k in ("from-file", "k-one", "k-two")]
    dumped = cfg.model_dump_json()
    assert "k-one" not in dumped and "k-two" not in dumped


def test_environment_overrides(tmp_path: Path) -> None:
    cfg = load_config(
        None,
        env={
            "MMEMD_LOCAL_MODE": "true",
            "MMEMD_MAX_BODY_BYTES": "4096",
            "MMEMD_CORS_ORIGINS": "https://a.example, https://b.example",
            "MMEMD_API_KEY_HASHES": hash_api_key("x").upper(),
        },
    )
    assert cfg.local_mode and cfg.max_body_bytes == 4096
    assert cfg.cors_origins == ["https://a.example", "https://b.example"]
    assert cfg.api_key_hashes == [hash_api_key("x")]
    with pytest.raises(ValueError, match="MMEMD_LOCAL_MODE"):
        load_config(None, env={"MMEMD_LOCAL_MODE": "perhaps"})


def test_a_plain_key_in_the_hash_list_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValidationError) as info:
        ServiceConfig(api_key_hashes=["my-secret-key"])
    messages = " ".join(e["msg"] for e in info.value.errors(include_input=False))
    assert "SHA-256" in messages and "my-secret-key" not in messages


def test_cors_wildcard_is_refused() -> None:
    with pytest.raises(ValidationError, match="explicit origins"):
        ServiceConfig(cors_origins=["*"])


# --- body size limit ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_app() -> FastAPI:
    return make_app(max_body_bytes=2048)


def test_declared_body_over_the_limit_is_413(small_app: FastAPI) -> None:
    with TestClient(small_app) as c:
        r = c.post(
            "/v1/assessments", content=b" " * 2049, headers={**AUTH, "content-type": "application/json"}
        )
    body = assert_problem(r, 413, "urn:mmemd:problem:body-too-large")
    assert "2048" in body["detail"]
    assert r.headers["connection"] == "close"


def test_chunked_body_over_the_limit_is_413(small_app: FastAPI) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 500

    with TestClient(small_app) as c:
        # A generator body is sent with Transfer-Encoding: chunked, without Content-Length.
        r = c.post("/v1/assessments", content=chunks(), headers={**AUTH, "content-type": "application/json"})
        assert "content-length" not in r.request.headers
        assert_problem(r, 413)
        r = c.post(
            "/v1/fhir/assessments", content=chunks(), headers={**AUTH, "content-type": "application/json"}
        )
        assert_problem(r, 413)


def test_chunked_body_over_the_limit_is_413_where_fastapi_reads_the_body() -> None:
    # FastAPI turns any failure while reading a body it parses into its own 400; the caller must still get 413.
    app = make_app(max_body_bytes=2048)

    @app.post("/v1/echo")
    def echo(item: dict[str, int]) -> dict[str, int]:
        return item

    def chunks() -> Iterator[bytes]:
        yield b'{"a": 1' + b" " * 3000 + b"}"

    @app.post("/v1/swallow")
    async def swallow(request: Request) -> dict[str, bool]:
        try:
            await request.body()
        except Exception:
            return {"read": False}
        return {"read": True}

    with TestClient(app) as c:
        assert c.post("/v1/echo", json={"a": 1}).json() == {"a": 1}
        r = c.post("/v1/echo", content=chunks(), headers={"content-type": "application/json"})
        assert_problem(r, 413)
        # A handler that catches the cut-off and answers 200 anyway: held back, the caller gets the 413.
        assert c.post("/v1/swallow", content=b"{}").json() == {"read": True}
        assert_problem(c.post("/v1/swallow", content=chunks()), 413)


def test_body_at_the_limit_is_read(small_app: FastAPI) -> None:
    body = b"{" + b" " * 2046 + b"}"
    assert len(body) == 2048
    with TestClient(small_app) as c:
        r = c.post("/v1/assessments", content=body, headers={**AUTH, "content-type": "application/json"})
    assert_problem(r, 422)  # read and validated: {} lacks every required field


# --- CORS ---------------------------------------------------------------------------------------------------------


def _preflight(c: TestClient, origin: str) -> Any:
    return c.options(
        "/v1/assessments",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-api-key",
        },
    )


def test_cors_closed_by_default(client: TestClient) -> None:
    r = _preflight(client, "https://ehr.example")
    assert "access-control-allow-origin" not in r.headers
    r = client.get("/healthz", headers={"Origin": "https://ehr.example"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_open_only_to_configured_origins() -> None:
    with TestClient(make_app(cors_origins=["https://ehr.example"])) as c:
        r = _preflight(c, "https://ehr.example")
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://ehr.example"
        r = _preflight(c, "https://evil.example")
        assert r.headers.get("access-control-allow-origin") != "https://evil.example"
        r = c.get("/v1/version", headers={**AUTH, "Origin": "https://ehr.example"})
        assert r.headers["access-control-allow-origin"] == "https://ehr.example"
        assert "x-request-id" in r.headers["access-control-expose-headers"].lower()


# --- request ids, headers -----------------------------------------------------------------------------------------


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": "ehr-7f3a.12"})
    assert r.headers["x-request-id"] == "ehr-7f3a.12"
    for bad in ("has space", "x" * 65, "semi;colon"):
        r = client.get("/healthz", headers={"X-Request-ID": bad})
        assert r.headers["x-request-id"] != bad and len(r.headers["x-request-id"]) == 32


def test_responses_are_not_cached_or_sniffed(client: TestClient, record: dict[str, Any]) -> None:
    r = client.post("/v1/assessments", json=record, headers=AUTH)
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"


# --- logs carry no patient values ---------------------------------------------------------------------------------

MARKER = "ZQX-PHI-7731"


def _all_log_text(caplog: pytest.LogCaptureFixture) -> str:
    # httpx here is the test's own client (it logs the URLs it requests); `mmemd serve` turns httpx's INFO off.
    return "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith("httpx")
    )


def test_access_log_fields_and_no_patient_values(
    client: TestClient, record: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    record["id"] = MARKER
    bad = {**record, "sex": MARKER, "labs": {"albumin": {"value": 3.5, "unit": MARKER}}}
    with caplog.at_level(logging.DEBUG):
        ok = client.post("/v1/assessments", json=record, headers=AUTH)
        assert ok.status_code == 200 and ok.json()["patient_id"] == MARKER
        assert client.post("/v1/assessments", json=bad, headers=AUTH).status_code == 422
        assert client.get("/v1/evidence", params={"q": MARKER}, headers=AUTH).status_code == 200
        assert client.get(f"/v1/evidence/{MARKER}", headers=AUTH).status_code == 404
        assert client.post("/v1/assessments", json=record, headers={"X-API-Key": MARKER}).status_code == 401
    text = _all_log_text(caplog)
    assert MARKER not in text
    assert API_KEY not in text
    access = [json.loads(r.getMessage()) for r in caplog.records if r.name == "mmemd.access"]
    assert [a["status"] for a in access] == [200, 422, 200, 404, 401]
    assert access[0]["request_id"] == ok.headers["x-request-id"]
    assert access[0]["route"] == "/v1/assessments" and access[0]["method"] == "POST"
    assert access[3]["route"] == "/v1/evidence/{claim_id}"  # the template, not the concrete path
    assert all(isinstance(a["duration_ms"], float) and a["duration_ms"] >= 0 for a in access)
    assert set(access[0]) == {
        "event",
        "request_id",
        "method",
        "route",
        "status",
        "duration_ms",
        "response_bytes",
        "auth",
    }


def test_unhandled_exception_is_500_problem_and_the_process_goes_on(
    caplog: pytest.LogCaptureFixture, record: dict[str, Any]
) -> None:
    app = make_app()

    @app.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError(f"internal detail with a patient value {MARKER}")

    with TestClient(app) as c, caplog.at_level(logging.DEBUG):
        r = c.get("/v1/boom", headers=AUTH)
        body = assert_problem(r, 500, "urn:mmemd:problem:internal-error")
        assert MARKER not in r.text and "RuntimeError" not in r.text and "Traceback" not in r.text
        assert c.post("/v1/assessments", json=record, headers=AUTH).status_code == 200
    errors = [json.loads(rec.getMessage()) for rec in caplog.records if rec.name == "mmemd.error"]
    assert len(errors) == 1
    assert errors[0]["exception"] == "RuntimeError"
    assert errors[0]["request_id"] == r.headers["x-request-id"] == body["instance"].rsplit(":", 1)[1]
    assert any("in boom" in f for f in errors[0]["frames"])
    assert MARKER not in _all_log_text(caplog)
