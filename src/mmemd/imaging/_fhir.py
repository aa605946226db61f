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
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from mmemd.imaging._extract import extract

_ZERO: Final = Decimal(0)

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


def _reason(code: str, path: str, **fields: str) -> dict[str, str]:
    en, zh = MESSAGES[code]
    return {"code": code, "path": path, "message_en": en.format(**fields), "message_zh": zh.format(**fields)}


def _texts(resource: dict[str, Any], reasons: list[dict[str, Any]]) -> list[tuple[str, str]]:
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
            reasons.append({"code": "unreadable_text", "path": path, "fields": {"why": why}})
    conclusion = resource.get("conclusion")
    if isinstance(conclusion, str) and conclusion.strip():
        out.append(("DiagnosticReport.conclusion", conclusion))
    return out


@dataclass(frozen=True, slots=True)
class ReportNote:
    """One reason of a report reading, before rendering: ``path`` is relative to the DiagnosticReport."""

    code: str
    path: str
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class DiagnosticReportReading:
    """Everything the FHIR import takes from one report's text, ids already the record's.

    ``plasmacytomas`` are the extractor's record-patch measurements (``lesion``, ``longest_cm``,
    ``perpendicular_cm`` as exact decimals); ``new_lesion`` is true when any text names a new lesion, false when a
    text says there is none, else None; ``study_date`` the report's own date, else ``effectiveDateTime``;
    ``no_extramedullary_lesion`` the extractor's flag over the report's texts: true when any text states there is no
    extramedullary lesion, else false when a text read one, else None (no text says).
    """

    lesions: list[dict[str, Any]]
    notes: list[ReportNote]
    plasmacytomas: list[dict[str, Any]] = field(default_factory=list)
    new_lesion: bool | None = None
    study_date: str | None = None
    no_extramedullary_lesion: bool | None = None


def read_diagnostic_report(resource: dict[str, Any]) -> DiagnosticReportReading:
    """Record-form lesions, the plasmacytoma measurements and "new lesion" read from a DiagnosticReport's text.

    The presented form (the whole report) is read first; the conclusion (the impression) adds only lesions at a site
    and side not already found, so a lesion stated in both is one lesion. Lesion ids are ``<report id>-imaging-<n>``.
    """
    if not isinstance(resource, dict) or resource.get("resourceType") != "DiagnosticReport":
        raise ValueError(
            "expected a FHIR DiagnosticReport resource (a JSON object with resourceType DiagnosticReport)"
        )
    raw: list[dict[str, Any]] = []
    texts = _texts(resource, raw)
    notes = [ReportNote(r["code"], r["path"].removeprefix("DiagnosticReport"), r["fields"]) for r in raw]
    if not texts:
        if not notes:
            notes.append(ReportNote("no_report_text", "", {}))
        return DiagnosticReportReading([], notes)
    effective = resource.get("effectiveDateTime")
    fallback_date = effective[:10] if isinstance(effective, str) and len(effective) >= 10 else None
    from mmemd.knowledge import vocabulary  # lazily, as the extractor does: the CLI's start-up time

    prefix = str(resource.get("id") or "report")
    cns = vocabulary().cns_site_ids
    lesions: list[dict[str, Any]] = []
    measured: list[dict[str, Any]] = []
    seen: set[tuple[str, str | None]] = set()
    new_flags: list[bool] = []
    no_emd_flags: list[bool] = []
    study: str | None = None
    for path, text in texts:
        result = extract(text)
        date = result.study_date or fallback_date
        study = study or result.study_date
        if result.new_lesion is not None:
            new_flags.append(result.new_lesion)
        if result.no_extramedullary_lesion is not None:
            no_emd_flags.append(result.no_extramedullary_lesion)
        ids: dict[str, str] = {}
        for les in result.lesions:
            key = (les.site, les.side)
            if key in seen or any(s == les.site and (les.side is None or d is None) for s, d in seen):
                continue
            seen.add(key)
            lid = f"{prefix}-imaging-{len(lesions) + 1}"
            ids[les.id] = lid
            frag: dict[str, Any] = {"id": lid, "site": les.site, "relation_to_bone": les.relation_to_bone}
            if result.modality:
                frag["modality"] = result.modality
            if les.change == "new" and date:
                frag["detected_on"] = date
            if les.site in cns:
                frag["cns"] = True
            lesions.append(frag)
            notes.append(
                ReportNote(
                    "lesion_from_text",
                    path.removeprefix("DiagnosticReport"),
                    {"lesion": lid, "site": les.site},
                )
            )
        assessment = result.record_patch.get("assessment") or {}
        for m in assessment.get("plasmacytomas") or []:
            if m["lesion"] in ids:
                les_obj = next(x for x in result.lesions if x.id == m["lesion"])
                dims = les_obj.size_cm if les_obj.size_cm and len(les_obj.size_cm) == 2 else [_ZERO, _ZERO]
                measured.append(
                    {"lesion": ids[m["lesion"]], "longest_cm": dims[0], "perpendicular_cm": dims[1]}
                )
    new_lesion = True if any(new_flags) else (False if new_flags else None)
    no_emd = True if any(no_emd_flags) else (False if no_emd_flags else None)
    return DiagnosticReportReading(lesions, notes, measured, new_lesion, study or fallback_date, no_emd)


def lesions_from_diagnostic_report(
    resource: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Record-form lesions read from a DiagnosticReport's text, and the reasons (``lesion_from_text`` on each).

    The presented form (the whole report) is read first; the conclusion (the impression) adds only lesions at a site
    and side not already found, so a lesion stated in both is one lesion. Lesion ids are ``<report id>-imaging-<n>``.
    """
    reading = read_diagnostic_report(resource)
    reasons = []
    for n in reading.notes:
        path = "DiagnosticReport" + n.path
        reasons.append(_reason(n.code, path, source=path, **n.fields))
    return reading.lesions, reasons
