"""Imaging DiagnosticReports -> ``lesions`` and plasmacytoma measurements, read from the report's text.

An imaging report (``category`` or ``code`` in ``fhir/data/reports.yaml``, or a text naming the modality) is read
through :func:`mmemd.imaging.read_diagnostic_report` — ``presentedForm`` (text/plain, base64) and ``conclusion``.
Nothing read from text is confirmed: each lesion carries the reason ``lesion_from_text`` and each measurement or
"new lesion" statement ``assessment_from_text``, so the clinician (and the CDS card) can see which values came from
text. A lesion at a site a coded lesion already has is the coded one (structured data wins). A report whose text
says explicitly that there is no extramedullary lesion (the reading's ``no_extramedullary_lesion``, e.g. "No
extramedullary disease", "未见髓外病灶") is remembered: when no resource gives a lesion, the record's ``lesions`` is
then known to be empty (a report merely silent about lesions leaves them unknown). Any other DiagnosticReport stays
unmapped, with a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from mmemd.fhir import _tables as T
from mmemd.fhir._import._state import ImportState
from mmemd.fhir._import.observation import issued_date
from mmemd.fhir._resources import Entry, codings, parse_date, texts

if TYPE_CHECKING:
    from mmemd.imaging import DiagnosticReportReading

# Statuses of a report whose content may be used (R4 DiagnosticReport.status: partial/preliminary are not final,
# registered has no content yet, cancelled / entered-in-error / unknown are not results).
_USABLE_STATUS: Final = frozenset({"final", "amended", "corrected", "appended"})


def is_imaging(resource: Mapping[str, Any]) -> bool:
    categories = resource.get("category")
    concepts = [*(categories if isinstance(categories, list) else [categories]), resource.get("code")]
    report_codings = [c for cc in concepts for c in codings(cc)]
    report_texts = [t for cc in concepts for t in texts(cc)]
    return T.is_imaging_report(report_codings, report_texts)


def map_imaging_reports(
    reports: list[Entry], lesions: list[dict[str, Any]], st: ImportState
) -> list[dict[str, Any]]:
    """The lesions read from the reports' text, for the caller to add to ``lesions`` (the coded ones); their
    measurements and "new lesion" statements become assessment facts on the study date."""
    coded_sites = {les.get("site") for les in lesions if les.get("site")}
    used_ids = {str(les["id"]) for les in lesions if "id" in les}
    out: list[dict[str, Any]] = []
    for n, e in enumerate(reports):
        r = e.resource
        status = r.get("status")
        if status not in _USABLE_STATUS:
            st.why("status_excluded", f"{e.path}.status", status=status)
            continue
        from mmemd.imaging import read_diagnostic_report

        resource = dict(r)
        if not isinstance(resource.get("id"), str) or resource["id"] in used_ids:
            resource["id"] = f"report{n + 1}"
        reading = read_diagnostic_report(resource)
        kept: dict[str, str] = {}  # lesion id -> site, for the measurements below
        for note in reading.notes:
            path = e.path + note.path
            if note.code == "lesion_from_text":
                continue  # given below, with the lesion it names
            if note.code == "unreadable_text":
                st.why("unreadable_text", path, why=note.fields.get("why", ""))
            else:
                st.why("no_report_text", path)
        note_paths = {
            n.fields.get("lesion"): e.path + n.path for n in reading.notes if n.code == "lesion_from_text"
        }
        for les in reading.lesions:
            path = note_paths.get(les["id"], e.path)
            if les["site"] in coded_sites:
                st.why("lesion_text_duplicate", path, site=les["site"], site_zh=_site_zh(les["site"]))
                continue
            used_ids.add(les["id"])
            kept[les["id"]] = les["site"]
            st.why(
                "lesion_from_text", path, lesion=les["id"], site=les["site"], site_zh=_site_zh(les["site"])
            )
            out.append(les)
        if not reading.lesions and not reading.notes:
            if reading.no_extramedullary_lesion is True:
                st.no_emd_reports.append(e.path)
            else:
                st.why("no_lesion_in_report", e.path)
        _assessment_facts(e, r, reading, kept, st)
    return out


def _assessment_facts(
    e: Entry, r: Mapping[str, Any], reading: DiagnosticReportReading, kept: dict[str, str], st: ImportState
) -> None:
    measures = [m for m in reading.plasmacytomas if m["lesion"] in kept]
    if not measures and reading.new_lesion is None:
        return
    day, _ = parse_date(reading.study_date)
    if day is None:
        day, _ = parse_date(r.get("effectiveDateTime") or (r.get("effectivePeriod") or {}).get("start"))
    if day is None and (day := issued_date(r)) is not None:
        st.why("date_from_issued", f"{e.path}.issued")
    if day is None:
        st.why("no_date", f"{e.path}.effective[x]")
        return
    for m in measures:
        value = {
            "lesion": m["lesion"],
            "longest_cm": Decimal(m["longest_cm"]),
            "perpendicular_cm": Decimal(m["perpendicular_cm"]),
        }
        st.add("plasmacytomas", day, value, e.path)
        lid = m["lesion"]
        st.why(
            "assessment_from_text",
            e.path,
            what=f"plasmacytoma size of {lid}",
            what_zh=f"浆细胞瘤 {lid} 大小",
            date=day,
        )
    if reading.new_lesion is not None:
        st.add("new_lesion", day, reading.new_lesion, e.path)
        st.why("assessment_from_text", e.path, what="new lesion", what_zh="新发病灶判断", date=day)


def _site_zh(site: str) -> str:
    """The site's Chinese name (the knowledge-base vocabulary), for the Chinese reason message."""
    from mmemd.knowledge import vocabulary

    term = vocabulary().sites.get(site)
    return term.zh if term is not None else site
