"""Conditions -> diagnosis date and phase; plasmacytoma Conditions and BodyStructures -> ``lesions``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from mmemd.fhir import _codes as C
from mmemd.fhir._import._state import ImportState
from mmemd.fhir._resources import Entry, code_label, codings, extension, parse_date, sub_extensions, texts

_EXCLUDED_COND_VERIFICATION: Final = frozenset({"refuted", "entered-in-error"})
_LESION_FIELDS: Final = {
    "relation_to_bone": frozenset({"none", "arising_from_bone", "intraosseous"}),
    "biopsy_proven": None,
    "detected_at": frozenset({"diagnosis", "relapse"}),
    "modality": frozenset({"PET-CT", "CT", "MRI", "ultrasound", "physical_exam"}),
    "cns": None,
    "confirmed_by": frozenset({"biopsy", "cytology", "csf_flow_cytometry", "imaging_only"}),
}


def _condition_kind(e: Entry) -> tuple[str, str | None] | None:
    for system, code, _ in codings(e.resource.get("code")):
        if system in (C.ICD10, C.ICD10_CM):
            k = C.icd10_kind(code)
            if k is not None:
                return k
        elif system == C.SNOMED and code == C.SNOMED_MULTIPLE_MYELOMA:
            return "myeloma", None
        elif system == C.MMEMD and code == C.PLASMACYTOMA_CODE:
            return "lesion", None
    return None


def _onset(e: Entry) -> date | None:
    r = e.resource
    v = r.get("onsetDateTime")
    if v is None and isinstance(r.get("onsetPeriod"), Mapping):
        v = r["onsetPeriod"].get("start")
    return parse_date(v)[0]


def map_conditions(
    conditions: list[Entry], structures: list[Entry], st: ImportState
) -> tuple[date | None, str | None, list[dict[str, Any]]]:
    diagnoses: list[tuple[int, Entry, str | None]] = []  # (priority, entry, remission digit)
    lesion_entries: list[Entry] = []
    for e in conditions:
        ver = codings(e.resource.get("verificationStatus"))
        if any(c in _EXCLUDED_COND_VERIFICATION for _, c, _ in ver):
            st.why("status_excluded", f"{e.path}.verificationStatus", status=ver[0][1])
            continue
        kind = _condition_kind(e)
        if kind is None:
            st.why("out_of_scope_condition", f"{e.path}.code", code=code_label(e.resource.get("code")))
            continue
        k, digit = kind
        has_site = bool(e.resource.get("bodySite")) or extension(e.resource, C.EXT_LESION) is not None
        if k == "lesion" or (k in ("extramedullary_plasmacytoma", "solitary_plasmacytoma") and has_site):
            lesion_entries.append(e)
        elif k in ("myeloma", "pcl"):
            diagnoses.append((0, e, digit))
            if k == "pcl":
                st.why("pcl_coded", f"{e.path}.code")
        else:
            diagnoses.append((1, e, digit))  # a plasmacytoma coded as the disease (no body site)

    dx_date: date | None = None
    phase: str | None = None
    if not diagnoses:
        st.why("no_diagnosis", "Bundle")
    else:
        best = min(diagnoses, key=lambda d: (d[0], _onset(d[1]) or date.max))
        for d in diagnoses:
            if d is not best and d[0] == best[0]:
                st.why("multiple_diagnoses", d[1].path)
        dx_date = _onset(best[1])
        if dx_date is None:
            raw = best[1].resource.get("onsetDateTime")
            if raw is not None:
                st.why("partial_date", f"{best[1].path}.onsetDateTime", value=raw)
        relapse = False
        for _, e, digit in diagnoses:
            clinical = {c for _, c, _ in codings(e.resource.get("clinicalStatus"))}
            # ICD-10-CM 5th character 2 = "in relapse" (clinical-criteria.md §4.1); FHIR clinicalStatus relapse or
            # recurrence says the same.
            if digit == "2" or clinical & {"relapse", "recurrence"}:
                relapse = True
        phase = "relapsed_refractory" if relapse else "newly_diagnosed"
        if not relapse:
            st.why("phase_default", f"{best[1].path}.clinicalStatus")

    lesions: list[dict[str, Any]] = []
    seen: set[str] = set()
    for e in lesion_entries:
        les = _lesion(e, st)
        if les["id"] in seen:
            continue
        seen.add(les["id"])
        lesions.append(les)
    for e in structures:
        if e.ref and e.ref in st.lesion_ids:
            continue
        les = _lesion(e, st)
        if les["id"] not in seen:
            seen.add(les["id"])
            lesions.append(les)
    return dx_date, phase, lesions


def _lesion(e: Entry, st: ImportState) -> dict[str, Any]:
    r = e.resource
    lid = str(r.get("id") or f"lesion-{len(st.lesion_ids) + 1}")
    for ref in (e.ref, e.full_url):
        if ref:
            st.lesion_ids[ref] = lid
    les: dict[str, Any] = {"id": lid}
    sites = r.get("bodySite") or []
    if e.rtype == "BodyStructure":
        sites = [r["location"]] if r.get("location") else []
    site_path = f"{e.path}.{'location' if e.rtype == 'BodyStructure' else 'bodySite'}"
    for cc in sites:
        site = None
        for system, code, _ in codings(cc):
            if system == C.SNOMED and code in C.SNOMED_SITES:
                site = C.SNOMED_SITES[code]
                break
        if site is None:
            for t in texts(cc):
                site = C.site_from_text(t)
                if site:
                    break
        if site is not None:
            les["site"] = site
            break
        st.why("unknown_site", site_path, site=code_label(cc))
    ext = extension(r, C.EXT_LESION)
    values = sub_extensions(ext) if ext else {}
    for name, allowed in _LESION_FIELDS.items():
        if name not in values:
            continue
        v = values[name]
        if allowed is None:
            if isinstance(v, bool):
                les[name] = v
            else:
                st.why("value_type", f"{e.path}.extension", field=f"lesion {name}", expected="valueBoolean")
        elif v in allowed:
            les[name] = v
        else:
            st.why(
                "unknown_value",
                f"{e.path}.extension",
                field=f"lesion {name}",
                value=v,
                accepted=sorted(allowed),
            )
    onset = _onset(e) if e.rtype == "Condition" else None
    if onset is not None:
        les["detected_on"] = onset.isoformat()
    order = (
        "id",
        "site",
        "relation_to_bone",
        "biopsy_proven",
        "detected_at",
        "detected_on",
        "modality",
        "cns",
    )
    return {k: les[k] for k in (*order, "confirmed_by") if k in les}
