"""The clinician web page: ``/``, its static assets, the packaged example records and the
vocabulary the page's form and evidence filters need.

Everything the page loads comes from this package (no CDN, no web font): the Content-Security-Policy below forbids
every other origin. The page itself holds no patient data; records go from the browser to ``/v1`` (API key or the
config's explicit ``local_mode``), so the routes here need no key: they serve the page, synthetic example records and
the public knowledge-base vocabulary.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Final, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from mmemd.service._auth import require_api_key
from mmemd.service._config import ServiceConfig
from mmemd.service._problem import problem_responses

#: served assets and their content types; anything else under /static is a 404 (no directory listing, no traversal)
STATIC_TYPES: Final[dict[str, str]] = {
    "app.js": "text/javascript; charset=utf-8",
    "i18n.js": "text/javascript; charset=utf-8",
    "imaging.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}

#: Only this origin. ``style-src 'unsafe-inline'`` and ``img-src data:`` are for the report shown in a sandboxed
#: ``srcdoc`` iframe, which inherits this policy (HTML spec, "policy container"): the report is one self-contained file
#: with inline CSS and data-URI / inline SVG charts. Scripts stay ``'self'`` only, and the iframe's
#: ``sandbox`` attribute runs none at all.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)

SECURITY_HEADERS: Final[dict[str, str]] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}

_PROBLEM: Final = "application/problem+json"


def _static_root() -> Any:
    return resources.files("mmemd.service") / "static"


def _examples_root() -> Any:
    return resources.files("mmemd") / "examples"


@cache
def _asset(name: str) -> bytes:
    data: bytes = (_static_root() / name).read_bytes()
    return data


@cache
def example_names() -> tuple[str, ...]:
    """The packaged example records (copies of the repository's ``examples/*.json``), by file stem."""
    return tuple(
        sorted(p.name[: -len(".json")] for p in _examples_root().iterdir() if p.name.endswith(".json"))
    )


@cache
def _example_text(name: str) -> str:
    text: str = (_examples_root() / f"{name}.json").read_text(encoding="utf-8")
    return text


def example_record(name: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(_example_text(name))
    return record


def _summary(name: str) -> dict[str, Any]:
    rec = example_record(name)
    sites = [les.get("site") for les in rec.get("lesions") or [] if les.get("site")]
    return {"name": name, "id": rec.get("id"), "phase": rec.get("phase"), "sites": sites}


def _versions() -> dict[str, str]:
    """The same fields as an assessment's ``versions`` (docs/record.md; ``mmemd.clinical.assessment.Versions``)."""
    from mmemd.clinical.assessment import current_versions

    return current_versions().model_dump()


def _units() -> dict[str, list[str]]:
    """Accepted units per lab, from the record model itself so the page can never offer a unit the engine rejects."""
    from mmemd.clinical.record import PatientRecord

    schema = PatientRecord.model_json_schema()
    defs = schema["$defs"]
    out: dict[str, list[str]] = {}
    for lab, spec in defs["Labs"]["properties"].items():
        ref = next(a["$ref"] for a in spec["anyOf"] if "$ref" in a).rsplit("/", 1)[-1]
        unit = defs[ref]["properties"]["unit"]
        accepted = list(unit["enum"]) if "enum" in unit else [unit["const"]]
        # one entry per unit: the model also accepts µ/μ/u spellings of "micro"; offer the first spelling only
        seen: dict[str, str] = {}
        for u in accepted:
            seen.setdefault(u.replace("μ", "u").replace("µ", "u"), u)
        out[lab] = list(seen.values())
    return out


@cache
def vocabulary() -> dict[str, Any]:
    """Bilingual labels for the page's selectors: EMD sites, agents, endpoints, claim categories, lab units."""
    from mmemd import knowledge
    from mmemd.knowledge._models import Category

    kb = knowledge.load()
    v = kb.vocabulary

    def terms(table: Any) -> list[dict[str, str]]:
        return [{"id": t.id, "en": t.en, "zh": t.zh} for t in table.values()]

    return {
        "sites": terms(v.sites),
        "agents": terms(v.agents) + terms(v.procedures),
        "endpoints": terms(v.endpoints),
        "categories": [c.value for c in Category],
        "sources": [
            {
                "id": src.id,
                "alias": src.alias,
                "title_en": src.title_en,
                "title_zh": src.title_zh,
                "sections": {sec.number: {"en": sec.title_en, "zh": sec.title_zh} for sec in src.sections},
            }
            for src in kb.sources()
        ],
        "units": _units(),
        "versions": _versions(),
        **_publications(kb),
    }


def _publications(kb: Any) -> dict[str, Any]:
    """What the page cites in place of the knowledge base's keys (it numbers the claims a summary cites and lists
    each number's publication): every claim's publication as the report words it, each seed review by number and
    title, and each rule citation key as author and year."""
    from mmemd.report._citations import GROUPS, REFERENCES, review_reference, short_cite
    from mmemd.report._document import publication
    from mmemd.report._model import evidence_row

    rows = [evidence_row(c, kb) for c in kb.claims()]
    keys = [*REFERENCES, *GROUPS]
    return {
        "publications": {r.claim: {"en": publication(r, "en"), "zh": publication(r, "zh")} for r in rows},
        "reviews": {
            src.alias: {"en": review_reference(src.alias, "en"), "zh": review_reference(src.alias, "zh")}
            for src in kb.sources()
        },
        "references": {k: {"en": short_cite(k, "en"), "zh": short_cite(k, "zh")} for k in keys},
    }


def _not_found(detail: str, param: str) -> Response:
    from mmemd.service._problem import NOT_FOUND, problem_response

    return problem_response(
        404,
        type=NOT_FOUND,
        title="Not Found",
        detail=detail,
        errors=[{"path": f"path.{param}", "message": detail, "code": "not_found"}],
    )


def build_router(config: ServiceConfig) -> APIRouter:
    router = APIRouter()

    @router.get("/", include_in_schema=False)
    def index() -> Response:
        return Response(_asset("index.html"), media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)

    @router.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in STATIC_TYPES:
            return _not_found(f"no static asset {name!r}", "name")
        return Response(_asset(name), media_type=STATIC_TYPES[name], headers=SECURITY_HEADERS)

    @router.get("/examples", tags=["web"], summary="List the packaged example patient records")
    def examples() -> dict[str, Any]:
        return {"examples": [_summary(n) for n in example_names()], "versions": _versions()}

    @router.get(
        "/examples/{name}",
        tags=["web"],
        summary="One packaged example record (mmemd.patient/1, synthetic)",
        responses={404: {"description": "unknown example", "content": {_PROBLEM: {}}}},
    )
    def example(name: str) -> Response:
        if name not in example_names():
            return _not_found(f"unknown example {name!r}; known: {', '.join(example_names())}", "name")
        return Response(_example_text(name), media_type="application/json")

    @router.get("/ui/vocabulary", tags=["web"], summary="Labels (en/zh) and units for the web page's form")
    def ui_vocabulary() -> dict[str, Any]:
        return vocabulary()

    @router.post(
        "/ui/reasons",
        tags=["web"],
        summary="The high-risk features and how the engine decided, in the reader's language, for the web page",
        description="A patient record (mmemd.patient/1) in, its assessment's high-risk features and decision lines "
        "out: in English the engine's own texts, in Chinese the clinician report's Chinese lines (the engine words "
        "its reasons in English). Records need the API key, as under /v1.",
        dependencies=[Depends(require_api_key(config))],
        # The same answers as a record posted under /v1 (it is read by the same function).
        responses=problem_responses(400, 401, 413, 415, 422, 500),
    )
    async def ui_reasons(request: Request, lang: Literal["en", "zh"] = Query("en")) -> dict[str, Any]:
        return clinician_texts(await _read_record(request), lang)

    return router


async def _read_record(request: Any) -> Any:
    from mmemd.service._rest import read_record

    return await read_record(request)


def clinician_texts(record: Any, lang: Literal["en", "zh"]) -> dict[str, Any]:
    """What the page shows of the engine's wording, in ``lang`` (rendered as the report renders it)."""
    from mmemd.clinical.assessment import assess
    from mmemd.report._basis import clinician_reasons, high_risk_texts

    a = assess(record)
    return {
        "lang": lang,
        "high_risk_features": high_risk_texts(record, a.staging.high_risk_features, lang),
        "reasons": clinician_reasons(record, a, lang),
        "versions": a.versions.model_dump(mode="json"),  # as every output: what produced these lines
    }
