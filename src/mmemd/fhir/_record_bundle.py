"""``mmemd.patient/1`` -> FHIR R4 Bundle: the inverse of the import, written in the documented convention.

Used to build the example bundles (``examples/fhir/``), the round-trip tests, and test data for callers of the
adapter (CDS Hooks prefetch, REST). Everything the record holds is written, so importing the bundle gives the same
record back (docs/fhir.md, "Round trip").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from mmemd.fhir import _codes as C

_LOINC_OF = {
    "serum_m_protein": ("33358-3", "Protein.monoclonal [Mass/volume] in Serum or Plasma by Electrophoresis"),
    "urine_m_protein": ("42482-0", "Protein.monoclonal [Mass/time] in 24 hour Urine by Electrophoresis"),
    "kappa": ("36916-5", "Kappa light chains.free [Mass/volume] in Serum"),
    "lambda": ("33944-0", "Lambda light chains.free [Mass/volume] in Serum or Plasma"),
    "beta2_microglobulin": ("1952-1", "Beta-2-Microglobulin [Mass/volume] in Serum or Plasma"),
    "albumin": ("1751-7", "Albumin [Mass/volume] in Serum or Plasma"),
    "ldh": ("2532-0", "Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma"),
    "creatinine": ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma"),
    "calcium": ("17861-6", "Calcium [Mass/volume] in Serum or Plasma"),
    "hemoglobin": ("718-7", "Hemoglobin [Mass/volume] in Blood"),
    "bone_marrow_plasma_cells_pct": ("11118-7", "Plasma cells/100 cells in Bone marrow"),
}
_ICD_DISPLAY = {
    "C90.0": "Multiple myeloma",
    "C90.1": "Plasma cell leukemia",
    "C90.2": "Extramedullary plasmacytoma",
    "C90.3": "Solitary plasmacytoma",
}


class _Builder:
    def __init__(self, pid: str) -> None:
        self.pid = pid
        self.entries: list[dict[str, Any]] = []
        self.n = 0

    def add(self, resource: dict[str, Any]) -> None:
        self.entries.append({"resource": resource})

    def obs(
        self, code: tuple[str, str, str], day: str, value: Mapping[str, Any], **extra: Any
    ) -> dict[str, Any]:
        self.n += 1
        system, c, display = code
        res: dict[str, Any] = {
            "resourceType": "Observation",
            "id": f"obs-{self.n}",
            "status": "final",
            "code": {"coding": [{"system": system, "code": c, **({"display": display} if display else {})}]},
            "subject": {"reference": f"Patient/{self.pid}"},
            "effectiveDateTime": day,
            **value,
            **extra,
        }
        self.add(res)
        return res


def _qty(value: Any, unit: str) -> dict[str, Any]:
    ucum = C.UCUM_OF.get(unit, unit)
    return {"value": value, "unit": unit, "system": C.UCUM, "code": ucum}


def _finding(v: bool) -> dict[str, Any]:
    code, display = ("260373001", "Detected") if v else ("260415000", "Not detected")
    return {"valueCodeableConcept": {"coding": [{"system": C.SNOMED, "code": code, "display": display}]}}


def _posneg(v: str) -> dict[str, Any]:
    code, display = ("10828004", "Positive") if v == "positive" else ("260385009", "Negative")
    return {"valueCodeableConcept": {"coding": [{"system": C.SNOMED, "code": code, "display": display}]}}


def _mm(code: str, display: str = "") -> tuple[str, str, str]:
    return (C.MMEMD, code, display)


def _loinc(fld: str) -> tuple[str, str, str]:
    code, display = _LOINC_OF[fld]
    return (C.LOINC, code, display)


def _sub(url: str, v: Any) -> dict[str, Any]:
    key = "valueBoolean" if isinstance(v, bool) else "valueInteger" if isinstance(v, int) else "valueCode"
    return {"url": url, key: v}


def _diagnosis_icd(record: Mapping[str, Any]) -> str:
    # The disease's own ICD-10 code, from the record's classification (docs/criteria.md §4.1 coding note: EMD is
    # a structured finding; C90.2/C90.3 are the solitary plasmacytomas).
    try:
        from mmemd.clinical.assessment import assess

        cat = assess(record).emd.category
    except Exception:
        cat = None
    return {
        "plasma_cell_leukemia": "C90.1",
        "solitary_bone_plasmacytoma": "C90.3",
        "solitary_extramedullary_plasmacytoma": "C90.2",
    }.get(str(cat), "C90.0")


def record_to_bundle(record: Mapping[str, Any]) -> dict[str, Any]:
    """A FHIR R4 ``collection`` Bundle carrying everything in ``record`` (a ``mmemd.patient/1`` dict)."""
    pid = str(record["id"])
    b = _Builder(pid)
    dx = record.get("diagnosis") or {}
    dx_day: str | None = dx.get("date")
    assessments = record.get("assessments") or []
    anchor_day = dx_day or (assessments[0]["date"] if assessments else None)

    patient: dict[str, Any] = {"resourceType": "Patient", "id": pid}
    if record.get("sex"):
        patient["gender"] = record["sex"]
    if record.get("age") is not None and dx_day:
        d = date.fromisoformat(dx_day)
        year = d.year - int(record["age"])
        born = d.replace(year=year) if not (d.month == 2 and d.day == 29) else date(year, 2, 28)
        patient["birthDate"] = born.isoformat()
    b.add(patient)

    if record.get("phase"):
        icd = _diagnosis_icd(record)
        relapsed = record["phase"] == "relapsed_refractory"
        cond: dict[str, Any] = {
            "resourceType": "Condition",
            "id": f"{pid}-diagnosis",
            "clinicalStatus": {
                "coding": [{"system": C.CONDITION_CLINICAL, "code": "relapse" if relapsed else "active"}]
            },
            "code": {
                "coding": [
                    {
                        "system": C.ICD10_CM,
                        "code": f"{icd}{'2' if relapsed else '0'}",
                        "display": _ICD_DISPLAY[icd],
                    }
                ]
            },
            "subject": {"reference": f"Patient/{pid}"},
        }
        if icd == "C90.0":
            # A confirmed myeloma Condition is systemic disease on import; a record that does not say so is written
            # as provisional, so that the round trip keeps the record's own evidence (marrow, events, lesions).
            confirmed = bool((record.get("diagnosis") or {}).get("myeloma_diagnosis_recorded"))
            cond["verificationStatus"] = {
                "coding": [
                    {"system": C.CONDITION_VERIFICATION, "code": "confirmed" if confirmed else "provisional"}
                ]
            }
        if dx_day:
            cond["onsetDateTime"] = dx_day
        b.add(cond)

    from mmemd.knowledge import vocabulary

    vocab = vocabulary()
    lesions = record.get("lesions")
    for les in lesions or []:
        c: dict[str, Any] = {
            "resourceType": "Condition",
            "id": les["id"],
            "code": {"coding": [{"system": C.MMEMD, "code": C.PLASMACYTOMA_CODE}], "text": "plasmacytoma"},
            "subject": {"reference": f"Patient/{pid}"},
        }
        site = les.get("site")
        if site:
            cc: dict[str, Any] = {"text": vocab.label(site, "en")}
            if site in C.SITE_SNOMED:
                cc["coding"] = [{"system": C.SNOMED, "code": C.SITE_SNOMED[site]}]
            c["bodySite"] = [cc]
        subs = [
            _sub(k, les[k])
            for k in ("relation_to_bone", "biopsy_proven", "detected_at", "modality", "cns", "confirmed_by")
            if les.get(k) is not None
        ]
        if subs:
            c["extension"] = [{"url": C.EXT_LESION, "extension": subs}]
        if les.get("detected_on"):
            c["onsetDateTime"] = les["detected_on"]
        b.add(c)
    if lesions == [] and anchor_day:
        b.obs(_mm("no_plasmacytoma", "no plasmacytoma on imaging"), anchor_day, {"valueBoolean": True})

    if anchor_day:
        if record.get("ecog") is not None:
            b.obs(
                (C.LOINC, "89247-1", "ECOG Performance Status score"),
                anchor_day,
                {"valueInteger": record["ecog"]},
            )
        if record.get("transplant_eligible") is not None:
            b.obs(_mm("transplant_eligible"), anchor_day, {"valueBoolean": record["transplant_eligible"]})
    if dx_day:
        if dx.get("clonal_bone_marrow_plasma_cells_pct") is not None:
            b.obs(
                _loinc("bone_marrow_plasma_cells_pct"),
                dx_day,
                {"valueQuantity": _qty(dx["clonal_bone_marrow_plasma_cells_pct"], "%")},
            )
        if dx.get("circulating_plasma_cells_pct") is not None:
            b.obs(
                _mm("circulating_plasma_cells_pct"),
                dx_day,
                {"valueQuantity": _qty(dx["circulating_plasma_cells_pct"], "%")},
            )
        if dx.get("myeloma_defining_events") is not None:
            events = dx["myeloma_defining_events"]
            all_events = (
                "hypercalcemia",
                "renal_insufficiency",
                "anemia",
                "bone_lesions",
                "marrow_plasma_cells_ge_60",
                "flc_ratio_ge_100",
                "mri_focal_lesions",
            )
            # Present events first, in the record's order (the import keeps component order), then the absent ones.
            ordered = [*events, *(m for m in all_events if m not in events)]
            comps = [
                {"code": {"coding": [{"system": C.MMEMD, "code": m}]}, "valueBoolean": m in events}
                for m in ordered
            ]
            b.obs(_mm("myeloma_defining_events"), dx_day, {"component": comps})
        for fld, q in (record.get("labs") or {}).items():
            if q is None:
                continue
            extra: dict[str, Any] = {}
            if fld == "ldh" and q.get("upper_limit_normal") is not None:
                extra["referenceRange"] = [{"high": _qty(q["upper_limit_normal"], q["unit"])}]
            b.obs(_loinc(fld), dx_day, {"valueQuantity": _qty(q["value"], q["unit"])}, **extra)
        for fld, v in (record.get("cytogenetics") or {}).items():
            if v is None:
                continue
            if fld == "del_17p_clonal_fraction_pct":
                b.obs(_mm(fld), dx_day, {"valueQuantity": _qty(v, "%")})
            elif fld == "del_1p32":
                b.obs(
                    _mm(fld), dx_day, {"valueCodeableConcept": {"coding": [{"system": C.MMEMD, "code": v}]}}
                )
            else:
                b.obs(_mm(fld), dx_day, _finding(v))
    current = record.get("current_labs") or {}
    if current and assessments:
        last = assessments[-1]["date"]
        for fld, q in current.items():
            if q is not None:
                b.obs(_loinc(fld), last, {"valueQuantity": _qty(q["value"], q["unit"])})

    _therapy(record, b)
    _assessments(record, b)
    return {"resourceType": "Bundle", "id": f"{pid}-bundle", "type": "collection", "entry": b.entries}


def _therapy(record: Mapping[str, Any], b: _Builder) -> None:
    from mmemd.knowledge import vocabulary

    vocab = vocabulary()
    for line in record.get("therapy_history") or []:
        refractory_agents = line.get("refractory_agents") or []
        for agent in line["agents"]:
            subs = [_sub("line", line["line"])]
            if line.get("best_response") is not None:
                subs.append(_sub("best_response", line["best_response"]))
            if line.get("refractory") is not None:
                subs.append(_sub("refractory", line["refractory"]))
            if agent in refractory_agents:
                subs.append(_sub("agent_refractory", True))
            b.n += 1
            res: dict[str, Any] = {
                "id": f"tx-{b.n}",
                "extension": [{"url": C.EXT_THERAPY_LINE, "extension": subs}],
                "subject": {"reference": f"Patient/{b.pid}"},
            }
            label = vocab.label(agent, "en")
            if agent in vocab.agents:
                atc = vocab.agents[agent].atc
                coding = [{"system": C.ATC, "code": atc, "display": label}] if atc else []
                res |= {
                    "resourceType": "MedicationStatement",
                    "status": "completed",
                    "medicationCodeableConcept": {"coding": coding, "text": label},
                }
                if line.get("start"):
                    res["effectiveDateTime"] = line["start"]
            else:
                res |= {
                    "resourceType": "Procedure",
                    "status": "completed",
                    "code": {"coding": [{"system": C.MMEMD, "code": agent, "display": label}], "text": label},
                }
                if line.get("start"):
                    res["performedDateTime"] = line["start"]
            b.add(res)


def _assessments(record: Mapping[str, Any], b: _Builder) -> None:
    dx = record.get("diagnosis") or {}
    for a in record.get("assessments") or []:
        day = a["date"]
        if a.get("baseline") is not None:
            b.obs(_mm("response_baseline"), day, {"valueBoolean": a["baseline"]})
        for fld in ("serum_m_protein", "urine_m_protein"):
            if a.get(fld) is not None:
                b.obs(_loinc(fld), day, {"valueQuantity": _qty(a[fld]["value"], a[fld]["unit"])})
        for fld in ("serum_ife", "urine_ife"):
            if a.get(fld) is not None:
                b.obs(_mm(fld), day, _posneg(a[fld]))
        flc = a.get("free_light_chains") or {}
        for chain in ("kappa", "lambda"):
            if flc.get(chain) is not None:
                b.obs(_loinc(chain), day, {"valueQuantity": _qty(flc[chain]["value"], flc[chain]["unit"])})
        if flc.get("involved") is not None:
            b.obs(
                _mm("flc_involved_chain"),
                day,
                {"valueCodeableConcept": {"coding": [{"system": C.MMEMD, "code": flc["involved"]}]}},
            )
        bmpc = a.get("bone_marrow_plasma_cells_pct")
        if bmpc is not None and not (
            day == dx.get("date") and bmpc == dx.get("clonal_bone_marrow_plasma_cells_pct")
        ):
            b.obs(_loinc("bone_marrow_plasma_cells_pct"), day, {"valueQuantity": _qty(bmpc, "%")})
        if a.get("bone_marrow_clonal_by_ihc") is not None:
            b.obs(_mm("bone_marrow_clonal_by_ihc"), day, {"valueBoolean": a["bone_marrow_clonal_by_ihc"]})
        if a.get("bone_marrow_kappa_lambda_ratio_ihc") is not None:
            b.obs(
                _mm("bone_marrow_kappa_lambda_ratio_ihc"),
                day,
                {"valueQuantity": _qty(a["bone_marrow_kappa_lambda_ratio_ihc"], "1")},
            )
        if a.get("bone_marrow_plasma_cells_counted") is not None:
            b.obs(
                _mm("bone_marrow_plasma_cells_counted"),
                day,
                {"valueInteger": a["bone_marrow_plasma_cells_counted"]},
            )
        if a.get("circulating_plasma_cells_per_ul") is not None:
            b.obs(
                _mm("circulating_plasma_cells_per_ul"),
                day,
                {"valueQuantity": _qty(a["circulating_plasma_cells_per_ul"], "/uL")},
            )
        cpc = a.get("circulating_plasma_cells_pct")
        if cpc is not None and not (day == dx.get("date") and cpc == dx.get("circulating_plasma_cells_pct")):
            b.obs(_mm("circulating_plasma_cells_pct"), day, {"valueQuantity": _qty(cpc, "%")})
        for pm in a.get("plasmacytomas") or []:
            comps = [
                {
                    "code": {"coding": [{"system": C.LOINC, "code": C.LOINC_LONGEST}]},
                    "valueQuantity": _qty(pm["longest_cm"], "cm"),
                },
                {
                    "code": {"coding": [{"system": C.LOINC, "code": C.LOINC_PERPENDICULAR}]},
                    "valueQuantity": _qty(pm["perpendicular_cm"], "cm"),
                },
            ]
            b.obs(
                (C.LOINC, "21889-1", "Size Tumor"),
                day,
                {"component": comps},
                focus=[{"reference": f"Condition/{pm['lesion']}"}],
            )
        if a.get("new_lesion") is not None:
            b.obs(_mm("new_lesion"), day, {"valueBoolean": a["new_lesion"]})
        if a.get("pet_negative") is not None:
            b.obs(_mm("pet_negative"), day, {"valueBoolean": a["pet_negative"]})
        mrd = a.get("mrd")
        if mrd:
            value: dict[str, Any] = {}
            if mrd.get("negative") is not None:
                value = _posneg("negative" if mrd["negative"] else "positive")
            extra: dict[str, Any] = {}
            if mrd.get("method"):
                extra["method"] = {"coding": [{"system": C.MMEMD, "code": mrd["method"]}]}
            if mrd.get("sensitivity") is not None:
                extra["component"] = [
                    {
                        "code": {"coding": [{"system": C.MMEMD, "code": C.MRD_SENSITIVITY}]},
                        "valueQuantity": _qty(mrd["sensitivity"], "1"),
                    }
                ]
            b.obs(_mm("mrd", "minimal residual disease"), day, value, **extra)
