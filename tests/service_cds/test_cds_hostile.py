"""Hostile CDS Hooks bodies after a valid JWT: 400/422 problem+json with the path, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cds_support import SERVICE_URL, TokenFactory, bearer, example, hook_body, prefetch_for
from fastapi.testclient import TestClient

SERVICE = "/cds-services/mmemd-patient-view"


def send(client: TestClient, token: TokenFactory, body: bytes) -> Any:
    headers = {**bearer(token(SERVICE_URL)), "content-type": "application/json"}
    return client.post(SERVICE, content=body, headers=headers)


def problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    return resp.json()  # type: ignore[no-any-return]


def test_body_of_100k_nested_arrays(client: TestClient, token: TokenFactory) -> None:
    body = problem(send(client, token, b"[" * 100_000 + b"]" * 100_000), 422)
    assert body["errors"] == [
        {
            "path": "$" + "[0]" * 64,
            "code": "too_deep",
            "message": "arrays and objects nested more than 64 deep",
        }
    ]


def test_observation_extension_nested_200_deep(client: TestClient, token: TokenFactory) -> None:
    prefetch = prefetch_for(example("emd-liver-rrmm-pr"))
    prefetch["observations"]["entry"][0]["resource"]["extension"] = "@DEEP@"
    text = json.dumps(hook_body(prefetch)).replace('"@DEEP@"', "[" * 200 + "]" * 200)
    body = problem(send(client, token, text.encode()), 422)
    assert body["errors"][0]["path"].startswith("$.prefetch.observations.entry[0].resource.extension[0]")


@pytest.mark.parametrize(("literal", "code"), [("9" * 4301, "number_too_long"), ("NaN", "number_not_finite")])
def test_hostile_numbers_in_prefetch(
    client: TestClient, token: TokenFactory, literal: str, code: str
) -> None:
    prefetch = prefetch_for(example("emd-liver-rrmm-pr"))
    i = next(i for i, e in enumerate(prefetch["observations"]["entry"]) if "valueQuantity" in e["resource"])
    prefetch["observations"]["entry"][i]["resource"]["valueQuantity"]["value"] = "@N@"
    text = json.dumps(hook_body(prefetch)).replace('"@N@"', literal)
    body = problem(send(client, token, text.encode()), 422)
    assert body["errors"] == [
        {
            "path": f"$.prefetch.observations.entry[{i}].resource.valueQuantity.value",
            "code": code,
            "message": body["errors"][0]["message"],
        }
    ]


def test_repeated_key_is_refused_as_rest_does(client: TestClient, token: TokenFactory) -> None:
    text = json.dumps(hook_body(None)).replace(
        '"hook": "patient-view"', '"hook": "patient-view", "hook": "order-sign"'
    )
    body = problem(send(client, token, text.encode()), 422)
    assert body["errors"][0]["path"] == "$" and body["errors"][0]["code"] == "duplicate_key"


def test_malformed_body_is_400(client: TestClient, token: TokenFactory) -> None:
    body = problem(send(client, token, b'{"hook": '), 400)
    assert body["type"] == "urn:mmemd:problem:malformed-json" and body["errors"][0]["path"] == "$"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_body_not_declared_as_json_is_415_as_rest_does(
    client: TestClient, token: TokenFactory, content_type: str | None
) -> None:
    headers = bearer(token(SERVICE_URL))
    if content_type is not None:
        headers["content-type"] = content_type
    resp = client.post(SERVICE, content=json.dumps(hook_body(None)).encode(), headers=headers)
    body = problem(resp, 415)
    assert body["type"] == "urn:mmemd:problem:unsupported-media-type"
