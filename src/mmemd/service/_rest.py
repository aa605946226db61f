"""The REST API (``/v1``): assessments, reports, evidence, FHIR import, versions; ``/healthz``.

Thin shells over the library: every route parses, calls one library function and serialises. Errors are RFC 9457
problem+json (:mod:`._problem`) with the JSON path of every bad field. The knowledge base is loaded once, at app
start (``app.state.kb``, see :func:`mmemd.service.create_app`).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from mmemd._json import JsonInputError, parse_json
from mmemd._version import __version__
from mmemd.advice._assess import AdvisedAssessment
from mmemd.clinical.assessment import Versions
from mmemd.clinical.errors import RecordError
from mmemd.clinical.response import RESPONSE_CRITERIA_VERSION
from mmemd.clinical.risk import HIGH_RISK_DEFINITION
from mmemd.knowledge import Claim, KnowledgeBase, UnknownTermError
from mmemd.service._auth import require_api_key
from mmemd.service._config import ServiceConfig
from mmemd.service._limits import ConcurrencyLimit
from mmemd.service._openapi import (
    EXAMPLE_BUNDLE,
    EXAMPLE_RECORD,
    FHIR_BUNDLE_REF,
    PATIENT_RECORD_REF,
    json_body,
)
from mmemd.service._problem import (
    INVALID_BUNDLE,
    INVALID_PARAMETER,
    INVALID_RECORD,
    MALFORMED_JSON,
    NOT_FOUND,
    NOT_IMPLEMENTED,
    UNKNOWN_TERM,
    UNSUPPORTED_MEDIA_TYPE,
    ApiProblem,
    busy,
    json_input_problem,
    problem_responses,
    record_errors,
)
from mmemd.service._work_pool import PoolFull

JSON: Final = "application/json"
FHIR_JSON: Final = "application/fhir+json"
API_VERSION: Final = "v1"


# --- response models (documentation; the routes serialise the library's own models) ------------------------------


class PublicClaim(Claim):
    """A knowledge-base claim as published (without the curation file it came from)."""

    file: SkipJsonSchema[str] = Field(default="", exclude=True)


class EvidenceHit(BaseModel):
    claim: PublicClaim
    score: float | None = Field(description="bm25 relevance (higher is better); null when filtering only")
    spans: dict[str, list[tuple[int, int]]] | None = Field(
        description="Character spans matching the query, per field (statement_en, statement_zh, quote)"
    )


class EvidenceList(BaseModel):
    versions: Versions
    query: str | None
    matched: Literal["all", "any", "none"] | None = Field(
        description="`all`: every query term matched; `any`: nothing matched all terms, claims matching any are "
        "shown; null when filtering only"
    )
    count: int
    results: list[EvidenceHit]


class SectionRef(BaseModel):
    number: str
    title_zh: str
    title_en: str


class SourceRef(BaseModel):
    id: str
    alias: str
    title_zh: str
    title_en: str
    section: SectionRef


class QuoteContext(BaseModel):
    before: str
    quote: str
    after: str


class ReferenceRef(BaseModel):
    number: int
    first_author: str | None


class EvidenceDetail(BaseModel):
    versions: Versions
    claim: PublicClaim
    source: SourceRef
    context: QuoteContext
    references: list[ReferenceRef]


class VersionInfo(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "api": "v1",
                    "versions": {
                        "mmemd": "0.1.0",
                        "knowledge_base": "kb-2026.11.0+sha256:15ed83371b2d",
                        "response_criteria": "IMWG-2016",
                        "high_risk_definition": "IMS-IMWG-2025",
                    },
                }
            ]
        }
    )

    api: Literal["v1"]
    versions: Versions


class Health(BaseModel):
    status: Literal["ok"]
    versions: Versions


class FhirAssessment(AdvisedAssessment):
    """The assessment of the record imported from the bundle, plus what the import could not map."""

    fhir_import_reasons: list[Any] = Field(
        default_factory=list,
        description="Unknown codes, unconvertible units and other resources the import did not use, one per item",
    )


# --- helpers ------------------------------------------------------------------------------------------------------


def versions(kb: KnowledgeBase) -> Versions:
    """The versions every response records (the same fields as an assessment's ``versions``)."""
    return Versions(
        mmemd=__version__,
        knowledge_base=kb.version,
        response_criteria=RESPONSE_CRITERIA_VERSION,
        high_risk_definition=HIGH_RISK_DEFINITION,
    )


def get_kb(request: Request) -> KnowledgeBase:
    kb = getattr(request.app.state, "kb", None)
    if kb is None:
        from mmemd import knowledge

        kb = request.app.state.kb = knowledge.load()
    return kb


KB = Annotated[KnowledgeBase, Depends(get_kb)]


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status_code=status, media_type=JSON)


def require_media_type(request: Request, *accepted: str) -> None:
    """415 unless the body is declared as one of ``accepted`` (parameters such as ``charset`` are ignored)."""
    declared = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if declared not in accepted:
        raise ApiProblem(
            415,
            type=UNSUPPORTED_MEDIA_TYPE,
            title="Unsupported media type",
            detail=f"send the body as {' or '.join(accepted)}",
            headers={"Accept-Post": ", ".join(accepted)},
        )


def invalid_record(exc: RecordError) -> ApiProblem:
    if any(p.code == "malformed_json" for p in exc.problems):
        return ApiProblem(
            400,
            type=MALFORMED_JSON,
            title="Malformed JSON",
            detail="the request body is not valid JSON",
            errors=record_errors(exc.problems),
        )
    n = len(exc.problems)
    return ApiProblem(
        422,
        type=INVALID_RECORD,
        title="Invalid patient record",
        detail=f"the {exc.kind} document has {n} problem{'s' if n != 1 else ''}",
        errors=record_errors(exc.problems),
    )


async def read_record(request: Request) -> Any:
    """The validated ``mmemd.patient/1`` record of the request body, or a 400/415/422 problem."""
    from mmemd.clinical.record import parse_record_json

    require_media_type(request, JSON)
    body = await request.body()
    try:
        return parse_record_json(body)
    except RecordError as exc:
        raise invalid_record(exc) from None


def _claim_json(claim: Claim) -> dict[str, Any]:
    return claim.model_dump(mode="json", exclude={"file"})


# --- routes -------------------------------------------------------------------------------------------------------

_BODY_ERRORS: Final = problem_responses(400, 401, 413, 415, 422, 500)
_GET_ERRORS: Final = problem_responses(400, 401, 500)
#: a route with a concurrency limit (docs/deploy.md) may answer 503 with Retry-After
_BUSY: Final = problem_responses(503)


def build_router(config: ServiceConfig) -> APIRouter:
    router = APIRouter()
    v1 = APIRouter(prefix=f"/{API_VERSION}", dependencies=[Depends(require_api_key(config))])
    # searches and look-ups run in the request thread pool, which /healthz and the other synchronous routes share
    evidence_limit = ConcurrencyLimit(config.evidence_concurrency, "evidence requests")

    @router.get(
        "/healthz",
        tags=["service"],
        summary="Liveness: the process is up and the knowledge base is loaded (no authentication)",
        response_model=Health,
    )
    def healthz(kb: KB) -> Response:
        return json_response({"status": "ok", "versions": versions(kb).model_dump()})

    @v1.get(
        "/version",
        tags=["service"],
        summary="Versions of the package, knowledge base and criteria",
        response_model=VersionInfo,
        responses=problem_responses(401, 500),
    )
    def get_version(kb: KB) -> Response:
        return json_response({"api": API_VERSION, "versions": versions(kb).model_dump()})

    @v1.post(
        "/assessments",
        tags=["assessment"],
        summary="Assess a patient record (mmemd.patient/1) → mmemd.assessment/1 with work-up, prognosis, options",
        description="EMD classification, ISS / R-ISS / R2-ISS, high-risk status, IMWG response, and the decision "
        "support sections, each citing knowledge-base claims. An invalid record is answered with 422 listing "
        "every problem with its JSON path; nothing is assessed from an invalid record.",
        response_model=None,
        responses={200: {"model": AdvisedAssessment, "description": "The assessment"}, **_BODY_ERRORS},
        openapi_extra=json_body(PATIENT_RECORD_REF, EXAMPLE_RECORD, JSON),
    )
    async def create_assessment(request: Request, kb: KB) -> Response:
        from mmemd.advice import assess_with_advice

        record = await read_record(request)
        # ~1-2 ms of pure CPU: run inline rather than pay a thread hop (p99 target).
        doc, _ = assess_with_advice(record, kb)
        return Response(doc.model_dump_json(by_alias=True), media_type=JSON)

    @v1.post(
        "/reports",
        tags=["assessment"],
        summary="Render the clinician report (HTML or PDF) for a patient record",
        response_model=None,
        responses={
            200: {
                "description": "The report: one self-contained HTML page, or a PDF",
                "content": {
                    "text/html": {"schema": {"type": "string"}},
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            **_BODY_ERRORS,
            **problem_responses(501, 503),
        },
        openapi_extra=json_body(PATIENT_RECORD_REF, EXAMPLE_RECORD, JSON),
    )
    async def create_report(
        request: Request,
        kb: KB,
        lang: Annotated[Literal["en", "zh"], Query(description="Report language")] = "en",
        fmt: Annotated[Literal["html", "pdf"], Query(alias="format", description="html or pdf")] = "html",
    ) -> Response:
        record = await read_record(request)
        try:
            from mmemd.report import render_report  # noqa: F401 - availability check; the pool renders
        except ImportError:
            raise ApiProblem(
                501, type=NOT_IMPLEMENTED, detail="report rendering is not available in this installation"
            ) from None
        # PDF rendering takes up to seconds: in the bounded report pool, so other requests keep flowing.
        try:
            out = await request.app.state.report_pool.render(record, lang, fmt, kb)
        except PoolFull:
            raise busy("Reports are busy", "every report slot is taken; retry shortly", 5) from None
        if fmt == "pdf":
            return Response(
                out if isinstance(out, bytes) else out.encode(),
                media_type="application/pdf",
                headers={"Content-Disposition": 'inline; filename="mmemd-report.pdf"'},
            )
        return Response(out, media_type="text/html; charset=utf-8")

    @v1.get(
        "/evidence",
        dependencies=[Depends(evidence_limit)],
        tags=["evidence"],
        summary="Search the evidence (q) and/or filter it by agent, endpoint, category, source, EMD-specificity",
        response_model=EvidenceList,
        responses={**_GET_ERRORS, **_BUSY},
    )
    def list_evidence(
        kb: KB,
        q: Annotated[
            str | None,
            Query(max_length=500, description="Words or Chinese terms: 泊马度胺, pomalidomide, 'CAR-T ORR'"),
        ] = None,
        agent: Annotated[
            str | None, Query(max_length=100, description="Agent, class or regimen, any name")
        ] = None,
        endpoint: Annotated[str | None, Query(max_length=100, description="Endpoint id, e.g. ORR")] = None,
        category: Annotated[str | None, Query(max_length=100, description="e.g. treatment_outcome")] = None,
        source: Annotated[
            str | None, Query(max_length=100, description="Source id or alias (emdtx, emdrev)")
        ] = None,
        emd_only: Annotated[bool, Query(description="Only EMD-specific claims")] = False,
        limit: Annotated[int, Query(ge=1, le=500, description="Most results")] = 20,
    ) -> Response:
        filtered = any(v is not None for v in (agent, endpoint, category, source)) or emd_only
        claims: list[Claim] | None = None
        if filtered or q is None:
            try:
                claims = kb.claims(
                    agent=agent, endpoint=endpoint, category=category, source=source, emd_only=emd_only
                )
            except UnknownTermError as exc:
                raise _unknown_term(
                    exc, agent=agent, endpoint=endpoint, category=category, source=source
                ) from None
        results: list[dict[str, Any]]
        matched: str | None = None
        if q is not None:
            allowed = None if claims is None else {c.id for c in claims}
            try:
                found = kb.search(q, limit=limit if allowed is None else len(kb))
            except ValueError as exc:
                raise ApiProblem(
                    400,
                    type=INVALID_PARAMETER,
                    title="Invalid request parameter",
                    detail=str(exc),
                    errors=[{"path": "query.q", "message": str(exc), "code": "empty_query"}],
                ) from None
            matched = found.matched
            hits = [h for h in found.hits if allowed is None or h.claim.id in allowed][:limit]
            results = [
                {"claim": _claim_json(h.claim), "score": round(h.score, 4), "spans": h.spans} for h in hits
            ]
        else:
            assert claims is not None
            results = [{"claim": _claim_json(c), "score": None, "spans": None} for c in claims[:limit]]
        return json_response(
            {
                "versions": versions(kb).model_dump(),
                "query": q,
                "matched": matched,
                "count": len(results),
                "results": results,
            }
        )

    @v1.get(
        "/evidence/{claim_id}",
        dependencies=[Depends(evidence_limit)],
        tags=["evidence"],
        summary="One claim in full: statements, numbers, the verbatim quote in context, source and references",
        response_model=EvidenceDetail,
        responses={**problem_responses(401, 404, 500), **_BUSY},
    )
    def get_evidence(
        kb: KB, claim_id: Annotated[str, Path(max_length=100, examples=["emdtx-7-03"])]
    ) -> Response:
        try:
            claim = kb.get(claim_id)
        except KeyError:
            raise ApiProblem(
                404,
                type=NOT_FOUND,
                title="Unknown claim",
                detail="no claim with this id in the knowledge base",
            ) from None
        src = kb.source(claim.source)
        before, quote, after = kb.context(claim, 80)
        section = next(s for s in src.sections if s.number == claim.section)
        refs = [
            {"number": n, "first_author": ref.first_author if (ref := src.reference(n)) else None}
            for n in claim.references
        ]
        return json_response(
            {
                "versions": versions(kb).model_dump(),
                "claim": _claim_json(claim),
                "source": {
                    "id": src.id,
                    "alias": src.alias,
                    "title_zh": src.title_zh,
                    "title_en": src.title_en,
                    "section": {
                        "number": section.number,
                        "title_zh": section.title_zh,
                        "title_en": section.title_en,
                    },
                },
                "context": {"before": before, "quote": quote, "after": after},
                "references": refs,
            }
        )

    @v1.post(
        "/fhir/assessments",
        tags=["assessment"],
        summary="Assess a FHIR R4 Bundle: imported to mmemd.patient/1, then assessed",
        description="The response is the assessment plus `fhir_import_reasons`: every code, unit or resource the "
        "import could not use (never dropped silently). A bundle that yields no usable record is answered with "
        "422 and the reasons.",
        response_model=None,
        responses={
            200: {"model": FhirAssessment, "description": "The assessment"},
            **_BODY_ERRORS,
            **problem_responses(501, 503),
        },
        openapi_extra=json_body(FHIR_BUNDLE_REF, EXAMPLE_BUNDLE, FHIR_JSON, JSON),
    )
    async def create_fhir_assessment(request: Request, kb: KB) -> Response:
        require_media_type(request, FHIR_JSON, JSON)
        body = await request.body()
        try:
            bundle = parse_json(body)
        except JsonInputError as exc:
            raise json_input_problem(
                exc.problems, invalid_type=INVALID_BUNDLE, invalid_title="Invalid FHIR Bundle"
            ) from None
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise ApiProblem(
                422,
                type=INVALID_BUNDLE,
                title="Not a FHIR Bundle",
                detail="the body must be a FHIR R4 Bundle resource",
                errors=[{"path": "$.resourceType", "message": 'expected "Bundle"', "code": "invalid"}],
            )
        try:
            from mmemd.fhir import bundle_to_record  # noqa: F401 - availability check; the pool imports
        except ImportError:
            raise ApiProblem(
                501, type=NOT_IMPLEMENTED, detail="the FHIR import is not available in this installation"
            ) from None
        from mmemd.advice import assess_with_advice

        try:
            # ~7-12 ms of fhir.resources validation: in the import pool, off the event loop
            result = await request.app.state.import_pool.bundle_to_record(bundle)
        except PoolFull:
            raise busy("FHIR imports are busy", "every FHIR import slot is taken; retry shortly", 1) from None
        except RecordError as exc:
            raise _unusable_bundle([], exc) from None
        except ValueError as exc:
            # mmemd.fhir.BundleError: not valid FHIR R4; each problem has a FHIRPath-like path and a message that
            # names elements and codes, not patient values (docs/fhir.md).
            raise _invalid_bundle(exc) from None
        reasons = _jsonable_reasons(getattr(result, "reasons", []))
        record = getattr(result, "record", None)
        if record is None:
            raise _unusable_bundle(reasons, None)
        try:
            doc, _ = assess_with_advice(record, kb)
        except RecordError as exc:
            raise _unusable_bundle(reasons, exc) from None
        payload = json.loads(doc.model_dump_json(by_alias=True))
        payload["fhir_import_reasons"] = reasons
        return json_response(payload)

    router.include_router(v1)
    return router


def _jsonable_reasons(reasons: Any) -> list[Any]:
    out: list[Any] = []
    for r in reasons or ():
        if isinstance(r, BaseModel):
            out.append(r.model_dump(mode="json"))
        elif isinstance(r, (str, int, float, bool, dict, list)) or r is None:
            out.append(r)
        else:
            out.append(str(r))
    return out


def _unknown_term(exc: UnknownTermError, **given: str | None) -> ApiProblem:
    """400 naming the parameter; the message lists the known values (``kb.claims`` puts them there)."""
    text = str(exc)
    param = next((n for n, v in given.items() if v is not None and text.startswith(f"unknown {n} ")), "query")
    return ApiProblem(
        400,
        type=UNKNOWN_TERM,
        title="Unknown filter value",
        detail=text,
        errors=[{"path": f"query.{param}", "message": text, "code": "unknown_value"}],
    )


def _invalid_bundle(exc: ValueError) -> ApiProblem:
    problems = getattr(exc, "problems", None) or []
    errors = [
        {
            "path": str(getattr(p, "path", "$")),
            "message": str(getattr(p, "message", p)),
            "code": "fhir_invalid",
        }
        for p in problems
    ] or [{"path": "$", "message": str(exc), "code": "fhir_invalid"}]
    return ApiProblem(
        422,
        type=INVALID_BUNDLE,
        title="Invalid FHIR bundle",
        detail=f"the body is not a valid FHIR R4 Bundle: {len(errors)} problem{'s' if len(errors) != 1 else ''}",
        errors=errors,
    )


def _unusable_bundle(reasons: list[Any], exc: RecordError | None) -> ApiProblem:
    return ApiProblem(
        422,
        type=INVALID_BUNDLE,
        title="Unusable FHIR bundle",
        detail="the bundle does not yield a valid mmemd.patient/1 record",
        errors=record_errors(exc.problems) if exc is not None else [],
        extra={"fhir_import_reasons": reasons},
    )
