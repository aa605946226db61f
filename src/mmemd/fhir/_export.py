"""Assessment results -> FHIR R4 Observations (validated with fhir.resources R4B).

ISS and R-ISS follow HL7 mCODE's Myeloma ISS/RISS Stage profiles: code NCIt C139007 / C141392, value NCIt
C70658-C70660 / C141394-C141396. R2-ISS, high risk, the EMD classification and the IMWG response have no standard
code and use the mmemd code system (docs/fhir.md). A result that could not be determined is still emitted, with
``dataAbsentReason`` ``unknown`` and the possible values in a note — never silently left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from mmemd.fhir import _codes as C


def _ncit(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": C.NCIT, "code": code, "display": display}]}


def _mm(code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": C.MMEMD, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _unknown() -> dict[str, Any]:
    return {"coding": [{"system": C.DATA_ABSENT, "code": "unknown", "display": "Unknown"}]}


def _as_dict(assessment: Any) -> dict[str, Any]:
    if isinstance(assessment, Mapping):
        return dict(assessment)
    dumped: dict[str, Any] = assessment.model_dump(mode="json", by_alias=True)
    return dumped


def assessment_to_observations(
    assessment: Any,
    patient_ref: str = "Patient/unknown",
    *,
    effective: date | None = None,
) -> list[dict[str, Any]]:
    """FHIR R4 Observations (JSON dicts, each validated with fhir.resources R4B) for an ``mmemd.assessment/1``.

    ``assessment``: an :class:`~mmemd.clinical.Assessment` or its JSON dict. ``effective`` defaults to the date of
    the latest response assessment (omitted when there is none). Each Observation's ``method.text`` records the
    versions that produced it (package, knowledge base, criteria).
    """
    a = _as_dict(assessment)
    v = a["versions"]
    method = {
        "text": f"mmemd {v['mmemd']}; {v['knowledge_base']}; {v['response_criteria']}; {v['high_risk_definition']}"
    }
    timeline = a["response"].get("timeline") or []
    day = effective.isoformat() if effective else (timeline[-1]["date"] if timeline else None)
    pid = a["patient_id"]
    out: list[dict[str, Any]] = []

    def obs(key: str, code: dict[str, Any], value: dict[str, Any], **extra: Any) -> None:
        res: dict[str, Any] = {
            "resourceType": "Observation",
            "id": f"{pid}-{key}".replace("_", "-")[:64],
            "status": "final",
            "code": code,
            "subject": {"reference": patient_ref},
            "method": method,
            **value,
            **extra,
        }
        if day:
            res["effectiveDateTime"] = day
        out.append(res)

    s = a["staging"]
    iss = s.get("iss")
    value: dict[str, Any]
    if iss:
        value = {
            "valueCodeableConcept": _ncit(C.NCIT_ISS_STAGES[iss], f"ISS Stage {iss} Plasma Cell Myeloma")
        }
    else:
        possible = ", ".join(s.get("iss_possible") or [])
        value = {"dataAbsentReason": _unknown(), "note": [{"text": f"possible ISS stages: {possible}"}]}
    obs("iss", _ncit(C.NCIT_ISS, "International Staging System Stage"), value)

    riss = s.get("r_iss")
    if riss:
        value = {
            "valueCodeableConcept": _ncit(C.NCIT_RISS_STAGES[riss], f"RISS Stage {riss} Plasma Cell Myeloma")
        }
    else:
        possible = ", ".join(s.get("r_iss_possible") or [])
        value = {"dataAbsentReason": _unknown(), "note": [{"text": f"possible R-ISS stages: {possible}"}]}
    obs("r-iss", _ncit(C.NCIT_RISS, "Revised International Staging System Stage"), value)

    r2 = s.get("r2_iss") or {}
    if r2.get("group"):
        value = {"valueCodeableConcept": _mm(f"r2_iss_{r2['group']}", f"R2-ISS group {r2['group']}")}
    else:
        value = {
            "dataAbsentReason": _unknown(),
            "note": [{"text": f"R2-ISS points between {r2.get('points_min')} and {r2.get('points_max')}"}],
        }
    comps = []
    if r2.get("points") is not None:
        comps.append(
            {
                "code": _mm("r2_iss_points", "R2-ISS points"),
                "valueQuantity": {
                    "value": r2["points"],
                    "unit": "{score}",
                    "system": C.UCUM,
                    "code": "{score}",
                },
            }
        )
    obs(
        "r2-iss",
        _mm("r2_iss", "R2-ISS group (DAGOSTINO22)"),
        value,
        **({"component": comps} if comps else {}),
    )

    hr = s.get("high_risk")
    value = {"valueBoolean": hr} if hr is not None else {"dataAbsentReason": _unknown()}
    notes = [{"text": f} for f in s.get("high_risk_features") or []]
    obs(
        "high-risk",
        _mm("high_risk", "High-risk multiple myeloma (IMS/IMWG 2025)"),
        value,
        **({"note": notes} if notes else {}),
    )

    e = a["emd"]
    comps = []
    if e.get("timing"):
        comps.append({"code": _mm("emd_timing"), "valueCodeableConcept": _mm(e["timing"])})
    if e.get("cns") is not None:
        comps.append({"code": _mm("emd_cns", "CNS involvement"), "valueBoolean": e["cns"]})
    for site in e.get("sites") or []:
        cc = _mm(site)
        if site in C.SITE_SNOMED:
            cc["coding"].append({"system": C.SNOMED, "code": C.SITE_SNOMED[site]})
        comps.append({"code": _mm("emd_site", "EMD site"), "valueCodeableConcept": cc})
    obs(
        "emd",
        _mm("emd_category", "Extramedullary disease classification"),
        {"valueCodeableConcept": _mm(e["category"])},
        **({"component": comps} if comps else {}),
    )

    r = a["response"]
    comps = [
        {"code": _mm("response_confirmed"), "valueBoolean": r["confirmed"]},
        {"code": _mm("response_best"), "valueCodeableConcept": _mm(r["best"])},
        {"code": _mm("progressive_disease"), "valueBoolean": r["progressive_disease"]},
        {"code": _mm("relapse_from_cr"), "valueBoolean": r["relapse_from_cr"]},
    ]
    if r.get("mrd"):
        comps.append({"code": _mm("mrd_category"), "valueCodeableConcept": _mm(r["mrd"])})
    obs(
        "response",
        _mm("imwg_response", f"IMWG response ({r.get('criteria', 'IMWG-2016')})"),
        {"valueCodeableConcept": _mm(r["current"])},
        component=comps,
    )

    from fhir.resources.R4B.observation import Observation

    for res in out:
        Observation.model_validate(res)  # a malformed output is a bug: let it raise
    return out


def assessment_to_bundle(assessment: Any, patient_ref: str = "Patient/unknown") -> dict[str, Any]:
    """The Observations of :func:`assessment_to_observations` in a validated ``collection`` Bundle."""
    obs = assessment_to_observations(assessment, patient_ref)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": o} for o in obs]}
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)
    return bundle
