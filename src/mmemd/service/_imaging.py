"""``POST /v1/imaging/extractions``: lesions read from an imaging report's text (docs/imaging.md).

The body is either ``text/plain`` (the report; ``charset`` honoured, UTF-8 by default) or ``application/json``
``{"text": "...", "lang": "auto" | "zh" | "en"}``. The answer is ``mmemd.imaging/1`` — nothing is stored, and the
``record_patch`` inside is marked for a clinician to confirm. A report with no finding is answered normally; input
that is not text is a 400/415/422 problem with the JSON path of the bad field.
"""

from __future__ import annotations

import json
from typing import Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mmemd.imaging import ImagingExtraction, ImagingInputError, extract
from mmemd.service._auth import require_api_key
from mmemd.service._config import ServiceConfig
from mmemd.service._problem import MALFORMED_JSON, UNSUPPORTED_MEDIA_TYPE, ApiProblem, problem_responses

INVALID_IMAGING_REQUEST: Final = "urn:mmemd:problem:invalid-imaging-request"
_JSON: Final = "application/json"
_TEXT: Final = "text/plain"
_LANGS: Final = ("auto", "zh", "en")
_EXAMPLE_TEXT: Final = (
    "检查日期：2024-07-03\n检查所见：左肾上腺见结节，大小约1.6cm×1.3cm，前片未见。\n"
    "诊断意见：左肾上腺新发结节，考虑浆细胞瘤。"
)
_REQUEST_SCHEMA: Final = {
    "type": "object",
    "required": ["text"],
    "additionalProperties": False,
    "properties": {
        "text": {"type": "string", "description": "The report text (Chinese or English)."},
        "lang": {"type": "string", "enum": list(_LANGS), "default": "auto"},
    },
}
_OPENAPI_BODY: Final = {
    "requestBody": {
        "required": True,
        "content": {
            _JSON: {"schema": _REQUEST_SCHEMA, "example": {"text": _EXAMPLE_TEXT, "lang": "auto"}},
            _TEXT: {"schema": {"type": "string"}, "example": _EXAMPLE_TEXT},
        },
    }
}


def _invalid(path: str, message: str, code: str, accepted: list[str] | None = None) -> ApiProblem:
    error: dict[str, Any] = {"path": path, "message": message, "code": code}
    if accepted is not None:
        error["accepted"] = accepted
    return ApiProblem(
        422,
        type=INVALID_IMAGING_REQUEST,
        title="Invalid imaging report request",
        detail=message,
        errors=[error],
    )


def _charset(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"


async def _read(request: Request) -> tuple[str, str]:
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    body = await request.body()
    if media == _TEXT:
        try:
            return body.decode(_charset(content_type)), "auto"
        except (UnicodeDecodeError, LookupError):
            raise _invalid("$", f"the body is not {_charset(content_type)} text", "not_text") from None
    if media != _JSON:
        raise ApiProblem(
            415,
            type=UNSUPPORTED_MEDIA_TYPE,
            title="Unsupported media type",
            detail=f"send the body as {_JSON} or {_TEXT}",
            headers={"Accept-Post": f"{_JSON}, {_TEXT}"},
        )
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiProblem(
            400, type=MALFORMED_JSON, title="Malformed JSON", detail="the request body is not valid JSON"
        ) from None
    if not isinstance(doc, dict):
        raise _invalid("$", "expected a JSON object with a text field", "type")
    unknown = sorted(set(doc) - {"text", "lang"})
    if unknown:
        raise _invalid(f"$.{unknown[0]}", f"unknown field {unknown[0]!r}", "unknown_field", ["text", "lang"])
    text = doc.get("text")
    if not isinstance(text, str):
        what = "missing" if "text" not in doc else f"a {type(text).__name__}, not a string"
        raise _invalid("$.text", f"text is {what}", "missing" if "text" not in doc else "type")
    lang = doc.get("lang", "auto")
    if lang not in _LANGS:
        raise _invalid("$.lang", f"lang must be one of {', '.join(_LANGS)}", "unknown_value", list(_LANGS))
    return text, lang


async def create_extraction(request: Request) -> Response:
    text, lang = await _read(request)
    try:
        result = extract(text, lang=lang)  # type: ignore[arg-type]
    except ImagingInputError as exc:
        raise _invalid("$.text", str(exc), "too_long") from None
    return Response(
        json.dumps(result.model_dump(mode="json"), ensure_ascii=False), status_code=200, media_type=_JSON
    )


def build_router(config: ServiceConfig) -> APIRouter:
    router = APIRouter(prefix="/v1", dependencies=[Depends(require_api_key(config))])
    router.add_api_route(
        "/imaging/extractions",
        create_extraction,
        methods=["POST"],
        tags=["imaging"],
        summary="Read lesions from an imaging report's text → mmemd.imaging/1 (to be confirmed by a clinician)",
        description="Chinese or English PET-CT, CT, MRI or ultrasound report text in; lesions (site, side, relation "
        "to bone, size, SUVmax, change, certainty) with the character spans they came from, and a record patch "
        "marked as extracted from text, out. Nothing is stored.",
        response_model=None,
        responses={
            200: {"model": ImagingExtraction, "description": "The lesions read"},
            **problem_responses(400, 401, 413, 415, 422, 500),
        },
        openapi_extra=_OPENAPI_BODY,
    )
    return router
