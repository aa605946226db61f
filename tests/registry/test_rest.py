"""The /v1/patients routes on SQLite and PostgreSQL: ETag/If-Match, refusal with paths, roles, audit."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from _registry_support import example
from fastapi.testclient import TestClient

from mmemd.registry import Registry, audit_entries, create_api_key
from mmemd.service import ServiceConfig, create_app
from mmemd.service._config import hash_api_key

KEY = "clinic-key-8b1f"
AUTH = {"X-API-Key": KEY}
PROBLEM = "application/problem+json"
VISIT = {
    "date": "2025-10-01",
    "serum_m_protein": {"value": 0.4, "unit": "g/dL"},
    "serum_ife": "positive",
    "plasmacytomas": [{"lesion": "L1", "longest_cm": 1.0, "perpendicular_cm": 1.0}],
    "new_lesion": False,
}


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    app = create_app(ServiceConfig(api_key_hashes=[hash_api_key(KEY)], database_url=database_url))
    with TestClient(app) as c:
        yield c
    reg = getattr(app.state, "registry", None)
    if reg is not None:
        reg.close()


def _registry(c: TestClient) -> Registry:
    reg = c.app.state.registry  # type: ignore[attr-defined]
    assert isinstance(reg, Registry)
    return reg


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    return body


def _create(c: TestClient, name: str = "emd-liver-rrmm-pr") -> Any:
    r = c.post("/v1/patients", json=example(name), headers=AUTH)
    assert r.status_code == 201, r.text
    return r


def test_create_read_assess(client: TestClient) -> None:
    from mmemd.advice import assess_with_advice

    r = _create(client)
    pid = r.json()["id"]
    assert r.headers["location"] == f"/v1/patients/{pid}"
    assert r.headers["etag"] == f'"{pid}.1"'
    g = client.get(f"/v1/patients/{pid}", headers=AUTH)
    assert g.status_code == 200 and g.headers["etag"] == r.headers["etag"]
    assert g.json()["schema"] == "mmemd.patient/1" and g.json() == r.json()
    a = client.get(f"/v1/patients/{pid}/assessment", headers=AUTH)
    assert a.status_code == 200
    expected, _ = assess_with_advice(g.json())
    assert a.json()["response"] == json.loads(expected.model_dump_json(by_alias=True))["response"]


def test_the_assessment_is_recomputed_after_a_visit(client: TestClient) -> None:
    pid = _create(client).json()["id"]
    before = client.get(f"/v1/patients/{pid}/assessment", headers=AUTH).json()
    r = client.post(f"/v1/patients/{pid}/visits", json={"visit": VISIT, "reason": "follow-up"}, headers=AUTH)
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == f'"{pid}.2"'
    after = client.get(f"/v1/patients/{pid}/assessment", headers=AUTH)
    assert after.headers["etag"] == f'"{pid}.2"'
    assert after.json()["response"] != before["response"]
    assert "2025-10-01" in json.dumps(after.json()["response"])


def test_patch_needs_if_match_and_a_stale_etag_gets_412(client: TestClient) -> None:
    pid = _create(client).json()["id"]
    url = f"/v1/patients/{pid}"
    mp = {**AUTH, "Content-Type": "application/merge-patch+json"}
    _problem(client.patch(url, content=json.dumps({"ecog": 2}), headers=mp), 428)
    etag1 = client.get(url, headers=AUTH).headers["etag"]
    # two clinicians read version 1; the first one's change wins, the second one's is refused, not lost silently
    a = client.patch(url, content=json.dumps({"ecog": 2}), headers={**mp, "If-Match": etag1})
    assert a.status_code == 200 and a.json()["ecog"] == 2
    b = client.patch(url, content=json.dumps({"age": 59}), headers={**mp, "If-Match": etag1})
    body = _problem(b, 412)
    assert body["type"] == "urn:mmemd:problem:precondition-failed"
    assert b.headers["etag"] == a.headers["etag"]
    # the second clinician re-reads and re-applies: both changes are kept
    c2 = client.patch(url, content=json.dumps({"age": 59}), headers={**mp, "If-Match": a.headers["etag"]})
    assert c2.status_code == 200 and (c2.json()["ecog"], c2.json()["age"]) == (2, 59)
    # a stale If-Match on a visit is refused too
    v = client.post(f"{url}/visits", json=VISIT, headers={**AUTH, "If-Match": etag1})
    _problem(v, 412)
    # one audit entry per attempt; a successful write's entry was committed with the change itself
    writes = [(e["action"], e["outcome"]) for e in audit_entries(_registry(client)) if e["action"] != "read"]
    assert writes == [
        ("create", "ok"),
        ("update", "ok"),
        ("update", "conflict"),
        ("update", "ok"),
        ("add_visit", "conflict"),
    ]


def test_an_invalid_visit_is_refused_with_paths_and_nothing_is_stored(client: TestClient) -> None:
    pid = _create(client).json()["id"]
    bad = {
        "visit": {**VISIT, "serum_m_protein": {"value": -1, "unit": "g/dL"}},
        "lesions": [{"id": "L2", "relation_to_bone": "floating"}],
    }
    r = client.post(f"/v1/patients/{pid}/visits", json=bad, headers=AUTH)
    body = _problem(r, 422)
    paths = {e["path"] for e in body["errors"]}
    assert "$.visit.serum_m_protein.value" in paths
    assert "$.lesions[0].relation_to_bone" in paths
    hist = client.get(f"/v1/patients/{pid}/history", headers=AUTH).json()
    assert [h["version"] for h in hist] == [1]
    # an unknown envelope field and a bad event are refused with their paths
    r2 = client.post(
        f"/v1/patients/{pid}/visits",
        json={"visit": VISIT, "events": [{"event": "relapse", "date": "2025-10-01"}], "extra": 1},
        headers=AUTH,
    )
    paths2 = {e["path"] for e in _problem(r2, 422)["errors"]}
    assert {"$.events[0].event", "$.extra"} <= paths2


def test_malformed_and_invalid_records(client: TestClient) -> None:
    r = client.post(
        "/v1/patients", content=b"{not json", headers={**AUTH, "Content-Type": "application/json"}
    )
    _problem(r, 400)
    bad = {**example("emd-liver-rrmm-pr"), "phase": "cured"}
    assert {
        e["path"] for e in _problem(client.post("/v1/patients", json=bad, headers=AUTH), 422)["errors"]
    } == {"$.phase"}
    env = {"record": bad, "identity": {"mrn": "X1"}}
    errs = _problem(client.post("/v1/patients", json=env, headers=AUTH), 422)["errors"]
    assert [e["path"] for e in errs] == ["$.record.phase"]
    assert client.get("/v1/patients", headers=AUTH).json()["items"] == []


def test_roles_and_keys(client: TestClient) -> None:
    _problem(client.get("/v1/patients"), 401)
    _problem(client.get("/v1/patients", headers={"X-API-Key": "wrong"}), 401)
    reg = _registry(client)
    researcher = create_api_key(reg, "stats-team", "researcher")
    admin = create_api_key(reg, "ops", "admin")
    clinician = create_api_key(reg, "ward-app", "clinician")
    for key in (researcher, admin):
        _problem(client.get("/v1/patients", headers={"Authorization": f"Bearer {key}"}), 403)
    assert client.get("/v1/patients", headers={"Authorization": f"Bearer {clinician}"}).status_code == 200


def test_every_access_is_audited_without_clinical_values(client: TestClient) -> None:
    pid = _create(client).json()["id"]
    client.get(f"/v1/patients/{pid}", headers=AUTH)
    client.post(f"/v1/patients/{pid}/visits", json=VISIT, headers=AUTH)
    client.post(f"/v1/patients/{pid}/visits", json={"date": "bad"}, headers=AUTH)
    client.get(f"/v1/patients/{pid}/assessment", headers=AUTH)
    client.get("/v1/patients/MM-NOSUCH0000", headers=AUTH)
    entries = audit_entries(_registry(client))
    got = [(e["action"], e["patient_id"], e["outcome"]) for e in entries]
    assert got == [
        ("create", pid, "ok"),
        ("read", pid, "ok"),
        ("add_visit", pid, "ok"),
        ("add_visit", pid, "refused"),
        ("assessment", pid, "ok"),
        ("read", "MM-NOSUCH0000", "not_found"),
    ]
    assert all(e["user"] == f"key:{hash_api_key(KEY)[:8]}" and e["role"] == "clinician" for e in entries)
    assert all(e["request_id"] for e in entries)
    assert set(entries[0]) == {"at", "user", "role", "action", "patient_id", "request_id", "outcome"}


def test_history_report_list_and_delete(client: TestClient) -> None:
    r = _create(client)
    pid = r.json()["id"]
    client.post(f"/v1/patients/{pid}/visits", json=VISIT, headers={**AUTH, "X-Change-Reason": "clinic"})
    hist = client.get(f"/v1/patients/{pid}/history", headers=AUTH).json()
    assert [(h["version"], h["action"], h["reason"]) for h in hist] == [
        (1, "create", None),
        (2, "add_visit", "clinic"),
    ]
    old = client.get(f"/v1/patients/{pid}?version=1", headers=AUTH)
    assert old.json() == r.json()
    rep = client.get(f"/v1/patients/{pid}/report?lang=zh", headers=AUTH)
    assert rep.status_code == 200 and rep.headers["content-type"].startswith("text/html")
    listed = client.get(f"/v1/patients?q={pid[3:8]}", headers=AUTH).json()
    assert [p["id"] for p in listed["items"]] == [pid]
    _problem(client.delete(f"/v1/patients/{pid}", headers=AUTH), 428)
    d = client.delete(f"/v1/patients/{pid}", headers={**AUTH, "If-Match": f'"{pid}.2"'})
    assert d.status_code == 204
    _problem(client.get(f"/v1/patients/{pid}", headers=AUTH), 404)
    assert client.get(f"/v1/patients/{pid}?version=2", headers=AUTH).status_code == 200


def test_import_jsonl_is_all_or_nothing(client: TestClient) -> None:
    good = [example("emd-liver-rrmm-pr"), example("ndmm-mrd-negative-cr")]
    bad = {**example("ndmm-mrd-negative-cr"), "age": -3}
    jsonl = "\n".join(json.dumps(x) for x in [*good, bad])
    h = {**AUTH, "Content-Type": "application/x-ndjson"}
    errs = _problem(client.post("/v1/patients/import", content=jsonl, headers=h), 422)["errors"]
    assert [e["path"] for e in errs] == ["$[3].age"]
    assert client.get("/v1/patients", headers=AUTH).json()["items"] == []
    ok = client.post("/v1/patients/import", content="\n".join(json.dumps(x) for x in good), headers=h)
    assert ok.status_code == 201, ok.text
    assert len(ok.json()["created"]) == 2
    assert len(client.get("/v1/patients", headers=AUTH).json()["items"]) == 2


def test_import_fhir_bundle(client: TestClient) -> None:
    from pathlib import Path

    bundles = sorted((Path(__file__).resolve().parents[2] / "src/mmemd/examples/fhir").glob("*.json"))
    assert bundles
    r = client.post(
        "/v1/patients/import",
        content=bundles[0].read_bytes(),
        headers={**AUTH, "Content-Type": "application/fhir+json"},
    )
    assert r.status_code == 201, r.text
    pid = r.json()["created"][0]["id"]
    assert client.get(f"/v1/patients/{pid}/assessment", headers=AUTH).status_code == 200


def test_web_session_sign_in_and_out(client: TestClient) -> None:
    from mmemd.registry import add_user

    client.get("/v1/patients", headers=AUTH)  # opens the registry
    reg = _registry(client)
    add_user(reg, "wang", "clinician", "a long passphrase")
    add_user(reg, "li", "researcher", "another passphrase")
    _problem(client.post("/registry/session", json={"username": "wang", "password": "wrong"}), 401)
    _problem(client.post("/registry/session", json={"username": "nobody", "password": "x"}), 401)
    r = client.post("/registry/session", json={"username": "wang", "password": "a long passphrase"})
    assert r.status_code == 200 and r.json() == {"user": "wang", "role": "clinician"}
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    # the cookie alone authenticates, as the signed-in user
    created = client.post("/v1/patients", json=example("pcl-primary-pleural"))
    assert created.status_code == 201
    assert audit_entries(reg, user="wang")[-1]["action"] == "create"
    assert client.delete("/registry/session").status_code == 204
    client.cookies.clear()
    _problem(client.get("/v1/patients"), 401)
    # a researcher signs in but cannot reach patient data
    client.post("/registry/session", json={"username": "li", "password": "another passphrase"})
    _problem(client.get("/v1/patients"), 403)
    client.cookies.clear()


def test_the_service_creates_its_default_database_only_when_the_registry_is_used(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MMEMD_DATA_DIR", str(tmp_path / "data"))
    app = create_app(ServiceConfig(local_mode=True))
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200
        assert not (tmp_path / "data" / "registry.sqlite3").exists()
        assert c.get("/v1/patients").status_code == 200
    assert (tmp_path / "data" / "registry.sqlite3").is_file()
    with sqlite3.connect(tmp_path / "data" / "registry.sqlite3") as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    app.state.registry.close()


def test_the_add_visit_form_reads_an_imaging_report_for_clinicians_only(client: TestClient) -> None:
    pid = _create(client).json()["id"]
    path = f"/v1/patients/{pid}/imaging-extractions"
    text = "检查日期：2025-11-03\n检查所见：左肾上腺见结节，大小约1.6cm×1.3cm，前片未见。"
    _problem(client.post(path, json={"text": text}), 401)
    researcher = create_api_key(_registry(client), "stats-team", "researcher")
    _problem(client.post(path, json={"text": text}, headers={"X-API-Key": researcher}), 403)
    r = client.post(path, json={"text": text}, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["study_date"] == "2025-11-03"
    assert [(les["site"], les["size_cm"], les["change"]) for les in body["lesions"]] == [
        ("adrenal", [1.6, 1.3], "new")
    ]
    _problem(client.post(path, json={"text": 3}, headers=AUTH), 422)
    assert _registry(client).get(pid).version == 1  # nothing stored
