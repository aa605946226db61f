"""The web page in Chinese shows no English engine text: the high-risk features and the decision lines come from
``POST /ui/reasons?lang=zh``, which renders them as the report's Chinese does (each engine reason line in Chinese, with its numbers, dates,
thresholds and criterion cites) (tests/_zh_prose.py says what Latin
text is allowed and why). In English the same route gives the engine's own texts, unchanged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from _reason_facts import cites, facts, needs
from _zh_prose import english_prose, record_identifiers
from mmemd.clinical.assessment import assess
from mmemd.clinical.record import parse_record
from mmemd.knowledge import load

REPO = Path(__file__).resolve().parents[2]
NAMES = sorted(p.stem for p in (REPO / "examples").glob("*.json"))


def _record(name: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((REPO / "examples" / f"{name}.json").read_text(encoding="utf-8"))
    return record


@pytest.fixture(scope="module")
def kb() -> Any:
    return load()


@pytest.mark.parametrize("name", NAMES)
def test_web_chinese_reasons_have_no_english_prose(web_client: Any, kb: Any, name: str) -> None:
    record = _record(name)
    r = web_client.post("/ui/reasons?lang=zh", json=record)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["lang"] == "zh" and body["reasons"]
    a = assess(parse_record(record))
    assert len(body["high_risk_features"]) == len(a.staging.high_risk_features)
    text = "\n".join([*body["high_risk_features"], *body["reasons"]])
    words = english_prose(text, kb, record_identifiers(record))
    assert words == [], f"{name}: English words on the Chinese page: {sorted(set(words))}"


@pytest.mark.parametrize("name", NAMES)
def test_web_chinese_reasons_say_what_the_english_say(web_client: Any, name: str) -> None:
    """Line for line, the Chinese decision lines carry the English lines' numbers, dates, thresholds and cites."""
    record = _record(name)
    en = web_client.post("/ui/reasons?lang=en", json=record).json()["reasons"]
    zh = web_client.post("/ui/reasons?lang=zh", json=record).json()["reasons"]
    assert len(en) == len(zh)
    for e, z in zip(en, zh, strict=True):
        assert (facts(z), cites(z), needs(z)) == (facts(e), cites(e), needs(e)), (e, z)


@pytest.mark.parametrize("name", NAMES[:3])
def test_web_english_reasons_are_the_engines(web_client: Any, name: str) -> None:
    record = _record(name)
    body = web_client.post("/ui/reasons?lang=en", json=record).json()
    a = assess(parse_record(record))
    assert body["high_risk_features"] == list(a.staging.high_risk_features)
    assert body["reasons"] == [*a.emd.reasons, *a.staging.reasons, *a.response.reasons]


def test_web_reasons_invalid_record_is_422_problem(web_client: Any) -> None:
    record = _record(NAMES[0])
    record["labs"] = "not an object"
    r = web_client.post("/ui/reasons?lang=zh", json=record)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert any(e["path"].startswith("$.labs") for e in r.json()["errors"])


def test_web_reasons_need_the_key_when_auth_is_on() -> None:
    """A patient record goes only where /v1 would take it: with authentication on, the route needs the key."""
    from fastapi.testclient import TestClient

    from mmemd.service import ServiceConfig, create_app

    key = "web-zh-test-key"
    config = ServiceConfig(api_key_hashes=[hashlib.sha256(key.encode()).hexdigest()])
    record = _record(NAMES[0])
    with TestClient(create_app(config)) as client:
        assert client.post("/ui/reasons?lang=zh", json=record).status_code == 401
        ok = client.post("/ui/reasons?lang=zh", json=record, headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200
