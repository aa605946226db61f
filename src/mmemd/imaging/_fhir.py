"""Lesions from a FHIR R4 ``DiagnosticReport``'s text: ``presentedForm`` (text/plain, base64) and ``conclusion``.

A pure function for the FHIR import and the CDS card: it returns record-form lesions (``mmemd.patient/1``
``lesions[]`` items) and reasons shaped like the FHIR import's (``code``, ``path``, ``message_en``,
``message_zh``) — ``lesion_from_text`` on every lesion it adds, so the card can say which lesions came from text and
a clinician confirms them. Which reports are imaging reports is the caller's decision; a report whose text names no
lesion simply yields none. Messages carry site ids and FHIR paths, never the report's words.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Final

from mmemd.imaging._extract import extract

# code -> (English template, Chinese template), as in the FHIR import's reason table.
MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "lesion_from_text": (
        "lesion {lesion} ({site}) was read from the report text at {source}; a clinician must confirm it",
        "病灶 {lesion}（{site}）由报告文本 {source} 提取，须经临床医生确认",
    ),
    "unreadable_text": (
        "{source} is not readable text ({why}); it was not used",
        "{source} 不是可读文本（{why}），未使用",
    ),
    "no_report_text": (
        "the DiagnosticReport has neither a conclusion nor a text/plain presentedForm",
        "该 DiagnosticReport 既无 conclusion 也无 text/plain 的 presentedForm",
    ),
}


def _reason(code: str, path: str, **fields: object) -> dict[str, str]:
    en, zh = MESSAGES[code]
    return {"code": code, "path": path, "message_en": en.format(**fields), "message_zh": zh.format(**fields)}


def _texts(resource: dict[str, Any], reasons: list[dict[str, str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    forms = resource.get("presentedForm")
    for i, form in enumerate(forms if isinstance(forms, list) else []):
        path = f"DiagnosticReport.presentedForm[{i}]"
        if not isinstance(form, dict):
            continue
        ctype = str(form.get("contentType") or "")
        if not ctype.lower().startswith("text/plain") or "data" not in form:
            continue
        charset = "utf-8"
        for param in ctype.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            raw = base64.b64decode(str(form["data"]), validate=True)
            out.append((path, raw.decode(charset)))
        except (binascii.Error, ValueError, LookupError) as exc:
            why = "bad base64" if isinstance(exc, binascii.Error) else f"not {charset}"
            reasons.append(_reason("unreadable_text", path, source=path, why=why))
    conclusion = resource.get("conclusion")
    if isinstance(conclusion, str) and conclusion.strip():
        out.append(("DiagnosticReport.conclusion", conclusion))
    return out


def lesions_from_diagnostic_report(
    resource: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Record-form lesions read from a DiagnosticReport's text, and the reasons (``lesion_from_text`` on each).

    The presented form (the whole report) is read first; the conclusion (the impression) adds only lesions at a site
    and side not already found, so a lesion stated in both is one lesion. Lesion ids are ``<report id>-imaging-<n>``.
    """
    reasons: list[dict[str, str]] = []
    if not isinstance(resource, dict) or resource.get("resourceType") != "DiagnosticReport":
        raise ValueError(
            "expected a FHIR DiagnosticReport resource (a JSON object with resourceType DiagnosticReport)"
        )
    texts = _texts(resource, reasons)
    if not texts:
        if not reasons:
            reasons.append(_reason("no_report_text", "DiagnosticReport"))
        return [], reasons
    effective = resource.get("effectiveDateTime")
    fallback_date = effective[:10] if isinstance(effective, str) and len(effective) >= 10 else None
    prefix = str(resource.get("id") or "report")
    lesions: list[dict[str, Any]] = []
    seen: set[tuple[str, str | None]] = set()
    for path, text in texts:
        result = extract(text)
        date = result.study_date or fallback_date
        for les in result.lesions:
            key = (les.site, les.side)
            if key in seen or any(s == les.site and (les.side is None or d is None) for s, d in seen):
                continue
            seen.add(key)
            lid = f"{prefix}-imaging-{len(lesions) + 1}"
            frag: dict[str, Any] = {"id": lid, "site": les.site, "relation_to_bone": les.relation_to_bone}
            if result.modality:
                frag["modality"] = result.modality
            if les.change == "new" and date:
                frag["detected_on"] = date
            lesions.append(frag)
            reasons.append(_reason("lesion_from_text", path, lesion=lid, site=les.site, source=path))
    return lesions, reasons
