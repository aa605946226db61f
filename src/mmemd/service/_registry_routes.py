"""REST routes of the patient registry (``/v1/patients``): store, read, follow and assess patients.

Every write carries the version it was based on: ``PATCH`` and ``DELETE`` require ``If-Match`` with the ETag of the
version read (a stale one gets 412, a missing one 428 — never a silent overwrite); ``POST …/visits`` honours it when
sent. Bodies are validated with the ``mmemd.patient/1`` model; a refusal lists every bad field with its JSON path
in the request body and stores nothing. Only the clinician role reaches these routes; every access is written to the
audit log (user, action, patient, request id — no clinical values). docs/registry.md documents the routes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Final, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from mmemd.clinical.errors import Problem, RecordError, loads
from mmemd.registry import (
    AuditAction,
    AuditContext,
    Identity,
    PatientNotFound,
    Principal,
    Registry,
    RegistryEvent,
    StoredPatient,
    VersionConflict,
    audit,
    canonical,
    check_password,
    default_database_url,
    end_session,
    resolve_api_key,
    session_principal,
    start_session,
)
from mmemd.service._auth import API_KEY_HEADER
from mmemd.service._config import ServiceConfig
from mmemd.service._problem import (
    NOT_FOUND,
    UNAUTHORIZED,
    ApiProblem,
    problem_responses,
)
from mmemd.service._rest import JSON, get_kb, invalid_record, require_media_type

PRECONDITION_FAILED: Final = "urn:mmemd:problem:precondition-failed"
PRECONDITION_REQUIRED: Final = "urn:mmemd:problem:precondition-required"
FORBIDDEN: Final = "urn:mmemd:problem:forbidden"
MERGE_PATCH: Final = "application/merge-patch+json"
JSONL: Final = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines")
FHIR_JSON: Final = "application/fhir+json"
REASON_HEADER: Final = "X-Change-Reason"
SESSION_COOKIE: Final = "mmemd_session"

T = TypeVar("T")
_open_lock = threading.Lock()


# --- dependencies -------------------------------------------------------------------------------------------------


def get_registry(request: Request) -> Registry:
    """The app's registry, opened (and migrated) on first use, so an app that never stores a patient never
    creates a database."""
    reg = getattr(request.app.state, "registry", None)
    if reg is None:
        with _open_lock:
            reg = getattr(request.app.state, "registry", None)
            if reg is None:
                config: ServiceConfig = request.app.state.config
                reg = request.app.state.registry = Registry(config.database_url or default_database_url())
    assert isinstance(reg, Registry)
    return reg


def _presented_key(request: Request) -> str | None:
    key = request.headers.get(API_KEY_HEADER)
    if key:
        return key
    auth = request.headers.get("authorization", "")
    scheme, _, cred = auth.partition(" ")
    return cred.strip() or None if scheme.lower() == "bearer" else None


async def clinician(request: Request) -> Principal:
    """The caller, who must hold the clinician role (401 without a valid key, 403 with another role)."""
    config: ServiceConfig = request.app.state.config
    if not config.key_required:
        return Principal("local", "clinician")
    key = _presented_key(request)
    if not key and request.cookies.get(SESSION_COOKIE):
        # A signed-in web page. The cookie is SameSite=Strict and every write needs a JSON body (a CORS-preflighted
        # content type), so another site cannot make the browser write with it.
        reg = await run_in_threadpool(get_registry, request)
        who = await run_in_threadpool(session_principal, reg, request.cookies[SESSION_COOKIE])
        if who is not None:
            return _require_clinician(who)
    if not key:
        raise ApiProblem(
            401,
            type=UNAUTHORIZED,
            title="Authentication required",
            detail=f"send an API key as 'Authorization: Bearer <key>' or '{API_KEY_HEADER}: <key>'",
            headers={"WWW-Authenticate": 'Bearer realm="mmemd"'},
        )
    reg = await run_in_threadpool(get_registry, request)
    who = await run_in_threadpool(resolve_api_key, reg, key, config.api_key_hashes)
    if who is None:
        raise ApiProblem(
            401,
            type=UNAUTHORIZED,
            title="Invalid API key",
            detail="the API key is not valid",
            headers={"WWW-Authenticate": 'Bearer realm="mmemd", error="invalid_token"'},
        )
    request.scope["mmemd.auth"] = "api_key"
    return _require_clinician(who)


def _require_clinician(who: Principal) -> Principal:
    if who.role != "clinician":
        raise ApiProblem(
            403,
            type=FORBIDDEN,
            title="Forbidden",
            detail=f"patient data needs the clinician role; this user has the {who.role} role",
        )
    return who


Who = Annotated[Principal, Depends(clinician)]
Reg = Annotated[Registry, Depends(get_registry)]


# --- helpers ------------------------------------------------------------------------------------------------------


def _request_id(request: Request) -> str | None:
    rid = request.scope.get("mmemd.request_id")
    return rid if isinstance(rid, str) else None


async def _run(
    request: Request,
    reg: Registry,
    who: Principal,
    action: AuditAction,
    patient_id: str | None,
    fn: Callable[[], T],
    patient_of: Callable[[T], str] | None = None,
    audited: bool = False,
) -> T:
    """Run ``fn`` off the event loop and write the audit entry, whatever the outcome (``patient_of``: the patient
    the result names, for a create; ``audited``: a successful ``fn`` wrote its entry in its own transaction)."""
    outcome = "ok"
    try:
        result = await run_in_threadpool(fn)
        if patient_of is not None:
            patient_id = patient_of(result)
        return result
    except PatientNotFound:
        outcome = "not_found"
        raise ApiProblem(404, type=NOT_FOUND, detail="no such patient in the registry") from None
    except VersionConflict as exc:
        outcome = "conflict"
        raise ApiProblem(
            412,
            type=PRECONDITION_FAILED,
            title="Precondition failed",
            detail=f"the patient changed since version {exc.expected}: it is at version {exc.current}; read it "
            "again and re-apply the change",
            headers={"ETag": _etag(exc.patient_id, exc.current)},
        ) from None
    except RecordError as exc:
        outcome = "refused"
        raise invalid_record(exc) from None
    except ApiProblem:
        outcome = "refused"
        raise
    except BaseException:
        outcome = "error"
        raise
    finally:
        if not (audited and outcome == "ok"):
            rid = _request_id(request)
            await run_in_threadpool(audit, reg, who, action, patient_id, request_id=rid, outcome=outcome)


def _ctx(request: Request, who: Principal) -> AuditContext:
    return AuditContext(who.name, who.role, _request_id(request))


def _etag(patient_id: str, version: int) -> str:
    return f'"{patient_id}.{version}"'


def _expected_version(request: Request, patient_id: str, required: bool) -> int | None:
    """The version named by ``If-Match`` (``*``: any), 428 when required and missing, 412 when it names another
    patient or is not one of our ETags."""
    raw = request.headers.get("if-match")
    if raw is None:
        if required:
            raise ApiProblem(
                428,
                type=PRECONDITION_REQUIRED,
                title="Precondition required",
                detail="send If-Match with the ETag of the version you read (GET /v1/patients/{id})",
            )
        return None
    tags = [t.strip() for t in raw.split(",") if t.strip()]
    if tags == ["*"]:
        return None
    for t in tags:
        t = t.removeprefix("W/").strip('"')
        pid, _, ver = t.rpartition(".")
        if pid == patient_id and ver.isdigit():
            return int(ver)
    raise ApiProblem(
        412,
        type=PRECONDITION_FAILED,
        title="Precondition failed",
        detail="If-Match does not name a version of this patient",
    )


def _patient_response(p: StoredPatient, status: int = 200, location: bool = False) -> Response:
    headers = {"ETag": p.etag}
    if location:
        headers["Location"] = f"/v1/patients/{p.id}"
    return Response(
        json.dumps(p.record, ensure_ascii=False), status_code=status, media_type=JSON, headers=headers
    )


async def _json_body(request: Request, *media: str) -> Any:
    require_media_type(request, *(media or (JSON,)))
    body = await request.body()
    try:
        return loads(body)
    except RecordError as exc:
        raise invalid_record(exc) from None


def _envelope_problems(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> RecordError:
    return RecordError(
        [Problem((*prefix, *e["loc"]), e["msg"], code=str(e["type"])) for e in exc.errors()],
        kind="request",
    )


class _CreateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record: dict[str, Any]
    identity: Identity | None = None
    events: list[RegistryEvent] = Field(default_factory=list)
    reason: str | None = Field(default=None, max_length=2000)


class _VisitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visit: dict[str, Any]
    therapy_lines: list[dict[str, Any]] = Field(default_factory=list)
    lesions: list[dict[str, Any]] = Field(default_factory=list)
    events: list[RegistryEvent] = Field(default_factory=list)
    reason: str | None = Field(default=None, max_length=2000)


def _reason(request: Request) -> str | None:
    r = request.headers.get(REASON_HEADER)
    return r[:2000] if r else None


# --- routes -------------------------------------------------------------------------------------------------------


async def create_patient(request: Request, reg: Reg, who: Who) -> Response:
    data = await _json_body(request)
    if isinstance(data, Mapping) and "schema" in data:
        body = _CreateBody(record=dict(data))
    else:
        try:
            body = _CreateBody.model_validate(data)
        except ValidationError as exc:
            raise invalid_record(_envelope_problems(exc)) from None

    def create() -> StoredPatient:
        try:
            return reg.create(
                body.record,
                author=who.name,
                reason=body.reason or _reason(request),
                identity=body.identity,
                events=body.events,
                audit=_ctx(request, who),
            )
        except RecordError as exc:
            if "schema" in data:
                raise
            raise RecordError([_prefixed(p, "record") for p in exc.problems]) from None

    p = await _run(request, reg, who, "create", None, create, patient_of=lambda p: p.id, audited=True)
    return _patient_response(p, 201, location=True)


def _prefixed(p: Problem, *prefix: str | int) -> Problem:
    return Problem((*prefix, *p.loc), p.message, p.accepted, p.code)


async def list_patients(
    request: Request,
    reg: Reg,
    who: Who,
    q: Annotated[
        str | None, Query(max_length=200, description="registry id, MRN or name (substring)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=64, description="next_cursor of the previous page")
    ] = None,
) -> Response:
    items, nxt = await _run(request, reg, who, "list", None, lambda: reg.list_patients(q, limit, cursor))
    return Response(json.dumps({"items": items, "next_cursor": nxt}, ensure_ascii=False), media_type=JSON)


async def get_patient(
    request: Request,
    reg: Reg,
    who: Who,
    patient_id: str,
    version: Annotated[
        int | None, Query(ge=1, description="a past version (default: the current one)")
    ] = None,
) -> Response:
    p = await _run(request, reg, who, "read", patient_id, lambda: reg.get(patient_id, version))
    return _patient_response(p)


async def add_visit(request: Request, reg: Reg, who: Who, patient_id: str) -> Response:
    data = await _json_body(request)
    if isinstance(data, Mapping) and "visit" not in data:
        data = {"visit": data}
    try:
        body = _VisitBody.model_validate(data)
    except ValidationError as exc:
        raise invalid_record(_envelope_problems(exc)) from None
    expected = _expected_version(request, patient_id, required=False)
    p = await _run(
        request,
        reg,
        who,
        "add_visit",
        patient_id,
        lambda: reg.add_visit(
            patient_id,
            body.visit,
            therapy_lines=body.therapy_lines,
            lesions=body.lesions,
            events=body.events,
            author=who.name,
            reason=body.reason or _reason(request),
            expected_version=expected,
            audit=_ctx(request, who),
        ),
        audited=True,
    )
    return _patient_response(p, 201, location=True)


async def patch_patient(request: Request, reg: Reg, who: Who, patient_id: str) -> Response:
    expected = _expected_version(request, patient_id, required=True)
    patch = await _json_body(request, MERGE_PATCH, JSON)
    if not isinstance(patch, Mapping):
        raise invalid_record(RecordError([Problem((), "a merge patch is a JSON object", code="model_type")]))
    if "id" in patch or "schema" in patch:
        raise invalid_record(
            RecordError(
                [Problem(("id" if "id" in patch else "schema",), "cannot be changed", code="read_only")]
            )
        )
    p = await _run(
        request,
        reg,
        who,
        "update",
        patient_id,
        lambda: reg.patch(
            patient_id,
            patch,
            author=who.name,
            reason=_reason(request),
            expected_version=expected,
            audit=_ctx(request, who),
        ),
        audited=True,
    )
    return _patient_response(p)


async def delete_patient(request: Request, reg: Reg, who: Who, patient_id: str) -> Response:
    expected = _expected_version(request, patient_id, required=True)
    await _run(
        request,
        reg,
        who,
        "delete",
        patient_id,
        lambda: reg.delete(
            patient_id,
            author=who.name,
            reason=_reason(request),
            expected_version=expected,
            audit=_ctx(request, who),
        ),
        audited=True,
    )
    return Response(status_code=204)


async def get_assessment(request: Request, reg: Reg, who: Who, patient_id: str) -> Response:
    from mmemd.advice import assess_with_advice

    kb = get_kb(request)

    def assess() -> tuple[str, str]:
        p = reg.get(patient_id)
        doc, _ = assess_with_advice(p.record, kb)
        return doc.model_dump_json(by_alias=True), p.etag

    body, etag = await _run(request, reg, who, "assessment", patient_id, assess)
    return Response(body, media_type=JSON, headers={"ETag": etag})


async def get_report(
    request: Request,
    reg: Reg,
    who: Who,
    patient_id: str,
    lang: Annotated[Literal["en", "zh"], Query(description="Report language")] = "en",
    fmt: Annotated[Literal["html", "pdf"], Query(alias="format", description="html or pdf")] = "html",
) -> Response:
    from mmemd.report import render_report

    kb = get_kb(request)

    def render() -> tuple[str | bytes, str]:
        p = reg.get(patient_id)
        return render_report(p.record, lang=lang, fmt=fmt, kb=kb), p.etag

    out, etag = await _run(request, reg, who, "report", patient_id, render)
    if fmt == "pdf":
        return Response(
            out if isinstance(out, bytes) else out.encode(),
            media_type="application/pdf",
            headers={"ETag": etag, "Content-Disposition": 'inline; filename="mmemd-report.pdf"'},
        )
    return Response(out, media_type="text/html; charset=utf-8", headers={"ETag": etag})


async def get_history(request: Request, reg: Reg, who: Who, patient_id: str) -> Response:
    entries = await _run(request, reg, who, "history", patient_id, lambda: reg.history(patient_id))
    payload = [
        {
            "version": h.version,
            "action": h.action,
            "author": h.author,
            "at": h.at.isoformat(),
            "reason": h.reason,
            "changed": h.changed,
        }
        for h in entries
    ]
    return Response(json.dumps(payload, ensure_ascii=False), media_type=JSON)


async def get_events(request: Request, reg: Reg, who: Who, patient_id: str) -> Response:
    p = await _run(request, reg, who, "read", patient_id, lambda: reg.get(patient_id))
    return Response(json.dumps(p.events), media_type=JSON, headers={"ETag": p.etag})


async def import_patients(request: Request, reg: Reg, who: Who) -> Response:
    """A JSONL batch of records (one per line) or a FHIR Bundle; all or nothing — one bad line stores nothing."""
    declared = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    records: list[dict[str, Any]] = []
    if declared in JSONL:
        text = (await request.body()).decode("utf-8", errors="replace")
        problems: list[Problem] = []

        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                doc = loads(line)
                canonical(doc)
                records.append(doc)
            except RecordError as exc:
                problems += [_prefixed(p, n) for p in exc.problems]
        if problems:
            raise invalid_record(RecordError(problems, kind="JSONL batch"))
    else:
        bundle = await _json_body(request, FHIR_JSON, JSON)
        if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle":
            raise ApiProblem(
                415,
                type="urn:mmemd:problem:unsupported-media-type",
                title="Unsupported media type",
                detail="send a JSONL batch (application/x-ndjson) or a FHIR Bundle (application/fhir+json)",
            )
        from mmemd.fhir import bundle_to_record

        try:
            result = bundle_to_record(dict(bundle))
        except ValueError as exc:
            from mmemd.service._rest import _invalid_bundle

            raise _invalid_bundle(exc) from None
        records.append(dict(result.record))

    def store_all() -> list[StoredPatient]:
        return reg.create_many(
            records, author=who.name, reason=_reason(request) or "import", audit=_ctx(request, who)
        )

    stored = await _run(request, reg, who, "import", None, store_all)
    out = [{"line_or_entry": i + 1, "id": p.id, "etag": p.etag} for i, p in enumerate(stored)]
    return Response(json.dumps({"created": out}), status_code=201, media_type=JSON)


class _SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


async def sign_in(request: Request, reg: Reg) -> Response:
    """Start a web session: an HttpOnly, SameSite=Strict cookie valid for 12 hours."""
    data = await _json_body(request)
    try:
        body = _SignIn.model_validate(data)
    except ValidationError as exc:
        raise invalid_record(_envelope_problems(exc)) from None
    who = await run_in_threadpool(check_password, reg, body.username, body.password)
    if who is None:
        raise ApiProblem(401, type=UNAUTHORIZED, title="Sign-in failed", detail="wrong username or password")
    token = await run_in_threadpool(start_session, reg, who)
    resp = Response(
        json.dumps({"user": who.name, "role": who.role}),
        media_type=JSON,
        headers={"Cache-Control": "no-store"},
    )
    resp.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=12 * 3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return resp


async def sign_out(request: Request, reg: Reg) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await run_in_threadpool(end_session, reg, token)
    resp = Response(status_code=204)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


_ERR: Final = problem_responses(400, 401, 403, 404, 412, 415, 422, 428, 500)


async def read_imaging_report(request: Request, who: Who, patient_id: str) -> Response:
    """The imaging extractor (``POST /v1/imaging/extractions``, same body and answer) for the add-visit form of the
    registry page: reachable with the page's registry session or key, clinician role only. Nothing is stored and the
    patient's record is not read — the clinician confirms each proposed lesion before it joins the visit."""
    del who, patient_id
    from mmemd.service._imaging import create_extraction

    return await create_extraction(request)


def build_router(config: ServiceConfig) -> APIRouter:
    """The ``/v1/patients`` routes (the config is read per request from ``app.state.config``)."""
    del config
    r = APIRouter(prefix="/v1/patients", tags=["registry"], responses=_ERR)
    r.add_api_route("", create_patient, methods=["POST"], status_code=201, summary="Store a new patient")
    r.add_api_route("", list_patients, methods=["GET"], summary="List or search patients")
    r.add_api_route("/import", import_patients, methods=["POST"], status_code=201, summary="Import patients")
    r.add_api_route("/{patient_id}", get_patient, methods=["GET"], summary="The patient's record")
    r.add_api_route("/{patient_id}", patch_patient, methods=["PATCH"], summary="Change a patient (If-Match)")
    r.add_api_route("/{patient_id}", delete_patient, methods=["DELETE"], status_code=204, summary="Delete")
    r.add_api_route(
        "/{patient_id}/visits", add_visit, methods=["POST"], status_code=201, summary="Add a visit"
    )
    r.add_api_route(
        "/{patient_id}/imaging-extractions",
        read_imaging_report,
        methods=["POST"],
        summary="Read lesions from an imaging report for the next visit (nothing stored)",
    )
    r.add_api_route("/{patient_id}/assessment", get_assessment, methods=["GET"], summary="Current assessment")
    r.add_api_route("/{patient_id}/report", get_report, methods=["GET"], summary="Current report")
    r.add_api_route("/{patient_id}/history", get_history, methods=["GET"], summary="Every version")
    r.add_api_route(
        "/{patient_id}/events", get_events, methods=["GET"], summary="Progression, death, contact"
    )
    return r


def build_session_router(config: ServiceConfig) -> APIRouter:
    """``POST /registry/session`` (sign in with a registry account) and ``DELETE /registry/session`` (sign out).

    Beside the web page, not under ``/v1``: it is how the page authenticates, not an API operation that needs a
    key."""
    del config
    r = APIRouter(
        prefix="/registry/session", tags=["registry"], responses=problem_responses(400, 401, 415, 422, 500)
    )
    r.add_api_route("", sign_in, methods=["POST"], summary="Sign in (web session cookie)")
    r.add_api_route("", sign_out, methods=["DELETE"], status_code=204, summary="Sign out")
    return r


__all__ = ["build_router", "build_session_router", "clinician", "get_registry"]
