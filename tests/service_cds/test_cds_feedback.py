"""The feedback endpoint (CDS Hooks 2.0 "Feedback"): the spec's body is accepted and validated, outcomes are
recorded without patient data or free text; feedback on a card this service did not issue is a 404."""

from __future__ import annotations

from typing import Any

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

FEEDBACK_URL = SERVICE_URL + "/feedback"
SERVICE = "/cds-services/mmemd-patient-view"


@pytest.fixture
def issued(jwks: dict[str, Any], token: TokenFactory) -> tuple[TestClient, Any, str]:
    app, state = make_app(make_config(jwks))
    c = TestClient(app)
    resp = c.post(
        SERVICE,
        json=hook_body(prefetch_for(example("emd-liver-rrmm-pr"))),
        headers=bearer(token(SERVICE_URL)),
    )
    return c, state, resp.json()["cards"][0]["uuid"]


def send(c: TestClient, token: TokenFactory, body: Any) -> Any:
    return c.post(SERVICE + "/feedback", json=body, headers=bearer(token(FEEDBACK_URL)))


def test_overridden_with_reason_is_recorded_without_the_comment(issued: Any, token: TokenFactory) -> None:
    c, state, card = issued
    body = {
        "feedback": [
            {
                "card": card,
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {"code": "not-relevant", "system": "urn:mmemd:cds:override-reason"},
                    "userComment": "patient Wang prefers oral therapy",
                },
                "outcomeTimestamp": "2026-01-05T10:00:00Z",
            },
            {"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-01-05T10:01:00Z"},
        ]
    }
    resp = send(c, token, body)
    assert resp.status_code == 200 and resp.json() == {"recorded": 2}
    first, second = state.feedback.entries
    assert first["override_reason"] == "urn:mmemd:cds:override-reason|not-relevant"
    assert first["has_comment"] is True and second["has_comment"] is False
    assert "Wang" not in str(state.feedback.entries)


def test_unknown_card_is_404(issued: Any, token: TokenFactory) -> None:
    c, state, card = issued
    body = {
        "feedback": [
            {"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-01-05T10:00:00Z"},
            {
                "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
                "outcome": "overridden",
                "outcomeTimestamp": "2026-01-05T10:00:00Z",
            },
        ]
    }
    resp = send(c, token, body)
    assert resp.status_code == 404
    assert resp.json()["errors"][0]["path"] == "$.feedback[1].card"
    assert state.feedback.entries == []  # nothing recorded from a rejected batch


def test_accepted_needs_accepted_suggestions(issued: Any, token: TokenFactory) -> None:
    c, _, card = issued
    resp = send(
        c,
        token,
        {"feedback": [{"card": card, "outcome": "accepted", "outcomeTimestamp": "2026-01-05T10:00:00Z"}]},
    )
    assert resp.status_code == 422


def test_accepted_suggestion_unknown_to_the_card(issued: Any, token: TokenFactory) -> None:
    c, _, card = issued
    item = {
        "card": card,
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
        "outcomeTimestamp": "2026-01-05T10:00:00Z",
    }
    resp = send(c, token, {"feedback": [item]})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["code"] == "unknown_suggestion"


@pytest.mark.parametrize(
    "item",
    [
        {"outcome": "overridden", "outcomeTimestamp": "2026-01-05T10:00:00Z"},
        {"card": "x", "outcome": "ignored", "outcomeTimestamp": "2026-01-05T10:00:00Z"},
        {"card": "x", "outcome": "overridden"},
        {"card": "x", "outcome": "overridden", "outcomeTimestamp": "2026-01-05T10:00:00"},
        {"card": "", "outcome": "overridden", "outcomeTimestamp": "2026-01-05T10:00:00Z"},
        {
            "card": "x",
            "outcome": "overridden",
            "outcomeTimestamp": "2026-01-05T10:00:00Z",
            "overrideReason": {},
        },
    ],
)
def test_invalid_feedback_items_are_422(issued: Any, token: TokenFactory, item: dict[str, Any]) -> None:
    c, state, _ = issued
    resp = send(c, token, {"feedback": [item]})
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert state.feedback.entries == []


def test_empty_feedback_list_is_422(issued: Any, token: TokenFactory) -> None:
    c, _, _ = issued
    assert send(c, token, {"feedback": []}).status_code == 422


def test_feedback_requires_a_jwt_for_its_own_url(issued: Any, token: TokenFactory) -> None:
    c, _, card = issued
    body = {"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-01-05T10:00:00Z"}]}
    assert c.post(SERVICE + "/feedback", json=body).status_code == 401
    wrong = c.post(SERVICE + "/feedback", json=body, headers=bearer(token(SERVICE_URL)))
    assert wrong.status_code == 401 and wrong.json()["reason"] == "wrong_audience"
