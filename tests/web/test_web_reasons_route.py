"""``POST /ui/reasons`` as an entry point: it records the versions that produced its lines, and a hostile record is
a 4xx problem with the path, never a 5xx (it is read by the same function as a record under /v1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mmemd.clinical.assessment import current_versions

REPO = Path(__file__).resolve().parents[2]
RECORD: dict[str, Any] = json.loads(
    (REPO / "examples" / "emd-liver-rrmm-pr.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_reasons_record_their_versions(web_client: Any, lang: str) -> None:
    body = web_client.post(f"/ui/reasons?lang={lang}", json=RECORD).json()
    assert body["versions"] == current_versions().model_dump(mode="json")
    assert body["versions"]["mmemd"] and body["versions"]["knowledge_base"]


def _deep(n: int) -> str:
    return '{"a":' * n + "1" + "}" * n


@pytest.mark.parametrize(
    ("body", "status", "path"),  # path: where the problem is, or its code when it is the whole document
    [
        (json.dumps({**RECORD, "age": 10**400}), 422, "$.age"),
        (json.dumps({**RECORD, "labs": {"ldh": _deep(3)}}), 422, "$.labs.ldh"),
        (json.dumps({**RECORD, "ecog": "1"}), 422, "$.ecog"),
        (_deep(10_000), 422, "too_deep"),
        ('{"schema": "mmemd.patient/1", "id": "x", "id": "y"}', 422, "duplicate_key"),
    ],
    ids=["huge-number", "wrong-type", "string-for-number", "deep-nesting", "repeated-key"],
)
def test_hostile_records_are_4xx_problems(web_client: Any, body: str, status: int, path: str) -> None:
    r = web_client.post("/ui/reasons?lang=zh", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert path in r.text  # the path (or the code) of the problem
