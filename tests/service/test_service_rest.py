"""REST routes (/v1, /healthz): each route's success and each of its error answers, via TestClient."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from _service_support import AUTH, REPO_EXAMPLES, assert_problem
from fastapi.testclient import TestClient

# --- assessments --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(REPO_EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_assessment_equals_the_library_result(client: TestClient, kb: Any, path: Path) -> None:
    from mmemd.advice import assess_with_advice

    text = path.read_text(encoding="utf-8")
    r = client.post(
        "/v1/assessments", content=text.encode(), headers={**AUTH, "content-type": "application/json"}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    expected, _ = assess_with_advice(json.loads(text), kb)
    assert r.json() == expected.model_dump(mode="json", by_alias=True)


def test_assessment_has_versions_and_decision_support(
    client: TestClient, record: dict[str, Any], kb: Any
) -> None:
    r = client.post("/v1/assessments", json=record, headers=AUTH)
    doc = r.json()
    assert doc["schema"] == "mmemd.assessment/1"
    assert doc["patient_id"] == record["id"]
    assert doc["versions"]["knowledge_base"] == kb.version
    assert set(doc["versions"]) == {"mmemd", "knowledge_base", "response_criteria", "high_risk_definition"}
    assert doc["emd"]["category"] == "extramedullary"
    assert doc["options"], "a relapsed EMD patient has treatment options"
    assert all(opt["claims"] and all(c in kb for c in opt["claims"]) for opt in doc["options"])


def test_charset_parameter_is_accepted(client: TestClient, record: dict[str, Any]) -> None:
    r = client.post(
        "/v1/assessments",
        content=json.dumps(record).encode(),
        headers={**AUTH, "content-type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 200


def test_invalid_record_lists_every_problem_with_its_path(client: TestClient, record: dict[str, Any]) -> None:
    record["age"] = "sixty"
    record["labs"]["albumin"]["unit"] = "mg"
    record["lesions"][0]["colour"] = "red"
    body = assert_problem(
        client.post("/v1/assessments", json=record, headers=AUTH), 422, "urn:mmemd:problem:invalid-record"
    )
    by_path = {e["path"]: e for e in body["errors"]}
    assert set(by_path) == {"$.age", "$.labs.albumin.unit", "$.lesions[0].colour"}
    assert by_path["$.labs.albumin.unit"]["code"] == "unknown_unit"
    assert set(by_path["$.labs.albumin.unit"]["accepted"]) == {"g/dL", "g/L"}
    assert by_path["$.lesions[0].colour"]["code"] == "unknown_field"
    assert "3 problems" in body["detail"]


def test_cross_field_problem_has_its_path(client: TestClient, record: dict[str, Any]) -> None:
    # Assessment dates must ascend (docs/record.md): a cross-field rule, reported like a field error.
    record["assessments"][1]["date"] = record["assessments"][0]["date"]
    body = assert_problem(client.post("/v1/assessments", json=record, headers=AUTH), 422)
    assert any(e["path"].startswith("$.assessments[1]") for e in body["errors"])


def test_repeated_key_is_a_problem_not_last_one_wins(client: TestClient) -> None:
    text = b'{"schema": "mmemd.patient/1", "id": "a", "id": "b"}'
    body = assert_problem(
        client.post("/v1/assessments", content=text, headers={**AUTH, "content-type": "application/json"}),
        422,
    )
    assert any(e["code"] == "duplicate_key" and e["path"] == "$" for e in body["errors"])


@pytest.mark.parametrize("text", [b"{", b"", b"\xff\xfe{}", b'{"a": 1,}'])
def test_malformed_json_is_400(client: TestClient, text: bytes) -> None:
    body = assert_problem(
        client.post("/v1/assessments", content=text, headers={**AUTH, "content-type": "application/json"}),
        400,
        "urn:mmemd:problem:malformed-json",
    )
    assert body["errors"][0]["path"] == "$"


def test_json_that_is_not_an_object_is_422(client: TestClient) -> None:
    body = assert_problem(client.post("/v1/assessments", json=[1, 2], headers=AUTH), 422)
    assert body["errors"][0]["path"] == "$"


@pytest.mark.parametrize(
    "ctype", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
def test_wrong_content_type_is_415(client: TestClient, record: dict[str, Any], ctype: str | None) -> None:
    headers = {**AUTH} if ctype is None else {**AUTH, "content-type": ctype}
    r = client.post("/v1/assessments", content=json.dumps(record).encode(), headers=headers)
    assert_problem(r, 415, "urn:mmemd:problem:unsupported-media-type")
    assert r.headers["accept-post"] == "application/json"


# --- evidence -----------------------------------------------------------------------------------------------------


def test_evidence_search(client: TestClient, kb: Any) -> None:
    r = client.get("/v1/evidence", params={"q": "CAR-T ORR", "limit": 2}, headers=AUTH)
    assert r.status_code == 200
    doc = r.json()
    assert doc["versions"]["knowledge_base"] == kb.version
    assert doc["matched"] == "all"
    assert doc["count"] == 2 == len(doc["results"])
    expected = [h.claim.id for h in kb.search("CAR-T ORR", limit=2).hits]
    assert [x["claim"]["id"] for x in doc["results"]] == expected
    assert all(x["score"] > 0 and "file" not in x["claim"] for x in doc["results"])


def test_evidence_filter_by_any_agent_name(client: TestClient, kb: Any) -> None:
    r = client.get("/v1/evidence", params={"agent": "泊马度胺", "endpoint": "ORR"}, headers=AUTH)
    doc = r.json()
    expected = [c.id for c in kb.claims(agent="pomalidomide", endpoint="ORR")]
    assert expected, "the knowledge base has pomalidomide ORR claims"
    assert [x["claim"]["id"] for x in doc["results"]] == expected
    assert doc["query"] is None and doc["matched"] is None


def test_evidence_search_within_a_filter(client: TestClient, kb: Any) -> None:
    allowed = {c.id for c in kb.claims(emd_only=True)}
    r = client.get("/v1/evidence", params={"q": "CAR-T", "emd_only": "true", "limit": 500}, headers=AUTH)
    ids = [x["claim"]["id"] for x in r.json()["results"]]
    assert ids and set(ids) <= allowed
    unfiltered = client.get("/v1/evidence", params={"q": "CAR-T", "limit": 500}, headers=AUTH).json()
    assert len(unfiltered["results"]) > len(ids), "the filter removed the non-EMD-specific hits"


def test_evidence_limit(client: TestClient) -> None:
    r = client.get("/v1/evidence", params={"limit": 3}, headers=AUTH)
    assert r.json()["count"] == 3


@pytest.mark.parametrize(
    ("param", "value", "known"),
    [
        ("agent", "aspirin", "pomalidomide"),
        ("endpoint", "ORRR", "ORR"),
        ("category", "gossip", "treatment_outcome"),
        ("source", "nature", "emdtx"),
    ],
)
def test_unknown_filter_value_lists_the_known_ones(
    client: TestClient, param: str, value: str, known: str
) -> None:
    body = assert_problem(
        client.get("/v1/evidence", params={param: value}, headers=AUTH), 400, "urn:mmemd:problem:unknown-term"
    )
    assert body["errors"][0]["path"] == f"query.{param}"
    assert known in body["detail"]


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": "many"}, "query.limit"),
        ({"q": "   "}, "query.q"),
        ({"emd_only": "maybe"}, "query.emd_only"),
    ],
)
def test_invalid_evidence_parameters_are_400(client: TestClient, params: dict[str, Any], path: str) -> None:
    body = assert_problem(client.get("/v1/evidence", params=params, headers=AUTH), 400)
    assert [e["path"] for e in body["errors"]] == [path]


def test_one_claim_with_its_quote_in_context(client: TestClient, kb: Any) -> None:
    r = client.get("/v1/evidence/emdtx-7-03", headers=AUTH)
    assert r.status_code == 200
    doc = r.json()
    claim = kb.get("emdtx-7-03")
    assert doc["claim"]["id"] == "emdtx-7-03" and "file" not in doc["claim"]
    assert doc["context"]["quote"] == claim.quote
    assert doc["source"]["alias"] == "emdtx"
    assert doc["versions"]["knowledge_base"] == kb.version


def test_unknown_claim_is_404(client: TestClient) -> None:
    assert_problem(client.get("/v1/evidence/emdtx-99-99", headers=AUTH), 404, "urn:mmemd:problem:not-found")


# --- version, health, routing errors -------------------------------------------------------------------------------


def test_version(client: TestClient, record: dict[str, Any]) -> None:
    doc = client.get("/v1/version", headers=AUTH).json()
    assessed = client.post("/v1/assessments", json=record, headers=AUTH).json()
    assert doc["api"] == "v1"
    assert doc["versions"] == assessed["versions"]


def test_healthz_needs_no_key(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_unknown_route_is_404_problem(client: TestClient) -> None:
    assert_problem(client.get("/v1/nothing-here", headers=AUTH), 404)


def test_wrong_method_is_405_problem_with_allow(client: TestClient) -> None:
    r = client.delete("/v1/assessments", headers=AUTH)
    assert_problem(r, 405)
    assert r.headers["allow"] == "POST"


# --- reports ------------------------------------------------------------------------------------------------------


def _fake_report_module(calls: list[dict[str, Any]]) -> types.ModuleType:
    mod = types.ModuleType("mmemd.report")

    def render_report(record: Any, *, lang: str, fmt: str, kb: Any) -> str | bytes:
        calls.append({"id": record.id, "lang": lang, "fmt": fmt, "kb": kb.version})
        return b"%PDF-1.7 fake" if fmt == "pdf" else f"<!doctype html><html lang={lang}>{record.id}</html>"

    mod.render_report = render_report  # type: ignore[attr-defined]
    return mod


@pytest.mark.parametrize(("lang", "fmt"), [("en", "html"), ("zh", "html"), ("zh", "pdf")])
def test_report_route_passes_lang_and_format(
    client: TestClient, record: dict[str, Any], monkeypatch: pytest.MonkeyPatch, kb: Any, lang: str, fmt: str
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setitem(sys.modules, "mmemd.report", _fake_report_module(calls))
    r = client.post("/v1/reports", params={"lang": lang, "format": fmt}, json=record, headers=AUTH)
    assert r.status_code == 200
    assert calls == [{"id": record["id"], "lang": lang, "fmt": fmt, "kb": kb.version}]
    if fmt == "pdf":
        assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    else:
        assert r.headers["content-type"] == "text/html; charset=utf-8" and f"lang={lang}" in r.text


def test_report_route_is_501_without_the_renderer(
    client: TestClient, record: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mmemd.report", None)  # makes the import fail
    assert_problem(client.post("/v1/reports", json=record, headers=AUTH), 501)


def test_report_rejects_unknown_language_and_format(client: TestClient, record: dict[str, Any]) -> None:
    body = assert_problem(
        client.post("/v1/reports", params={"lang": "fr", "format": "docx"}, json=record, headers=AUTH), 400
    )
    assert {e["path"] for e in body["errors"]} == {"query.lang", "query.format"}


def test_report_invalid_record_is_422(client: TestClient, record: dict[str, Any]) -> None:
    record["sex"] = "unknown-sex"
    assert_problem(client.post("/v1/reports", json=record, headers=AUTH), 422)


def test_report_with_the_real_renderer(client: TestClient, record: dict[str, Any]) -> None:
    pytest.importorskip("mmemd.report", reason="the report renderer (helper R) is not installed")
    r = client.post("/v1/reports", params={"lang": "zh", "format": "html"}, json=record, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html") and "<html" in r.text.lower()
    r = client.post("/v1/reports", params={"format": "pdf"}, json=record, headers=AUTH)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


# --- FHIR ---------------------------------------------------------------------------------------------------------

BUNDLE: dict[str, Any] = {"resourceType": "Bundle", "type": "collection", "entry": []}


def _fake_fhir(record: dict[str, Any] | None, reasons: list[Any]) -> types.ModuleType:
    mod = types.ModuleType("mmemd.fhir")

    def bundle_to_record(bundle: dict[str, Any]) -> Any:
        assert bundle["resourceType"] == "Bundle"
        return types.SimpleNamespace(record=record, reasons=reasons, patient_id="p1")

    mod.bundle_to_record = bundle_to_record  # type: ignore[attr-defined]
    return mod


@pytest.mark.parametrize("ctype", ["application/fhir+json", "application/json"])
def test_fhir_assessment_carries_the_import_reasons(
    client: TestClient, record: dict[str, Any], monkeypatch: pytest.MonkeyPatch, ctype: str
) -> None:
    reasons = ["Observation o7: unknown LOINC code 99999-9"]
    monkeypatch.setitem(sys.modules, "mmemd.fhir", _fake_fhir(record, reasons))
    r = client.post(
        "/v1/fhir/assessments", content=json.dumps(BUNDLE).encode(), headers={**AUTH, "content-type": ctype}
    )
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["schema"] == "mmemd.assessment/1" and doc["patient_id"] == record["id"]
    assert doc["fhir_import_reasons"] == reasons
    assert doc["options"]


def test_fhir_unusable_bundle_is_422_with_reasons(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mmemd.fhir", _fake_fhir(None, ["no Patient resource"]))
    body = assert_problem(
        client.post("/v1/fhir/assessments", json=BUNDLE, headers=AUTH),
        422,
        "urn:mmemd:problem:invalid-fhir-bundle",
    )
    assert body["fhir_import_reasons"] == ["no Patient resource"]


def test_fhir_bundle_giving_an_invalid_record_is_422_with_paths(
    client: TestClient, record: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    record["age"] = -3
    monkeypatch.setitem(sys.modules, "mmemd.fhir", _fake_fhir(record, ["r1"]))
    body = assert_problem(client.post("/v1/fhir/assessments", json=BUNDLE, headers=AUTH), 422)
    assert [e["path"] for e in body["errors"]] == ["$.age"]
    assert body["fhir_import_reasons"] == ["r1"]


def test_fhir_errors_before_import(client: TestClient) -> None:
    assert_problem(
        client.post(
            "/v1/fhir/assessments", content=b"{", headers={**AUTH, "content-type": "application/fhir+json"}
        ),
        400,
    )
    assert_problem(client.post("/v1/fhir/assessments", json={"resourceType": "Patient"}, headers=AUTH), 422)
    assert_problem(
        client.post("/v1/fhir/assessments", content=b"{}", headers={**AUTH, "content-type": "text/plain"}),
        415,
    )


def test_fhir_with_the_real_importer(client: TestClient) -> None:
    pytest.importorskip("mmemd.fhir", reason="the FHIR importer (helper F) is not installed")
    from mmemd.service._openapi import EXAMPLE_BUNDLE

    r = client.post(
        "/v1/fhir/assessments",
        content=json.dumps(EXAMPLE_BUNDLE).encode(),
        headers={**AUTH, "content-type": "application/fhir+json"},
    )
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["patient_id"] == "p1"
    # The example has no labs or lesions: staging stays undetermined rather than guessed.
    assert doc["staging"]["iss"] is None
    assert all({"code", "path"} <= set(reason) for reason in doc["fhir_import_reasons"])


def test_fhir_invalid_bundle_is_422_with_fhir_paths(client: TestClient) -> None:
    pytest.importorskip("mmemd.fhir", reason="the FHIR importer (helper F) is not installed")
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "total": "many",  # a malformed Bundle shell (a malformed resource inside it is only an import reason)
        "entry": [{"resource": {"resourceType": "Observation"}}],
    }
    body = assert_problem(
        client.post("/v1/fhir/assessments", json=bundle, headers=AUTH),
        422,
        "urn:mmemd:problem:invalid-fhir-bundle",
    )
    assert body["errors"] and all(e["path"].startswith("Bundle.total") for e in body["errors"])
