"""Assessment results -> FHIR R4 Observations (validated with fhir.resources R4B).

ISS and R-ISS follow HL7 mCODE's Myeloma ISS/RISS Stage profiles (``meta.profile``; code NCIt C139007 / C141392,
value NCIt C70658-C70660 / C141394-C141396; ``method`` the staging system; ``category`` mCODE's tumour-stage finding;
``focus`` the myeloma Condition; ``effective`` the diagnosis date). A solitary plasmacytoma gets no myeloma stage.
The IMWG response is also sent as an mCODE CancerDiseaseStatus (LOINC 97509-4). R2-ISS, high risk, the EMD
classification and the IMWG response itself have no standard code and use the mmemd code system (docs/fhir.md). A
result that could not be determined is still emitted, with ``dataAbsentReason`` ``unknown`` and the possible values
in a note — never silently left out. Ids are deterministic and FHIR-safe: a hash of the record id and the result.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from mmemd.fhir import _codes as C


def _ncit(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": C.NCIT, "code": code, "display": display}]}


def _mm(code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": C.MMEMD, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


MCODE: Final = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
# mCODE CancerStage: category tumour-stage finding, method the staging scale (SNOMED CT, as in the mCODE FSH of
# MyelomaISSStage / MyelomaRISSStage).
_STAGE_CATEGORY: Final = {
    "coding": [{"system": C.SNOMED, "code": "385356007", "display": "Tumor stage finding (finding)"}]
}
_STAGING_METHOD: Final = {
    "iss": ("1149162008", "International Staging System for multiple myeloma (staging scale)"),
    "r-iss": ("1149163003", "Revised International Staging System for multiple myeloma (staging scale)"),
}
# mCODE ConditionStatusTrendVS answers for the IMWG response (CancerDiseaseStatus).
_STATUS_OF_RESPONSE: Final = {
    "sCR": ("268910001", "Patient's condition improved (finding)"),
    "CR": ("268910001", "Patient's condition improved (finding)"),
    "VGPR": ("268910001", "Patient's condition improved (finding)"),
    "PR": ("268910001", "Patient's condition improved (finding)"),
    "MR": ("268910001", "Patient's condition improved (finding)"),
    "SD": ("359746009", "Patient's condition stable (finding)"),
    "PD": ("271299001", "Patient's condition worsened (finding)"),
}
_UNDETERMINED: Final = ("709137006", "Patient condition undetermined (finding)")
_SOLITARY: Final = frozenset({"solitary_bone_plasmacytoma", "solitary_extramedullary_plasmacytoma"})


def fhir_id(record_id: str, kind: str) -> str:
    """A deterministic FHIR id (``[A-Za-z0-9-.]{1,64}``) for one result of one record: the result's name and a hash
    of both, so that long or non-FHIR record ids neither collide nor break the export."""
    digest = hashlib.sha256(f"{record_id}\x00{kind}".encode()).hexdigest()[:24]
    return f"{re.sub(r'[^A-Za-z0-9]+', '-', kind).strip('-')[:32]}-{digest}"


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
    diagnosis_date: date | None = None,
    condition_ref: str | None = None,
) -> list[dict[str, Any]]:
    """FHIR R4 Observations (JSON dicts, each validated with fhir.resources R4B) for an ``mmemd.assessment/1``.

    ``assessment``: an :class:`~mmemd.clinical.Assessment` or its JSON dict. ``effective`` defaults to the date of
    the latest response assessment (omitted when there is none); the stages are dated by ``diagnosis_date`` (mCODE:
    staging at diagnosis; omitted when unknown). ``condition_ref`` (the myeloma Condition) becomes ``focus`` of the
    stages and the disease status. Each Observation's note records the versions that produced it.
    """
    a = _as_dict(assessment)
    v = a["versions"]
    versions = {
        "text": f"mmemd {v['mmemd']}; {v['knowledge_base']}; {v['response_criteria']}; {v['high_risk_definition']}"
    }
    timeline = a["response"].get("timeline") or []
    day = effective.isoformat() if effective else (timeline[-1]["date"] if timeline else None)
    pid = a["patient_id"]
    out: list[dict[str, Any]] = []

    def obs(
        key: str, code: dict[str, Any], value: dict[str, Any], *, when: str | None = day, **extra: Any
    ) -> None:
        notes = [*extra.pop("note", []), versions]
        res: dict[str, Any] = {
            "resourceType": "Observation",
            "id": fhir_id(pid, key),
            "status": "final",
            "code": code,
            "subject": {"reference": patient_ref},
            **value,
            **extra,
            "note": notes,
        }
        if when:
            res["effectiveDateTime"] = when
        # mmemd's own result: the import reads it back as derived (it recomputes it), never as new evidence.
        meta = res.setdefault("meta", {})
        meta["tag"] = [{"system": C.MMEMD, "code": C.RESULT_TAG, "display": "mmemd assessment result"}]
        out.append(res)

    def staging(key: str, profile: str) -> dict[str, Any]:
        code, display = _STAGING_METHOD[key]
        extra: dict[str, Any] = {
            "meta": {"profile": [MCODE + profile]},
            "category": [_STAGE_CATEGORY],
            "method": {"coding": [{"system": C.SNOMED, "code": code, "display": display}]},
            "when": diagnosis_date.isoformat() if diagnosis_date else None,
        }
        if condition_ref:
            extra["focus"] = [{"reference": condition_ref}]
        return extra

    solitary = a["emd"]["category"] in _SOLITARY
    s = a["staging"]
    if not solitary:
        _stages(s, obs, staging)
    _emd_and_response(a, obs, solitary, condition_ref)

    from fhir.resources.R4B.observation import Observation

    for res in out:
        Observation.model_validate(res)  # a malformed output is a bug: let it raise
    return out


def _stages(s: Mapping[str, Any], obs: Any, staging: Any) -> None:
    iss = s.get("iss")
    value: dict[str, Any]
    if iss:
        value = {
            "valueCodeableConcept": _ncit(C.NCIT_ISS_STAGES[iss], f"ISS Stage {iss} Plasma Cell Myeloma")
        }
    else:
        possible = ", ".join(s.get("iss_possible") or [])
        value = {"dataAbsentReason": _unknown(), "note": [{"text": f"possible ISS stages: {possible}"}]}
    obs(
        "iss",
        _ncit(C.NCIT_ISS, "International Staging System Stage"),
        value,
        **staging("iss", "mcode-myeloma-iss-stage"),
    )

    riss = s.get("r_iss")
    if riss:
        value = {
            "valueCodeableConcept": _ncit(C.NCIT_RISS_STAGES[riss], f"RISS Stage {riss} Plasma Cell Myeloma")
        }
    else:
        possible = ", ".join(s.get("r_iss_possible") or [])
        value = {"dataAbsentReason": _unknown(), "note": [{"text": f"possible R-ISS stages: {possible}"}]}
    obs(
        "r-iss",
        _ncit(C.NCIT_RISS, "Revised International Staging System Stage"),
        value,
        **staging("r-iss", "mcode-myeloma-riss-stage"),
    )

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
        when=staging("iss", "mcode-myeloma-iss-stage")["when"],  # a stage at diagnosis, like ISS
        **({"component": comps} if comps else {}),
    )


def _emd_and_response(a: Mapping[str, Any], obs: Any, solitary: bool, condition_ref: str | None) -> None:
    s = a["staging"]
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
    emd_notes = (
        [{"text": "solitary plasmacytoma: no myeloma stage (ISS, R-ISS, R2-ISS) is given"}]
        if solitary
        else []
    )
    obs(
        "emd",
        _mm("emd_category", "Extramedullary disease classification"),
        {"valueCodeableConcept": _mm(e["category"])},
        **({"component": comps} if comps else {}),
        note=emd_notes,
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
    # The same judgement for systems that read mCODE only: CancerDiseaseStatus (LOINC 97509-4).
    status_code, status_display = _STATUS_OF_RESPONSE.get(str(r["current"]), _UNDETERMINED)
    status_extra: dict[str, Any] = {"meta": {"profile": [MCODE + "mcode-cancer-disease-status"]}}
    if condition_ref:
        status_extra["focus"] = [{"reference": condition_ref}]
    obs(
        "disease-status",
        {"coding": [{"system": C.LOINC, "code": "97509-4", "display": "Cancer disease progression"}]},
        {
            "valueCodeableConcept": {
                "coding": [{"system": C.SNOMED, "code": status_code, "display": status_display}]
            }
        },
        **status_extra,
    )


def assessment_to_bundle(
    assessment: Any, patient_ref: str = "Patient/unknown", *, record: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The Observations of :func:`assessment_to_observations` in a validated ``collection`` Bundle.

    With ``record`` (the assessed ``mmemd.patient/1``), the Bundle also carries the record itself as FHIR
    (:func:`~mmemd.fhir.record_to_bundle`): the stages then point at its myeloma Condition (``focus``), are dated by
    its diagnosis date, and ``bundle_to_record`` reads the whole Bundle back to the same record.
    """
    entries: list[dict[str, Any]] = []
    condition_ref: str | None = None
    diagnosis_date: date | None = None
    if record is not None:
        from mmemd.fhir._record_bundle import record_to_bundle

        entries = list(record_to_bundle(dict(record)).get("entry") or [])
        pid = str(record.get("id"))
        patient_ref = f"Patient/{pid}"
        if any(e["resource"].get("id") == f"{pid}-diagnosis" for e in entries):
            condition_ref = f"Condition/{pid}-diagnosis"
        dx = (record.get("diagnosis") or {}).get("date")
        diagnosis_date = date.fromisoformat(str(dx)) if dx else None
    obs = assessment_to_observations(
        assessment, patient_ref, diagnosis_date=diagnosis_date, condition_ref=condition_ref
    )
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [*entries, *({"resource": o} for o in obs)],
    }
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)
    return bundle
