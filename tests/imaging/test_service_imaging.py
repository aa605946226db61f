"""``POST /v1/imaging/extractions``: text or JSON in, mmemd.imaging/1 out; problems for bad input; key required."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from mmemd.service import ServiceConfig, create_app
from mmemd.service._config import hash_api_key

KEY = "imaging-test-key-7e2a"
AUTH = {"X-API-Key": KEY}
URL = "/v1/imaging/extractions"
PROBLEM = "application/problem+json"
ZH = "检查日期：2024-07-03\n检查所见：左肾上腺见结节，大小约1.6cm×1.3cm，前片未见。\n诊断意见：左肾上腺新发结节，考虑浆细胞瘤。"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(ServiceConfig(api_key_hashes=[hash_api_key(KEY)]))) as c:
        yield c


def _problem(r, status: int, type_: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    if type_:
        assert body["type"] == type_
    return body  # type: ignore[no-any-return]


def test_json_body(client: TestClient) -> None:
    r = client.post(URL, json={"text": ZH, "lang": "zh"}, headers=AUTH)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["schema"] == "mmemd.imaging/1" and doc["study_date"] == "2024-07-03"
    les = doc["lesions"][0]
    assert (les["site"], les["side"], les["size_cm"], les["change"]) == ("adrenal", "left", [1.6, 1.3], "new")
    assert all(ZH[e["start"] : e["end"]] == e["quote"] for e in les["evidence"])
    assert doc["record_patch"]["requires_confirmation"] is True


def test_plain_text_body_with_charset(client: TestClient) -> None:
    r = client.post(
        URL, content=ZH.encode("gb18030"), headers={**AUTH, "Content-Type": "text/plain; charset=gb18030"}
    )
    assert r.status_code == 200, r.text
    assert [x["site"] for x in r.json()["lesions"]] == ["adrenal"]


def test_no_finding_is_not_an_error(client: TestClient) -> None:
    r = client.post(URL, content=b"FINDINGS: Normal.", headers={**AUTH, "Content-Type": "text/plain"})
    assert r.status_code == 200 and r.json()["lesions"] == []


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "$.text"),
        ({"text": 3}, "$.text"),
        ({"text": "x", "lang": "fr"}, "$.lang"),
        ({"text": "x", "y": 1}, "$.y"),
        ([], "$"),
    ],
)
def test_invalid_json_body_is_422_with_the_path(client: TestClient, body: object, path: str) -> None:
    body_doc = _problem(
        client.post(URL, json=body, headers=AUTH), 422, "urn:mmemd:problem:invalid-imaging-request"
    )
    assert body_doc["errors"][0]["path"] == path


def test_malformed_json_unsupported_media_and_undecodable_text(client: TestClient) -> None:
    _problem(client.post(URL, content=b"{", headers={**AUTH, "Content-Type": "application/json"}), 400)
    _problem(client.post(URL, content=b"x", headers={**AUTH, "Content-Type": "application/pdf"}), 415)
    r = client.post(
        URL, content=b"\xff\xfe\xfa", headers={**AUTH, "Content-Type": "text/plain; charset=utf-8"}
    )
    assert _problem(r, 422)["errors"][0]["code"] == "not_text"


def test_text_longer_than_any_report_is_422(client: TestClient) -> None:
    r = client.post(URL, json={"text": "x" * 100_001}, headers=AUTH)
    assert _problem(r, 422)["errors"][0] == {
        "path": "$.text",
        "message": "the text has 100,001 characters; one imaging report is read up to 100,000",
        "code": "too_long",
    }


def test_api_key_is_required(client: TestClient) -> None:
    _problem(client.post(URL, json={"text": ZH}), 401)


def test_documented_in_openapi(client: TestClient) -> None:
    op = client.get("/openapi.json").json()["paths"][URL]["post"]
    assert set(op["requestBody"]["content"]) == {"application/json", "text/plain"}
    assert {"200", "401", "415", "422"} <= set(op["responses"])
