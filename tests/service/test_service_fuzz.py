"""Property-based fuzzing of the OpenAPI document with schemathesis, in process (ASGI).

For every documented operation schemathesis generates requests — schema-valid and, in negative mode, invalid ones
— and checks the answers: never a 5xx, every 4xx an RFC 9457 problem+json, every status code and content type the
one documented. Derandomized and bounded (``max_examples``), so the run is reproducible and short.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from _service_support import AUTH, PROBLEM, make_app
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, status_code_conformance
from schemathesis.config import SchemathesisConfig

app = make_app()
# All phases: explicit examples, coverage (boundary values, missing/extra parts, unexpected methods), fuzzing.
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
# Without a key the answer does not depend on the request: fuzzing alone is enough there.
schema_fuzz_only = schemathesis.openapi.from_asgi(
    "/openapi.json",
    app,
    config=SchemathesisConfig.from_dict(
        {"phases": {"examples": {"enabled": False}, "coverage": {"enabled": False}}}
    ),
)

# This file fuzzes the REST API (/v1, /healthz) and the web page's one route that reads a patient record
# (/ui/reasons); the CDS Hooks and the rest of the web router have their own tests. The report route renders PDFs
# (seconds each): fuzzed with fewer examples, not left out.
_REST = r"^/(v1/|healthz$|ui/reasons$)"
_FAST = schema.include(path_regex=_REST).exclude(path="/v1/reports")


def _content_type(response: Any) -> str:
    value = response.headers.get("content-type", [""])  # schemathesis keeps every header as a list
    return str(value[0] if isinstance(value, list) else value)


def problem_json_on_4xx(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx answer is application/problem+json with the RFC 9457 members and a matching status."""
    if 400 <= response.status_code < 500:
        ctype = _content_type(response)
        assert ctype.startswith(PROBLEM), f"{response.status_code} with content type {ctype!r}"
        body = response.json()
        assert body["status"] == response.status_code
        assert isinstance(body["type"], str) and isinstance(body["title"], str)
    return None


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, problem_json_on_4xx]
_SETTINGS = dict(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@_FAST.parametrize()
@settings(max_examples=40, **_SETTINGS)  # type: ignore[arg-type]
def test_api_fuzz(case: Any) -> None:
    case.call_and_validate(headers=AUTH, checks=CHECKS)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@schema_fuzz_only.include(path="/v1/reports").parametrize()
@settings(max_examples=6, **_SETTINGS)  # type: ignore[arg-type]
def test_report_route_fuzz(case: Any) -> None:
    case.call_and_validate(headers=AUTH, checks=CHECKS)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@schema_fuzz_only.include(path_regex=_REST).parametrize()
@settings(max_examples=10, **_SETTINGS)  # type: ignore[arg-type]
def test_api_fuzz_without_a_key(case: Any) -> None:
    """Without a key every /v1 operation (and the page's record route) answers 401 problem+json, whatever the request; /healthz answers 200.

    (405 for a method the path does not have: routing comes before authentication.)
    """
    response = case.call()
    if case.path.startswith(("/v1/", "/ui/reasons")):
        assert response.status_code in (401, 405), response.text
        assert _content_type(response).startswith(PROBLEM)
    else:
        assert response.status_code in (200, 405)
