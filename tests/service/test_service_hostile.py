"""Hostile JSON bodies on every REST route that reads one: a 400/422 problem with the path, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from _service_support import AUTH, REPO_EXAMPLES, assert_problem
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HUGE_INT = "9" * 4301


def with_literal(doc: dict[str, Any], keys: tuple[str | int, ...], literal: str) -> bytes:
    doc = json.loads(json.dumps(doc))
    target: Any = doc
    for k in keys[:-1]:
        target = target[k]
    target[keys[-1]] = "@HOSTILE@"
    return json.dumps(doc).replace('"@HOSTILE@"', literal).encode()


RECORD_CASES = {
    "huge integer": (("labs", "albumin", "value"), HUGE_INT, "$.labs.albumin.value", 422),
    "deep nesting": (("labs", "albumin"), "[" * 5000 + "]" * 5000, "$.labs.albumin" + "[0]" * 62, 422),
    "huge string": (("id",), json.dumps("x" * 1_000_001), "$", 413),
    "NaN": (("labs", "albumin", "value"), "NaN", "$.labs.albumin.value", 422),
    "repeated key": (("labs", "albumin"), '{"value": 1, "value": 2, "unit": "g/L"}', "$.labs.albumin", 422),
}


@pytest.mark.parametrize("route", ["/v1/assessments", "/v1/reports?format=html"])
@pytest.mark.parametrize("name", sorted(RECORD_CASES))
def test_hostile_record_bodies(client: TestClient, record: dict[str, Any], route: str, name: str) -> None:
    keys, literal, path, status = RECORD_CASES[name]
    r = client.post(
        route,
        content=with_literal(record, keys, literal),
        headers={**AUTH, "content-type": "application/json"},
    )
    body = assert_problem(r, status)
    if status == 422:
        assert path in [e["path"] for e in body["errors"]]


def test_hostile_fhir_bundles(client: TestClient) -> None:
    bundle = json.loads(
        (REPO_EXAMPLES / "fhir" / "emd-liver-rrmm-pr.bundle.json").read_text(encoding="utf-8")
    )
    obs = next(i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == "Observation")
    headers = {**AUTH, "content-type": "application/fhir+json"}
    # An Observation extension nested 200 deep, and a 4,000-digit valueQuantity: both were 500s.
    deep = with_literal(bundle, ("entry", obs, "resource", "extension"), "[" * 200 + "]" * 200)
    body = assert_problem(client.post("/v1/fhir/assessments", content=deep, headers=headers), 422)
    assert body["errors"][0]["path"].startswith(f"$.entry[{obs}].resource.extension[0]")
    assert body["errors"][0]["code"] == "too_deep"
    long_value = with_literal(
        bundle, ("entry", obs, "resource", "valueQuantity"), '{"value": 1.' + "0" * 4000 + "}"
    )
    body = assert_problem(client.post("/v1/fhir/assessments", content=long_value, headers=headers), 422)
    assert body["errors"][0]["path"] == f"$.entry[{obs}].resource.valueQuantity.value"
    not_json = assert_problem(
        client.post("/v1/fhir/assessments", content=b'{"resourceType": ', headers=headers),
        400,
        "urn:mmemd:problem:malformed-json",
    )
    assert not_json["errors"][0]["path"] == "$"


# ---- generated hostile documents: never a 500 ------------------------------------------------------------------------
_LEAVES = (
    st.integers(4_290, 4_400).map(lambda n: "9" * n)
    | st.integers(60, 2_000).map(lambda n: "[" * n + "]" * n)
    | st.sampled_from(["NaN", "-Infinity", "1e99999", "[]", "{}", "null", "true", '"x"', '{"a": 1, "a": 2}'])
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    where=st.sampled_from(
        [
            ("labs", "albumin", "value"),
            ("labs", "albumin"),
            ("assessments",),
            ("id",),
            ("diagnosis",),
            ("extra",),
        ]
    ),
    literal=_LEAVES,
    route=st.sampled_from(["/v1/assessments", "/v1/fhir/assessments"]),
)
def test_generated_hostile_documents_never_get_a_5xx(
    client: TestClient, record: dict[str, Any], where: tuple[str, ...], literal: str, route: str
) -> None:
    if route == "/v1/fhir/assessments":
        doc: dict[str, Any] = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {}}]}
        body = with_literal(doc, ("entry", 0, "resource", where[-1]), literal)
    else:
        body = with_literal(record, where, literal)
    r = client.post(route, content=body, headers={**AUTH, "content-type": "application/json"})
    # some generated documents are valid (null where a value is optional): never a 5xx, a problem whenever refused
    assert r.status_code < 500, (r.status_code, r.text[:300])
    if r.status_code != 200:
        assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/problem+json")
