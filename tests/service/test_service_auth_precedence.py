"""Every credential presented must be valid: a bad Authorization is not ignored because X-API-Key is good."""

from __future__ import annotations

from typing import Any

import pytest
from _service_support import API_KEY, assert_problem
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    "authorization",
    ["Bearer wrong-key", "Basic dXNlcjpwYXNz", "Bearer", "garbage"],
)
def test_bad_authorization_with_a_good_api_key_is_401(
    client: TestClient, record: dict[str, Any], authorization: str
) -> None:
    headers = {"X-API-Key": API_KEY, "Authorization": authorization}
    body = assert_problem(client.post("/v1/assessments", json=record, headers=headers), 401)
    assert API_KEY not in str(body) and "wrong-key" not in str(body)


def test_good_key_in_both_headers_is_accepted(client: TestClient, record: dict[str, Any]) -> None:
    headers = {"X-API-Key": API_KEY, "Authorization": f"Bearer {API_KEY}"}
    assert client.post("/v1/assessments", json=record, headers=headers).status_code == 200


def test_bad_api_key_with_a_good_bearer_is_401(client: TestClient, record: dict[str, Any]) -> None:
    headers = {"X-API-Key": "wrong", "Authorization": f"Bearer {API_KEY}"}
    assert_problem(client.post("/v1/assessments", json=record, headers=headers), 401)
