"""CDS Hooks 2.0 endpoints (docs/criteria.md §5): discovery, the ``patient-view`` service and its feedback.

- ``GET /cds-services`` — discovery, with prefetch templates for the patient, conditions, observations,
  medications and procedures.
- ``POST /cds-services/mmemd-patient-view`` — prefetch (or, for keys the client did not send, a fetch from
  ``fhirServer`` with ``fhirAuthorization``; otherwise 412) → FHIR import (:mod:`mmemd.fhir`) → assessment with
  decision support (:func:`mmemd.advice.assess_with_advice`) → one card (:mod:`._cards`).
- ``POST /cds-services/mmemd-patient-view/feedback`` — records outcomes (card uuid, outcome, reason code; no
  patient data, no free-text comment).
- ``GET /cds-services/mmemd-patient-view/report/{token}`` — the full report behind a card's link: a capability
  URL (unguessable, short-lived, in memory only), because a browser click from the EHR carries no JWT.

Every call except the report link carries a client JWT verified by :mod:`._jwt` when ``auth_required`` (§5 "Every
call (discovery and service)"). The JWT is checked before the body is read, so an unauthenticated caller learns
nothing about the body's validity. Errors are RFC 9457 problem+json (:mod:`._problem`).
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import HTMLResponse, JSONResponse, Response

from mmemd._json import JsonInputError, parse_json
from mmemd.service._cards import (
    ImportNote,
    Lang,
    assessment_card,
    message_card,
    problem_lines,
    report_link_labels,
)
from mmemd.service._cds_config import CdsHooksConfig
from mmemd.service._cds_models import (
    CdsResponse,
    Discovery,
    FeedbackRequest,
    HookRequest,
    ServiceDescription,
    dump,
)
from mmemd.service._config import ServiceConfig
from mmemd.service._fhir_egress import allowed_fhir_server
from mmemd.service._fhir_fetch import FetchFailed, FhirSource, fetch_keys, fetch_remaining, render_template
from mmemd.service._jwt import JwtRejected, JwtVerifier, ReplayCacheFull
from mmemd.service._problem import ApiProblem, busy, json_input_problem, problem_responses
from mmemd.service._rest import require_media_type
from mmemd.service._state import ExpiringMap, shared_state

log = logging.getLogger("mmemd.service.cds")

SERVICE_ID: Final = "mmemd-patient-view"
HOOK: Final = "patient-view"
#: problem ``type`` URIs of this router (see docs/cds-hooks.md)
JWT_REJECTED: Final = "urn:mmemd:problem:cds-jwt-rejected"
PRECONDITION_FAILED: Final = "urn:mmemd:problem:cds-prefetch-unavailable"
INVALID_HOOK_REQUEST: Final = "urn:mmemd:problem:cds-invalid-request"
UNKNOWN_CARD: Final = "urn:mmemd:problem:cds-unknown-card"

#: Prefetch templates (spec "Prefetch Template"; only instance reads and type searches by patient — the recommended
#: query subset), each one a US Core server answers: Observations by patient and category ``laboratory`` (US Core's
#: required search), medications as MedicationRequest (US Core's medication list). The other keys are optional:
#: ``observationsAll`` (any category: ECOG, disease status, imaging findings) and ``medicationStatements`` where the
#: server supports them; a key the EHR cannot fill becomes "data not available" on the card, naming what is missing.
PREFETCH: Final[dict[str, str]] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}&category=laboratory",
    "observationsAll": "Observation?patient={{context.patientId}}",
    "medications": "MedicationRequest?patient={{context.patientId}}",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "bodyStructures": "BodyStructure?patient={{context.patientId}}",
    "diagnosticReports": "DiagnosticReport?patient={{context.patientId}}",
}
#: keys without which there is nothing to assess (who, and whether it is a myeloma patient): missing and not
#: fetchable → 412. Every other key degrades to a card that names the missing data.
REQUIRED: Final = ("patient", "conditions")
#: what each key carries, as the card names it when it is not available (English, Chinese)
_KEY_DATA: Final[dict[str, tuple[str, str]]] = {
    "observations": ("laboratory results", "实验室检查结果"),
    "observationsAll": (
        "other observations (performance status, disease status, imaging findings)",
        "其他观察（体能状态、疾病状态、影像所见）",
    ),
    "medications": ("medication orders (therapy history)", "医嘱用药（治疗史）"),
    "medicationStatements": ("medication statements (therapy history)", "用药记录（治疗史）"),
    "procedures": ("procedures (transplant, radiotherapy)", "操作（移植、放疗）"),
    "bodyStructures": ("body structures (lesion sites)", "身体结构（病灶部位）"),
    "diagnosticReports": ("imaging reports (lesions read from their text)", "影像报告（从文本提取病灶）"),
}
#: ICD-10 C90.x (docs/criteria.md §4.1) or SNOMED CT 109989006 multiple myeloma (§4.3): without one of these the
#: patient is not a myeloma patient and the service answers ``{"cards": []}``.
_ICD10_MYELOMA_PREFIX: Final = "C90"
_SNOMED_MYELOMA: Final = "109989006"


def inline_schema(model: type[Any]) -> dict[str, Any]:
    """A model's JSON Schema with its ``$defs`` inlined, for ``openapi_extra`` (a ``#/$defs/..`` reference would not
    resolve inside the OpenAPI document). The request models are not recursive."""
    schema = model.model_json_schema(by_alias=True)
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    out: dict[str, Any] = resolve(schema)
    return out


def _ok(model: type[Any], description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"description": description, "content": {"application/json": {"schema": inline_schema(model)}}}
    }


def _versions(kb_version: str) -> dict[str, str]:
    from mmemd.clinical.assessment import current_versions

    # the knowledge base actually loaded by the service (a custom one may differ from the packaged one)
    return {**current_versions().model_dump(), "knowledge_base": kb_version}


@dataclass
class FeedbackLog:
    """Outcomes per card, without patient data: what was done, the override reason's code, whether a comment was
    written (not the comment: free text may hold patient data)."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    max_entries: int = 100_000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.entries.append(entry)
            if len(self.entries) > self.max_entries:
                del self.entries[: len(self.entries) - self.max_entries]


@dataclass
class CdsState:
    """Per-app state of the CDS Hooks router (exposed as ``app.state.cds`` for tests and operators)."""

    config: ServiceConfig
    verifier: JwtVerifier | None
    cards: ExpiringMap
    reports: ExpiringMap
    feedback: FeedbackLog
    lang: Lang = "en"
    fhir_transport: Any = None  # an httpx.AsyncBaseTransport in tests (httpx.MockTransport)
    clock: Any = time.time


# ---- helpers ---------------------------------------------------------------------------------------------------
def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise JwtRejected("missing_token")
    return token.strip()


def endpoint_url(config: ServiceConfig, request: Request) -> str:
    """The exact endpoint URL the client called, for ``aud`` (§5): ``public_base_url`` + path when configured
    (behind a proxy the request's own URL is the internal one), else the request URL without its query."""
    if config.public_base_url:
        return config.public_base_url.rstrip("/") + request.url.path
    return str(request.url.replace(query=None, fragment=None))


def _base_url(config: ServiceConfig, request: Request) -> str:
    if config.public_base_url:
        return config.public_base_url.rstrip("/")
    return str(request.base_url).rstrip("/")


def _authenticate(state: CdsState, request: Request) -> None:
    if state.verifier is None:
        return
    try:
        token = _bearer(request)
        verified = state.verifier.verify(token, endpoint_url(state.config, request))
    except JwtRejected as exc:
        # The reason code names the failed check; the token itself is never logged or echoed.
        log.info("cds jwt rejected", extra={"route": request.url.path, "reason": exc.reason})
        raise ApiProblem(
            401,
            type=JWT_REJECTED,
            title="CDS Hooks JWT rejected",
            detail=exc.detail,
            errors=[{"path": "header.authorization", "message": exc.detail, "code": exc.reason}],
            headers={
                "WWW-Authenticate": f'Bearer realm="mmemd-cds", error="invalid_token", reason="{exc.reason}"'
            },
            extra={"reason": exc.reason},
        ) from None
    except ReplayCacheFull:
        raise ApiProblem(
            503,
            title="Replay cache full",
            detail="too many unexpired tokens to remember; retry shortly",
            headers={"Retry-After": "5"},
        ) from None
    request.scope["mmemd.auth"] = "cds_jwt"
    request.scope["mmemd.cds_iss"] = verified.iss


async def _json_body(request: Request) -> Any:
    # as the REST routes do: a body must say it is JSON (415 otherwise)
    require_media_type(request, "application/json")
    raw = await request.body()
    try:
        return parse_json(raw)
    except JsonInputError as exc:
        raise json_input_problem(
            exc.problems, invalid_type=INVALID_HOOK_REQUEST, invalid_title="Invalid hook request"
        ) from None


def _fhir_server_allowed(cds: CdsHooksConfig, fhir_server: str, iss: str | None) -> bool:
    # the calling issuer's list; without a verified issuer (local mode) any configured issuer's list
    issuers = [i for i in cds.issuers if iss is None or i.iss == iss]
    return allowed_fhir_server(fhir_server, [b for i in issuers for b in i.fhir_servers]) is not None


def _validation_problem(exc: ValidationError, title: str) -> ApiProblem:
    from mmemd.clinical.errors import json_path

    errors = [
        {"path": json_path(tuple(e["loc"])), "message": e["msg"], "code": e["type"]}
        for e in exc.errors(include_input=False, include_url=False)
    ]
    return ApiProblem(
        422,
        type=INVALID_HOOK_REQUEST,
        title=title,
        detail=f"{len(errors)} problem{'s' if len(errors) != 1 else ''} in the request",
        errors=errors,
    )


def _entries(value: Any) -> list[dict[str, Any]]:
    """Resources of one prefetch value: a resource, or a Bundle's entries (search outcome entries left out)."""
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") != "Bundle":
        return [value]
    out = []
    for entry in value.get("entry") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            continue
        if (entry.get("search") or {}).get("mode") == "outcome":
            continue  # a searchset's OperationOutcome about the search, not patient data
        out.append(entry["resource"])
    return out


def _strip_outcomes(value: Any) -> Any:
    """A searchset without its ``search.mode = outcome`` entries (OperationOutcomes about the search itself)."""
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        return value
    entries = [
        e
        for e in value.get("entry") or []
        if not (isinstance(e, dict) and (e.get("search") or {}).get("mode") == "outcome")
    ]
    out = {k: v for k, v in value.items() if k != "entry"}
    if entries:
        out["entry"] = entries
    return out


def is_myeloma_patient(conditions: list[dict[str, Any]]) -> bool:
    """A plasma cell neoplasm in any coding the FHIR import recognises (ICD-10 in any edition or by OID, ICD-O-3,
    mCODE histology, SNOMED 109989006, mmemd's plasmacytoma)."""
    from mmemd.fhir import is_plasma_cell_neoplasm

    return any(is_plasma_cell_neoplasm(c) for c in conditions)


def split_prefetch(prefetch: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """Usable prefetch values and the keys still missing.

    Spec: an unsatisfied key is omitted, a key with no data is ``null`` (treated as "no resources"), an error is an
    OperationOutcome (treated as missing: fetch it or 412).
    """
    have: dict[str, Any] = {}
    missing: list[str] = []
    for key in PREFETCH:
        if prefetch is None or key not in prefetch:
            missing.append(key)
            continue
        value = prefetch[key]
        if value is None:
            have[key] = None
        elif isinstance(value, dict) and value.get("resourceType") == "OperationOutcome":
            missing.append(key)
        elif isinstance(value, dict) and "resourceType" in value:
            have[key] = _strip_outcomes(value)
        else:
            missing.append(key)
    return have, missing


#: prefetch key → the argument of :func:`mmemd.fhir.bundle_to_record_from_parts` that takes it (in this order: the
#: n-th key of a part is its n-th list item)
_PARTS: Final[dict[str, str]] = {
    "patient": "patient",
    "conditions": "conditions",
    "observations": "observations",
    "observationsAll": "observations",
    "medications": "medications",
    "medicationStatements": "medications",
    "procedures": "procedures",
    "bodyStructures": "body_structures",
    "diagnosticReports": "diagnostic_reports",
}
_ENTRY: Final = re.compile(r"^(?P<part>[a-z_]+)(?:\[(?P<k>\d+)\])?(?:\.entry\[(?P<i>\d+)\])?(?P<rest>.*)$")


def import_parts(values: Mapping[str, Any]) -> dict[str, Any]:
    """Prefetch values as the import's arguments: one list per part, in ``_PARTS`` order, a resource that an
    earlier key of the same part already holds left out (``observationsAll`` repeats the laboratory results)."""
    parts: dict[str, list[Any]] = {}
    for key, part in _PARTS.items():
        value = values.get(key)
        if key not in values:
            continue
        if part == "patient":
            if value is not None:
                parts.setdefault(part, []).append(value)
            continue
        seen = {
            (r.get("resourceType"), r.get("id"))
            for v in parts.get(part, [])
            for r in _entries(v)
            if r.get("id")
        }
        if isinstance(value, dict) and value.get("resourceType") == "Bundle" and seen:
            value = {
                **value,
                "entry": [
                    e
                    for e in value.get("entry") or []
                    if not (
                        isinstance(e, dict)
                        and isinstance(e.get("resource"), dict)
                        and (e["resource"].get("resourceType"), e["resource"].get("id")) in seen
                    )
                ],
            }
        parts.setdefault(part, []).append(value)
    out: dict[str, Any] = {k: [x for x in v if x is not None] for k, v in parts.items()}
    if "patient" in out:
        out["patient"] = out["patient"][0] if out["patient"] else None
    return out


def _key_of(part: str, k: int | None, values: Mapping[str, Any]) -> str | None:
    keys = [key for key, p in _PARTS.items() if p == part and key in values and values[key] is not None]
    if k is None:
        return keys[0] if keys else None
    return keys[k] if k < len(keys) else None


def where(path: str, values: Mapping[str, Any]) -> str:
    """A FHIR import path (``observations[0].entry[2].resource.valueQuantity``) as the EHR sees it:
    ``prefetch.observations Observation/ab1 .valueQuantity``."""
    m = _ENTRY.match(path)
    if m is None or m["part"] not in set(_PARTS.values()):
        return path
    key = _key_of(m["part"], int(m["k"]) if m["k"] is not None else None, values)
    if key is None:
        return path
    rest = m["rest"].removeprefix(".resource")
    value = values.get(key)
    resource: Any = value
    if m["i"] is not None and isinstance(value, dict):
        entries = value.get("entry") or []
        i = int(m["i"])
        resource = entries[i].get("resource") if i < len(entries) and isinstance(entries[i], dict) else None
    ref = ""
    if isinstance(resource, dict) and resource.get("id"):
        ref = f" {resource.get('resourceType')}/{resource['id']}"
    return f"prefetch.{key}{ref}{(' ' + rest) if rest else ''}"


# ---- the service -----------------------------------------------------------------------------------------------
async def _remaining_pages(values: dict[str, Any], source: FhirSource | None) -> list[ImportNote]:
    """A prefetch searchset with a ``next`` link (the spec says prefetch holds the whole result; some EHRs send page
    one): the remaining pages are fetched from fhirServer, same host only; without a server, or when that fails, the
    card says only the first page was read."""
    notes: list[ImportNote] = []
    for key, value in list(values.items()):
        nxt = _next_link(value)
        if nxt is None:
            continue
        if source is None:
            notes.append(_partial(key, "no fhirServer to fetch the next pages"))
            continue
        try:
            values[key] = _strip_outcomes(await fetch_remaining(source, key, value, nxt))
        except FetchFailed as exc:
            notes.append(_partial(key, exc.reason))
    return notes


def _next_link(value: Any) -> str | None:
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        return None
    return next(
        (
            str(lk["url"])
            for lk in value.get("link") or []
            if isinstance(lk, dict) and lk.get("relation") == "next"
        ),
        None,
    )


def _partial(key: str, why: str) -> ImportNote:
    en, zh = _KEY_DATA.get(key, (key, key))
    return ImportNote(
        f"prefetch.{key}",
        f"only the first page of {en} was read ({why})",
        f"{zh}仅读取了第一页",
    )


def _not_provided(key: str, why: str = "") -> ImportNote:
    """The card's note for a key the EHR did not provide (or could not be fetched): which data are missing."""
    en, zh = _KEY_DATA.get(key, (key, key))
    return ImportNote(
        f"prefetch.{key}",
        f"data not available: {en}{f' ({why})' if why else ''}; the assessment is made without them",
        f"数据不可用：{zh}；评估未包含这些数据",
    )


def _pool(request: Request, name: str) -> Any:
    """The app's import or report pool; an app that only includes this router (no ``create_app``) gets in-thread
    pools with the default limits."""
    pool = getattr(request.app.state, name, None)
    if pool is None:
        from mmemd.service._import_pool import ImportPool
        from mmemd.service._report_pool import ReportPool

        defaults = ServiceConfig()
        pool = (
            ImportPool(defaults.import_workers, defaults.import_queue, "thread")
            if name == "import_pool"
            else ReportPool(defaults.report_workers, defaults.report_queue, "thread")
        )
        setattr(request.app.state, name, pool)
    return pool


async def _import_prefetch(request: Request, values: Mapping[str, Any]) -> Any:
    """The prefetch as a record: ``fhir.resources`` validation (~10 ms of CPU) in the import pool, off the loop."""
    from mmemd.service._work_pool import PoolFull

    try:
        return await _pool(request, "import_pool").bundle_to_record_from_parts(import_parts(values))
    except PoolFull:
        raise busy("FHIR imports are busy", "every FHIR import slot is taken; retry shortly", 1) from None
    except ValueError as exc:  # BundleError: a malformed resource in the prefetch
        problems = getattr(exc, "problems", [])
        raise ApiProblem(
            422,
            type=INVALID_HOOK_REQUEST,
            title="Invalid FHIR data in prefetch",
            detail=f"{len(problems) or 1} malformed FHIR element(s)",
            errors=[
                {"path": where(str(p.path), values), "message": str(p.message), "code": "fhir_invalid"}
                for p in problems
            ]
            or None,
        ) from None


def _assess_patient(
    state: CdsState,
    values: Mapping[str, Any],
    imported: Any,
    request: Request,
    card_id: str,
    kb: Any,
    extra_notes: list[ImportNote],
) -> CdsResponse:
    from mmemd.advice import assess_with_advice
    from mmemd.clinical.errors import RecordError

    notes = extra_notes + [
        ImportNote(where(r.path, values), r.message_en, r.message_zh) for r in imported.reasons
    ]
    lang = state.lang
    try:
        assessment, _ = assess_with_advice(imported.record, kb)
    except RecordError as exc:
        lines = problem_lines(exc.problems, notes, lang)
        text = (
            "mmemd: myeloma record incomplete — no assessment"
            if lang == "en"
            else "mmemd：骨髓瘤病历数据不完整，未能评估"
        )
        return CdsResponse(cards=[message_card(text, "\n".join(lines), card_uuid=card_id, lang=lang)])

    links: list[tuple[str, str]] = []
    base = _base_url(state.config, request)
    cds = state.config.cds_hooks
    if cds.report_links:
        token = secrets.token_urlsafe(32)
        state.reports.put(token, imported.record, state.clock())
        url = f"{base}/cds-services/{SERVICE_ID}/report/{token}"
        links = [(text, f"{url}?lang={link_lang}") for text, link_lang in report_link_labels(lang)]
    # source.url is about the source of the guidance, not this patient (spec "Source"): the service's general page.
    source_url = f"{base}/"
    card = assessment_card(
        imported.record,
        assessment,
        card_uuid=card_id,
        lang=lang,
        source_url=source_url,
        report_links=links,
        import_notes=notes,
        text_lesions=imported.lesions_from_text,
        kb=kb,
    )
    return CdsResponse(cards=[card])


def new_state(
    config: ServiceConfig,
    *,
    lang: Lang | None = None,
    clock: Any = time.time,
    fhir_transport: Any = None,
) -> CdsState:
    """The router's state; ``clock`` (JWT times, caches) and ``fhir_transport`` (an ``httpx`` transport) are for
    tests and benchmarks."""
    cds = config.cds_hooks
    shared = shared_state(config.shared_state_url, cds)
    return CdsState(
        config=config,
        verifier=JwtVerifier(cds, clock=clock, replay_cache=shared.replay) if config.auth_required else None,
        cards=shared.cards,
        reports=shared.reports,
        feedback=FeedbackLog(),
        lang=lang or cds.card_language,
        fhir_transport=fhir_transport,
        clock=clock,
    )


def build_router(config: ServiceConfig, state: CdsState | None = None) -> APIRouter:
    cds: CdsHooksConfig = config.cds_hooks
    state = state or new_state(config)
    router = APIRouter(tags=["CDS Hooks"])
    kb_holder: dict[str, Any] = {}
    kb_lock = threading.Lock()

    def knowledge_base() -> Any:
        with kb_lock:
            if "kb" not in kb_holder:
                from mmemd.knowledge import load

                kb_holder["kb"] = load()
            return kb_holder["kb"]

    def _state(request: Request) -> CdsState:
        return state

    @router.get(
        "/cds-services",
        summary="CDS Hooks discovery",
        responses={**_ok(Discovery, "The CDS services"), **problem_responses(401, 503)},
        response_model=None,
    )
    def discovery(request: Request) -> JSONResponse:
        _authenticate(_state(request), request)
        kb = knowledge_base()
        doc = Discovery(
            services=[
                ServiceDescription(
                    hook=HOOK,
                    id=SERVICE_ID,
                    title="mmemd: multiple myeloma with extramedullary disease",
                    description=(
                        "Decision support for multiple myeloma with extramedullary disease (MM-EMD): EMD "
                        "classification, stage and risk, IMWG response, and evidence-graded treatment options with "
                        "their claims. Evidence, not a prescription."
                    ),
                    prefetch=dict(PREFETCH),
                    extension={"org.mmemd.versions": _versions(kb.version)},
                )
            ]
        )
        return JSONResponse(dump(doc))

    @router.post(
        f"/cds-services/{SERVICE_ID}",
        summary="patient-view hook: cards for a myeloma patient",
        responses={
            **_ok(CdsResponse, 'Cards ({"cards": []} when not a myeloma patient)'),
            **problem_responses(400, 401, 412, 422, 503),
        },
        response_model=None,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": inline_schema(HookRequest)}},
            }
        },
    )
    async def patient_view(request: Request) -> JSONResponse:
        st = _state(request)
        _authenticate(st, request)
        started = time.perf_counter()
        body = await _json_body(request)
        try:
            hook = HookRequest.model_validate(body)
        except ValidationError as exc:
            raise _validation_problem(exc, "Invalid CDS Hooks request") from None
        if hook.hook != HOOK:
            raise ApiProblem(
                422,
                type=INVALID_HOOK_REQUEST,
                title="Wrong hook",
                detail=f"this service answers the {HOOK} hook",
                errors=[{"path": "$.hook", "message": f"must be {HOOK!r}", "code": "wrong_hook"}],
            )
        auth = hook.fhir_authorization
        if auth is not None and auth.patient is not None and auth.patient != hook.context.patient_id:
            # A token scoped to another patient must not be used to read this one (spec: fhirAuthorization.patient).
            raise ApiProblem(
                422,
                type=INVALID_HOOK_REQUEST,
                title="fhirAuthorization is for another patient",
                detail="fhirAuthorization.patient differs from context.patientId",
                errors=[
                    {
                        "path": "$.fhirAuthorization.patient",
                        "message": "must equal context.patientId",
                        "code": "patient_mismatch",
                    }
                ],
            )
        values, missing = split_prefetch(hook.prefetch)
        context = {"patientId": hook.context.patient_id, "userId": hook.context.user_id}
        if hook.context.encounter_id:
            context["encounterId"] = hook.context.encounter_id
        notes: list[ImportNote] = []
        required_missing = [k for k in missing if k in REQUIRED]
        source: FhirSource | None = None
        if hook.fhir_server is not None and auth is not None:
            if hook.fhir_server.scheme != "https" and not cds.fhir_allow_http:
                if missing:
                    raise ApiProblem(
                        412,
                        type=PRECONDITION_FAILED,
                        title="Required FHIR data not available",
                        detail="fhirServer is not https: the access token is not sent over plain http",
                        errors=[
                            {
                                "path": "$.fhirServer",
                                "message": "must be https",
                                "code": "fhir_server_not_https",
                            }
                        ],
                    )
            elif not _fhir_server_allowed(cds, str(hook.fhir_server), request.scope.get("mmemd.cds_iss")):
                # Only the calling issuer's allow-listed FHIR bases are ever contacted (no server-side request
                # forgery through fhirServer); nothing is fetched, and the refusal names no host or port.
                if missing:
                    raise ApiProblem(
                        412,
                        type=PRECONDITION_FAILED,
                        title="Required FHIR data not available",
                        detail="fhirServer is not an allow-listed FHIR server of this client: nothing was fetched",
                        errors=[
                            {
                                "path": "$.fhirServer",
                                "message": "not allow-listed",
                                "code": "fhir_server_not_allowed",
                            }
                        ],
                    )
            else:
                source = FhirSource(
                    base_url=str(hook.fhir_server),
                    access_token=auth.access_token,
                    timeout_seconds=cds.fhir_timeout_seconds,
                    max_pages=cds.fhir_max_pages,
                    transport=st.fhir_transport,
                )
        if missing and source is None:
            if required_missing:
                raise ApiProblem(
                    412,
                    type=PRECONDITION_FAILED,
                    title="Required FHIR data not available",
                    detail=(
                        f"prefetch key(s) {', '.join(required_missing)} missing and no fhirServer with "
                        "fhirAuthorization to fetch them"
                    ),
                    errors=[
                        {"path": f"$.prefetch.{k}", "message": "missing", "code": "prefetch_missing"}
                        for k in required_missing
                    ],
                )
            notes += [_not_provided(k) for k in missing]
        elif missing:
            assert source is not None
            try:
                fetched = await fetch_keys(
                    source, {k: render_template(PREFETCH[k], context) for k in required_missing}
                )
                values.update({k: _strip_outcomes(v) for k, v in fetched.items()})
            except FetchFailed as exc:
                raise ApiProblem(
                    412,
                    type=PRECONDITION_FAILED,
                    title="Required FHIR data not available",
                    detail=f"fetching {exc.key} from fhirServer failed: {exc.reason}",
                    errors=[{"path": f"$.prefetch.{exc.key}", "message": exc.reason, "code": "fetch_failed"}],
                ) from None
            for key in (k for k in missing if k not in REQUIRED):
                try:
                    fetched = await fetch_keys(source, {key: render_template(PREFETCH[key], context)})
                    values.update({k: _strip_outcomes(v) for k, v in fetched.items()})
                except FetchFailed as exc:
                    notes.append(_not_provided(key, exc.reason))
        notes += await _remaining_pages(values, source)
        patient = values.get("patient")
        if isinstance(patient, dict) and patient.get("resourceType") == "Bundle":
            # a search (Patient?_id=…) instead of a read: the first Patient entry
            patient = next((r for r in _entries(patient) if r.get("resourceType") == "Patient"), None)
            values["patient"] = patient
        if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
            raise ApiProblem(
                412,
                type=PRECONDITION_FAILED,
                title="Required FHIR data not available",
                detail="no Patient resource for context.patientId",
                errors=[
                    {"path": "$.prefetch.patient", "message": "no Patient resource", "code": "no_patient"}
                ],
            )
        card_id = str(uuid.uuid4())
        kb = knowledge_base()
        if is_myeloma_patient(_entries(values.get("conditions"))):
            imported = await _import_prefetch(request, values)
            # the assessment and the card: ~2-3 ms of CPU, inline like a REST assessment (a thread hop costs more)
            response = _assess_patient(st, values, imported, request, card_id, kb, notes)
        else:
            response = CdsResponse(cards=[])
        now = st.clock()
        for card in response.cards:
            if card.uuid:
                st.cards.put(card.uuid, {"indicator": card.indicator}, now)
        if not response.cards:
            response.extension = None
        else:
            response.extension = {"org.mmemd.versions": _versions(kb.version)}
        log.info(
            "cds patient-view",
            extra={
                "cards": len(response.cards),
                "indicator": response.cards[0].indicator if response.cards else None,
                "fetched_keys": missing,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return JSONResponse(dump(response))

    @router.post(
        f"/cds-services/{SERVICE_ID}/feedback",
        summary="Feedback on cards (accepted / overridden)",
        responses=problem_responses(400, 401, 404, 422, 503),
        response_model=None,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": inline_schema(FeedbackRequest)}},
            }
        },
    )
    async def feedback(request: Request) -> JSONResponse:
        st = _state(request)
        _authenticate(st, request)
        body = await _json_body(request)
        try:
            fb = FeedbackRequest.model_validate(body)
        except ValidationError as exc:
            raise _validation_problem(exc, "Invalid feedback") from None
        now = st.clock()
        errors = []
        for i, item in enumerate(fb.feedback):
            if st.cards.get(item.card, now) is None:
                errors.append(
                    {
                        "path": f"$.feedback[{i}].card",
                        "message": "no card with this uuid",
                        "code": "unknown_card",
                    }
                )
            elif item.accepted_suggestions:
                # mmemd cards carry no suggestions, so no suggestion uuid can be accepted.
                errors.append(
                    {
                        "path": f"$.feedback[{i}].acceptedSuggestions",
                        "message": "this card has no suggestions",
                        "code": "unknown_suggestion",
                    }
                )
        if any(e["code"] == "unknown_card" for e in errors):
            raise ApiProblem(
                404,
                type=UNKNOWN_CARD,
                title="Unknown card",
                detail="feedback names a card this service did not issue (or has forgotten)",
                errors=errors,
            )
        if errors:
            raise ApiProblem(422, type=INVALID_HOOK_REQUEST, title="Invalid feedback", errors=errors)
        for item in fb.feedback:
            reason = item.override_reason.reason if item.override_reason else None
            st.feedback.add(
                {
                    "card": item.card,
                    "outcome": item.outcome,
                    "override_reason": None if reason is None else f"{reason.system or ''}|{reason.code}",
                    "has_comment": bool(item.override_reason and item.override_reason.user_comment),
                    "outcome_timestamp": item.outcome_timestamp.isoformat(),
                }
            )
        log.info(
            "cds feedback",
            extra={"items": len(fb.feedback), "outcomes": sorted({f.outcome for f in fb.feedback})},
        )
        return JSONResponse({"recorded": len(fb.feedback)})

    @router.get(
        f"/cds-services/{SERVICE_ID}/report/{{token}}",
        summary="The full report behind a card link (capability URL, short-lived)",
        responses=problem_responses(404, 503),
        response_class=HTMLResponse,
    )
    async def report(request: Request, token: str, lang: str = "en") -> Response:
        from mmemd.service._work_pool import PoolFull

        st = _state(request)
        record = st.reports.get(token, st.clock())
        if record is None or lang not in ("en", "zh"):
            raise ApiProblem(404, detail="no such report (links expire)")
        # ~240 ms of CPU: in the bounded report pool like the other report routes
        try:
            out = await _pool(request, "report_pool").render(record, lang, "html", knowledge_base())
        except PoolFull:
            raise busy("Reports are busy", "every report slot is taken; retry shortly", 5) from None
        html = out if isinstance(out, str) else out.decode("utf-8")
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    return router
