"""RFC 9457 problem details (``application/problem+json``) for every error the service returns.

A problem carries ``type``, ``title``, ``status``, ``detail``, ``instance`` (the request id, so a caller can quote it
to an operator who then finds the matching access-log line — the log carries no patient values, RFC 9457 §3.1.5) and,
for invalid input, ``errors``: one entry per bad field with its JSON path (``$.labs.albumin.unit``) — the same
paths ``mmemd validate`` prints (:meth:`mmemd.clinical.RecordError.report`).

Raise :class:`ApiProblem` from a route (or a dependency) and :func:`install_problem_handlers` turns it, FastAPI's own
request-validation errors and Starlette's HTTP errors (404, 405) into problem+json.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"

#: Problem ``type`` URIs (RFC 9457 §3.1.1: an absolute URI; a URN because these identify, they are not fetched —
#: docs/service.md lists them). HTTP errors without more to say use ``about:blank`` (§4.2.1).
INVALID_RECORD: Final = "urn:mmemd:problem:invalid-record"
INVALID_BUNDLE: Final = "urn:mmemd:problem:invalid-fhir-bundle"
MALFORMED_JSON: Final = "urn:mmemd:problem:malformed-json"
INVALID_PARAMETER: Final = "urn:mmemd:problem:invalid-parameter"
UNKNOWN_TERM: Final = "urn:mmemd:problem:unknown-term"
UNAUTHORIZED: Final = "urn:mmemd:problem:unauthorized"
BODY_TOO_LARGE: Final = "urn:mmemd:problem:body-too-large"
UNSUPPORTED_MEDIA_TYPE: Final = "urn:mmemd:problem:unsupported-media-type"
NOT_FOUND: Final = "urn:mmemd:problem:not-found"
NOT_IMPLEMENTED: Final = "urn:mmemd:problem:not-implemented"
INTERNAL_ERROR: Final = "urn:mmemd:problem:internal-error"
#: a route's concurrency limit is reached (docs/deploy.md, "Per-route limits"): retry after Retry-After seconds
BUSY: Final = "urn:mmemd:problem:busy"


class ProblemError(BaseModel):
    """One bad field: where it is and what is wrong."""

    model_config = ConfigDict(extra="allow")

    path: str = Field(
        description="JSON path into the request body (`$.labs.albumin.unit`), or `query.<name>` / `path.<name>` "
        "/ `header.<name>` for a request parameter.",
        examples=["$.labs.albumin.unit"],
    )
    message: str = Field(examples=["unknown unit 'mg'; accepted units: g/L, g/dL"])
    code: str | None = Field(
        default=None, description="Machine-readable problem code.", examples=["unknown_unit"]
    )
    accepted: list[str] | None = Field(
        default=None, description="The accepted values, where there is a list."
    )


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": INVALID_RECORD,
                    "title": "Invalid patient record",
                    "status": 422,
                    "detail": "the mmemd.patient/1 document has 1 problem",
                    "instance": "urn:mmemd:request:4f1c2b7e9d0a4e3f8b6a5c4d3e2f1a0b",
                    "errors": [
                        {
                            "path": "$.labs.albumin.unit",
                            "message": "unknown unit 'mg' for albumin; accepted units: g/L, g/dL",
                            "code": "unknown_unit",
                            "accepted": ["g/L", "g/dL"],
                        }
                    ],
                }
            ]
        },
    )

    type: str = Field(default="about:blank", description="URI identifying the problem type.")
    title: str = Field(description="Short, human-readable summary of the problem type.")
    status: int = Field(ge=400, le=599, description="The HTTP status code.")
    detail: str | None = Field(default=None, description="Explanation specific to this occurrence.")
    instance: str | None = Field(default=None, description="This occurrence: the request id as a URN.")
    errors: list[ProblemError] | None = Field(
        default=None, description="Every bad field, with its JSON path."
    )


class ApiProblem(Exception):
    """Raise to answer with a problem+json response."""

    def __init__(
        self,
        status: int,
        *,
        type: str = "about:blank",
        title: str | None = None,
        detail: str | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.type = type
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        super().__init__(f"{status} {self.title}")


def busy(title: str, detail: str, retry_after: int) -> ApiProblem:
    """503 with ``Retry-After``: the route's concurrency limit is reached; nothing was done, the caller may retry."""
    return ApiProblem(503, type=BUSY, title=title, detail=detail, headers={"Retry-After": str(retry_after)})


def request_instance(request_id: str | None) -> str | None:
    return None if not request_id else f"urn:mmemd:request:{request_id}"


def problem_body(
    status: int,
    *,
    type: str = "about:blank",
    title: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": type, "title": title or HTTPStatus(status).phrase, "status": status}
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = [dict(e) for e in errors]
    if extra:
        body.update(extra)
    return body


def problem_response(
    status: int,
    *,
    request_id: str | None = None,
    headers: Mapping[str, str] | None = None,
    **fields: Any,
) -> Response:
    body = problem_body(status, instance=request_instance(request_id), **fields)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=dict(headers or {}))


def _request_id(request: Request) -> str | None:
    rid = request.scope.get("mmemd.request_id")
    return rid if isinstance(rid, str) else None


def record_errors(problems: Iterable[Any]) -> list[dict[str, Any]]:
    """``mmemd.clinical.Problem`` s -> problem ``errors`` entries (path, message, code, accepted)."""
    return [p.as_dict() for p in problems]


def json_input_problem(problems: Sequence[Any], *, invalid_type: str, invalid_title: str) -> ApiProblem:
    """The answer to a body the input boundary (:func:`mmemd._json.parse_json`) refused: 400 when it is not JSON,
    422 (``invalid_type``) when it is JSON beyond a limit (depth, number or string length, ``NaN``, a repeated key).
    Every entry keeps its JSON path."""
    n = len(problems)
    if any(p.code == "malformed_json" for p in problems):
        return ApiProblem(
            400,
            type=MALFORMED_JSON,
            title="Malformed JSON",
            detail="the request body is not valid JSON",
            errors=record_errors(problems),
        )
    return ApiProblem(
        422,
        type=invalid_type,
        title=invalid_title,
        detail=f"the request body has {n} problem{'s' if n != 1 else ''}",
        errors=record_errors(problems),
    )


def parameter_path(loc: Sequence[str | int]) -> str:
    """FastAPI's error location -> our path: ``("body", "a", 0)`` -> ``$.a[0]``; ``("query", "limit")`` -> ``query.limit``."""
    from mmemd.clinical.errors import json_path

    if loc and loc[0] == "body":
        return json_path(loc[1:])
    return ".".join(str(p) for p in loc)


def _validation_problem(request: Request, exc: RequestValidationError) -> Response:
    errs = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errs):
        detail = next(
            (str(e.get("ctx", {}).get("error", "")) for e in errs if e.get("type") == "json_invalid"), ""
        )
        return problem_response(
            400,
            type=MALFORMED_JSON,
            title="Malformed JSON",
            detail=f"the request body is not valid JSON: {detail}".rstrip(": "),
            errors=[{"path": "$", "message": "malformed JSON", "code": "malformed_json"}],
            request_id=_request_id(request),
        )
    # Query and path parameters: the error names the parameter and the rule, never echoes the input (it could be
    # anything the caller typed, and problem bodies end up in integration-engine logs).
    entries = [
        {
            "path": parameter_path(tuple(e.get("loc", ()))),
            "message": str(e.get("msg", "")),
            "code": e.get("type"),
        }
        for e in errs
    ]
    body_only = all(tuple(e.get("loc", ("",)))[:1] == ("body",) for e in errs)
    status = 422 if body_only else 400
    return problem_response(
        status,
        type=INVALID_RECORD if body_only else INVALID_PARAMETER,
        title="Invalid request body" if body_only else "Invalid request parameter",
        detail=f"{len(entries)} problem{'s' if len(entries) != 1 else ''} in the request",
        errors=entries,
        request_id=_request_id(request),
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error FastAPI/Starlette raise as problem+json (the 500 path is in the middleware)."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiProblem)
        return problem_response(
            exc.status,
            type=exc.type,
            title=exc.title,
            detail=exc.detail,
            errors=exc.errors,
            extra=exc.extra,
            headers=exc.headers,
            request_id=_request_id(request),
        )

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return _validation_problem(request, exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        # Starlette's own detail for 404/405 is just the phrase; anything else a router raised is kept as detail.
        detail = (
            exc.detail if isinstance(exc.detail, str) and exc.detail != HTTPStatus(status).phrase else None
        )
        if status == 404 and detail is None:
            detail = "no such resource"
        return problem_response(
            status,
            type=NOT_FOUND if status == 404 else "about:blank",
            detail=detail,
            headers=exc.headers,
            request_id=_request_id(request),
        )

    async def on_state_unavailable(request: Request, exc: Exception) -> Response:
        # The shared store (Redis/Valkey) did not answer: a temporary condition, never a reason to answer as if
        # it had (mmemd.service._state).
        return problem_response(
            503,
            detail="a shared state store is unavailable; retry shortly",
            headers={"Retry-After": "5"},
            request_id=_request_id(request),
        )

    from mmemd.service._state import SharedStateUnavailable

    app.add_exception_handler(ApiProblem, on_problem)
    app.add_exception_handler(SharedStateUnavailable, on_state_unavailable)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem+json for the given statuses."""
    descriptions = {
        400: "Malformed JSON or an invalid/unknown request parameter",
        401: "Missing or invalid API key",
        404: "Not found",
        413: "Request body larger than the configured limit",
        415: "Unsupported content type",
        422: "Invalid document: every bad field with its JSON path",
        500: "Internal error (no internals disclosed; quote the instance id)",
        501: "Not available in this installation",
    }
    return {
        s: {
            "description": descriptions.get(s, HTTPStatus(s).phrase),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }
