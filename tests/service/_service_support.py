"""Constants and helpers shared by the service tests (a uniquely named module: conftest is not importable)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from mmemd.service import ServiceConfig, create_app
from mmemd.service._config import hash_api_key

API_KEY = "test-key-4c1d0e"
AUTH = {"X-API-Key": API_KEY}
REPO_EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROBLEM = "application/problem+json"


def make_app(**config: Any) -> FastAPI:
    """An app with the test key accepted (unless ``api_key_hashes`` is given)."""
    config.setdefault("api_key_hashes", [hash_api_key(API_KEY)])
    # in-process rendering, so tests can substitute the renderer (test_report_pool.py covers process isolation)
    config.setdefault("report_isolation", "thread")
    config.setdefault("import_isolation", "thread")
    return create_app(ServiceConfig(**config))


def assert_problem(r: Any, status: int, type_: str | None = None) -> dict[str, Any]:
    """``r`` is an RFC 9457 problem with this status (and type), whose instance is the request id."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status
    assert body["title"]
    assert body["instance"] == f"urn:mmemd:request:{r.headers['x-request-id']}"
    if type_ is not None:
        assert body["type"] == type_
    return body  # type: ignore[no-any-return]
