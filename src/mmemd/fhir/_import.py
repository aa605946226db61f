"""FHIR R4 Bundle -> ``mmemd.patient/1`` (docs/fhir.md has the mapping table).

Every entry is either mapped or gets a :class:`~._models.Reason`; nothing is dropped silently. Values are exact
(:class:`decimal.Decimal` from the JSON text); units are kept when the record accepts them and otherwise converted
only by exact powers of ten (``_codes.record_unit``) — an unknown unit is a reason, never an assumption.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Final

from mmemd.fhir import _codes as C
from mmemd.fhir._models import ImportResult, Reason
from mmemd.fhir._reasons import reason
from mmemd.fhir._resources import (
    Entry,
    bundle_entries,
    code_label,
    codings,
    extension,
    parse_date,
    ref_of,
    sub_extensions,
    texts,
    to_decimal,
    validate_bundle,
    validate_resource,
)

_USABLE_OBS_STATUS: Final = frozenset({"final", "amended", "corrected"})
_EXCLUDED_MED_STATUS: Final = frozenset({"entered-in-error", "not-taken", "intended"})
_EXCLUDED_PROC_STATUS: Final = frozenset({"entered-in-error", "not-done", "preparation"})
_EXCLUDED_COND_VERIFICATION: Final = frozenset({"refuted", "entered-in-error"})
# Assessment parameters that make a date an assessment date on their own (IMWG response parameters, §1.3). Marrow
# and blood percentages join an assessment on their date; alone, on the date chosen as "at diagnosis", they describe
# the diagnosis (docs/patient-record.md ``diagnosis``), otherwise they form a (marrow-only) assessment.
_ANCHORS: Final = frozenset(
    {
        "serum_m_protein",
        "urine_m_protein",
        "kappa",
        "lambda",
        "circulating_plasma_cells_per_ul",
        "serum_ife",
        "urine_ife",
        "new_lesion",
        "pet_negative",
        "baseline",
        "mrd",
        "plasmacytomas",
    }
)
_LAB_FIELDS: Final = (
    "beta2_microglobulin",
    "albumin",
    "ldh",
    "creatinine",
    "calcium",
    "hemoglobin",
)
_ASSESSMENT_ORDER: Final = (
    "date",
    "baseline",
    "serum_m_protein",
    "urine_m_protein",
    "serum_ife",
    "urine_ife",
    "free_light_chains",
    "bone_marrow_plasma_cells_pct",
    "bone_marrow_clonal_by_ihc",
    "bone_marrow_kappa_lambda_ratio_ihc",
    "bone_marrow_plasma_cells_counted",
    "circulating_plasma_cells_per_ul",
    "circulating_plasma_cells_pct",
    "plasmacytomas",
    "new_lesion",
    "mrd",
    "pet_negative",
)
_CYTO_ORDER: Final = (
    "del_17p",
    "del_17p_clonal_fraction_pct",
    "tp53_mutation",
    "t_4_14",
    "t_14_16",
    "t_14_20",
    "t_11_14",
    "gain_1q",
    "del_1p32",
)
_MDE: Final = (
    "hypercalcemia",
    "renal_insufficiency",
    "anemia",
    "bone_lesions",
    "marrow_plasma_cells_ge_60",
    "flc_ratio_ge_100",
    "mri_focal_lesions",
)
_RESPONSES: Final = frozenset({"sCR", "CR", "VGPR", "PR", "MR", "SD", "PD", "not_evaluable"})
_LESION_FIELDS: Final = {
    "relation_to_bone": frozenset({"none", "arising_from_bone", "intraosseous"}),
    "biopsy_proven": None,
    "detected_at": frozenset({"diagnosis", "relapse"}),
    "modality": frozenset({"PET-CT", "CT", "MRI", "ultrasound", "physical_exam"}),
    "cns": None,
    "confirmed_by": frozenset({"biopsy", "cytology", "csf_flow_cytometry", "imaging_only"}),
}
# FLC ratio normal range, inclusive (docs/criteria.md §1.2): outside it the clone's chain is the higher one.
_FLC_RATIO_LOW: Final = Decimal("0.26")
_FLC_RATIO_HIGH: Final = Decimal("1.65")


@dataclass(slots=True)
class _Fact:
    field: str
    day: date | None
    value: Any
    path: str
    used: bool = False
    at_dx: bool = False  # chosen as the value at diagnosis


@dataclass
class _State:
    reasons: list[Reason] = field(default_factory=list)
    facts: dict[str, list[_Fact]] = field(default_factory=lambda: defaultdict(list))
    lesion_ids: dict[str, str] = field(default_factory=dict)  # reference -> lesion id

    def why(self, rcode: str, path: str, /, **kw: object) -> None:
        self.reasons.append(reason(rcode, path, **kw))

    def add(self, fld: str, day: date | None, value: Any, path: str) -> None:
        self.facts[fld].append(_Fact(fld, day, value, path))


# --- entry points ----------------------------------------------------------------------------------------------


def bundle_to_record(bundle: Mapping[str, Any], *, age_at: date | None = None) -> ImportResult:
    """Map a FHIR R4 Bundle (searchset, collection, ...) to ``mmemd.patient/1``.

    ``age_at``: the date at which ``age`` is computed from ``Patient.birthDate`` (default: the diagnosis date).
    Raises :class:`~._models.BundleError` (every problem with its path) when the Bundle is not valid FHIR R4.
    """
    validate_bundle(bundle)
    return _map(list(bundle_entries(bundle)), age_at)


def bundle_to_record_from_parts(
    patient: Mapping[str, Any] | None = None,
    conditions: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    observations: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    medications: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    procedures: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    body_structures: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    *,
    age_at: date | None = None,
) -> ImportResult:
    """The same mapping from separately fetched resources, e.g. CDS Hooks prefetch (one Bundle per key).

    Each argument may be a resource, a Bundle (searchset), a list of either, or None. Paths in reasons and errors
    start with the argument name, e.g. ``observations.entry[2].resource.valueQuantity``.
    """
    entries: list[Entry] = []
    parts = {
        "patient": patient,
        "conditions": conditions,
        "observations": observations,
        "medications": medications,
        "procedures": procedures,
        "body_structures": body_structures,
    }
    for name, part in parts.items():
        if part is None:
            continue
        items: list[tuple[str, Any]]
        if isinstance(part, Mapping):
            items = [(name, part)]
        else:
            items = [(f"{name}[{i}]", p) for i, p in enumerate(part)]
        for root, item in items:
            if isinstance(item, Mapping) and item.get("resourceType") == "Bundle":
                try:
                    validate_bundle(item)
                except Exception as exc:
                    from mmemd.fhir._models import BundleError, BundleProblem

                    if isinstance(exc, BundleError):
                        raise BundleError(
                            [
                                BundleProblem(path=root + p.path.removeprefix("Bundle"), message=p.message)
                                for p in exc.problems
                            ]
                        ) from None
                    raise
                entries += bundle_entries(item, root)
            else:
                validate_resource(item, root)
                entries.append(Entry(root, item))
    return _map(entries, age_at)


# --- the mapping -----------------------------------------------------------------------------------------------


def _map(entries: list[Entry], age_at: date | None) -> ImportResult:
    st = _State()
    by_ref: dict[str, Entry] = {}
    for e in entries:
        if e.ref:
            by_ref[e.ref] = e
        if e.full_url:
            by_ref[e.full_url] = e

    patients = [e for e in entries if e.rtype == "Patient"]
    patient = patients[0] if patients else None
    for extra in patients[1:]:
        st.why("multiple_patients", extra.path)
    own_refs: set[str] = set()
    if patient is not None:
        own_refs = {r for r in (patient.ref, patient.full_url) if r}

    def other_patient(e: Entry) -> bool:
        r = ref_of(e.resource.get("subject")) or ref_of(e.resource.get("patient"))
        if r is None or not own_refs or r in own_refs:
            return False
        st.why("other_patient", f"{e.path}.subject", ref=r)
        return True

    conditions: list[Entry] = []
    observations: list[Entry] = []
    therapies: list[Entry] = []
    structures: list[Entry] = []
    referenced_meds: set[str] = set()
    for e in entries:
        t = e.rtype
        if t == "Patient":
            continue
        if t in (
            "Condition",
            "Observation",
            "MedicationStatement",
            "Procedure",
            "BodyStructure",
        ) and other_patient(e):
            continue
        if t == "Condition":
            conditions.append(e)
        elif t == "Observation":
            observations.append(e)
        elif t in ("MedicationStatement", "Procedure"):
            therapies.append(e)
            r = ref_of(e.resource.get("medicationReference"))
            if r:
                referenced_meds.add(r)
        elif t == "BodyStructure":
            structures.append(e)
        elif t == "Medication":
            continue  # mapped through the statements that reference it (checked below)
        else:
            st.why("unmapped_resource", e.path, rtype=t)
    for e in entries:
        if e.rtype == "Medication" and not ({e.ref, e.full_url} & referenced_meds):
            st.why("unmapped_resource", e.path, rtype="unreferenced Medication")

    record: dict[str, Any] = {"schema": "mmemd.patient/1"}
    pid = _patient_id(patient, st)
    record["id"] = pid

    dx_date, phase, lesions = _conditions(conditions, structures, st)
    for o in observations:
        _observation(o, st)
    _therapy(therapies, by_ref, st)

    age = _age(patient, age_at or dx_date, st)
    if age is not None:
        record["age"] = age
    if patient is not None:
        g = patient.resource.get("gender")
        if g in ("female", "male"):
            record["sex"] = g
        elif g is not None:
            st.why("gender_unmapped", f"{patient.path}.gender", gender=g)
    if phase is not None:
        record["phase"] = phase
    te = _latest(st, "transplant_eligible")
    if te is not None:
        record["transplant_eligible"] = te
    ecog = _latest(st, "ecog")
    if ecog is not None:
        record["ecog"] = ecog
    lines = st.facts.get("therapy_history")
    if lines:
        record["therapy_history"] = [f.value for f in lines]
    diagnosis = _diagnosis(dx_date, st)
    if diagnosis:
        record["diagnosis"] = diagnosis
    labs, current = _labs(dx_date, st)
    if labs:
        record["labs"] = labs
    if current:
        record["current_labs"] = current
    cyto = _cytogenetics(dx_date, st)
    if cyto:
        record["cytogenetics"] = cyto
    none_found = _latest(st, "lesions")
    if lesions or none_found is True:
        record["lesions"] = lesions
    assessments = _assessments(st, {les["id"] for les in lesions})
    if assessments:
        record["assessments"] = assessments
    return ImportResult(record=record, reasons=st.reasons, patient_id=pid)


# --- Patient ---------------------------------------------------------------------------------------------------


def _patient_id(patient: Entry | None, st: _State) -> str:
    if patient is not None:
        rid = patient.resource.get("id")
        if isinstance(rid, str) and rid:
            return rid
        for ident in patient.resource.get("identifier") or []:
            if isinstance(ident, Mapping) and isinstance(ident.get("value"), str) and ident["value"]:
                return str(ident["value"])
    st.why("no_patient_id", patient.path if patient else "Bundle", id="unknown")
    return "unknown"


def _age(patient: Entry | None, at: date | None, st: _State) -> int | None:
    if patient is None:
        return None
    raw = patient.resource.get("birthDate")
    if raw is None:
        return None
    born, _partial = parse_date(raw)
    path = f"{patient.path}.birthDate"
    if born is None:
        st.why("no_birth_date", path, why="birth date is not a full date (age would be off by up to a year)")
        return None
    if at is None:
        st.why("no_birth_date", path, why="no diagnosis date to compute the age at")
        return None
    # Age in completed years at the diagnosis date (or the caller's date): the record's other "at diagnosis" data.
    return at.year - born.year - ((at.month, at.day) < (born.month, born.day))


# --- Conditions and lesions -----------------------------------------------------------------------------------


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


def _conditions(
    conditions: list[Entry], structures: list[Entry], st: _State
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
            # ICD-10-CM 5th character 2 = "in relapse" (docs/criteria.md §4.1); FHIR clinicalStatus relapse or
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


def _lesion(e: Entry, st: _State) -> dict[str, Any]:
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


# --- Observations ------------------------------------------------------------------------------------------------


def _target(e: Entry, st: _State) -> C.Target | None:
    cc = e.resource.get("code")
    for system, code, _ in codings(cc):
        if system == C.LOINC:
            if code in C.REJECTED_LOINC:
                st.why("unverified_code", f"{e.path}.code", code=f"LOINC {code}", why=C.REJECTED_LOINC[code])
                return None
            if code in C.LOINC_CODES:
                return C.LOINC_CODES[code]
        elif system == C.MMEMD and code in C.MMEMD_CODES:
            return C.MMEMD_CODES[code]
    for t in texts(cc):
        for fld, pattern in C.CYTOGENETIC_TEXT:
            if pattern.search(t):
                return C.MMEMD_CODES[fld]
    if e.resource.get("component") and _component_cyto(e.resource["component"]):
        return C.MMEMD_CODES["cytogenetics"]
    st.why("unknown_code", f"{e.path}.code", code=code_label(cc))
    return None


def _component_cyto(components: Sequence[Any]) -> bool:
    return any(_cyto_field(c.get("code")) for c in components if isinstance(c, Mapping))


def _cyto_field(cc: object) -> str | None:
    for system, code, _ in codings(cc):
        if system == C.MMEMD and code in (*C.CYTOGENETIC_FIELDS, "del_1p32", "del_17p_clonal_fraction_pct"):
            return code
    for t in texts(cc):
        for fld, pattern in C.CYTOGENETIC_TEXT:
            if pattern.search(t):
                return fld
    return None


def _observation(e: Entry, st: _State) -> None:
    r = e.resource
    status = r.get("status")
    if status not in _USABLE_OBS_STATUS:
        st.why("status_excluded", f"{e.path}.status", status=status)
        return
    target = _target(e, st)
    if target is None:
        return
    kind, fld = target.kind, target.field
    if kind == "derived":
        st.why("derived_value", f"{e.path}.code", what=fld)
        return
    if kind == "other_method":
        st.why(
            "not_used_method",
            f"{e.path}.code",
            what=fld,
            why="IMWG marrow criteria use the morphological plasma cell percentage (11118-7)",
        )
        return
    if r.get("dataAbsentReason") is not None:
        st.why("no_value", f"{e.path}.dataAbsentReason")
        return
    day, raw_date = _effective(r)
    if day is None:
        if raw_date is not None:
            st.why("partial_date", f"{e.path}.effectiveDateTime", value=raw_date)
        else:
            st.why("no_date", f"{e.path}.effective[x]")
        return
    handler = _HANDLERS[kind]
    handler(e, fld, day, st)


def _effective(r: Mapping[str, Any]) -> tuple[date | None, Any]:
    for key in ("effectiveDateTime", "effectiveInstant"):
        if r.get(key) is not None:
            return parse_date(r[key])[0], r[key]
    p = r.get("effectivePeriod")
    if isinstance(p, Mapping) and p.get("start") is not None:
        return parse_date(p["start"])[0], p["start"]
    return None, None


def _quantity_value(q: object, path: str, fld: str, st: _State) -> Decimal | None:
    """The exact value of a FHIR Quantity, or a reason why there is none (not a Quantity, a comparator such as
    "<0.5" that is not a value, no value)."""
    if not isinstance(q, Mapping):
        st.why("value_type", path, field=fld, expected="valueQuantity")
        return None
    if q.get("comparator"):
        st.why("comparator", f"{path}.comparator", comparator=q["comparator"])
        return None
    value = to_decimal(q.get("value"))
    if value is None:
        st.why("no_value", f"{path}.value")
        return None
    return value


def _quantity(q: object, path: str, fld: str, st: _State) -> dict[str, Any] | None:
    """A FHIR Quantity as a record quantity of ``fld`` (exact; units per ``_codes.record_unit``)."""
    value = _quantity_value(q, path, fld, st)
    if value is None or not isinstance(q, Mapping):
        return None
    ucum = q.get("code") if q.get("system") in (C.UCUM, None) and q.get("code") else q.get("unit")
    unit = str(ucum) if ucum is not None else ""
    m = C.record_unit(fld, unit)
    if m is None:
        st.why("unknown_unit", f"{path}.code", unit=unit, field=fld, accepted=C.accepted_units(fld))
        return None
    if m.factor != 1:
        value = value * m.factor
        st.why("unit_converted", f"{path}.code", field=fld, src=unit, dst=m.unit)
    return {"value": _clean(value), "unit": m.unit}


def _clean(d: Decimal) -> Decimal:
    # The value as written (3.0 stays 3.0); a positive exponent from a conversion factor (5E+2) becomes 500.
    exp = d.as_tuple().exponent
    return d.quantize(Decimal(1)) if isinstance(exp, int) and exp > 0 else d


def _plain_number(q: object, path: str, fld: str, units: Mapping[str, Decimal], st: _State) -> Decimal | None:
    value = _quantity_value(q, path, fld, st)
    if value is None or not isinstance(q, Mapping):
        return None
    unit = str(q.get("code") or q.get("unit") or "")
    f = units.get(unit)
    if f is None:
        st.why(
            "unknown_unit",
            f"{path}.code",
            unit=unit,
            field=fld,
            accepted=", ".join(k or "(none)" for k in units),
        )
        return None
    return _clean(value * f)


_PERCENT: Final = {"%": Decimal(1)}
_RATIO: Final = {"": Decimal(1), "1": Decimal(1), "{ratio}": Decimal(1)}
_FRACTION: Final = {"": Decimal(1), "1": Decimal(1), "%": Decimal("0.01")}


def _finding(value_holder: Mapping[str, Any]) -> bool | None:
    """Detected/positive -> True, not detected/negative -> False, else None (valueCodeableConcept/String/Boolean)."""
    if isinstance(value_holder.get("valueBoolean"), bool):
        return bool(value_holder["valueBoolean"])
    cc = value_holder.get("valueCodeableConcept")
    for system, code, _ in codings(cc):
        if (system, code) in C.POSITIVE_CODES:
            return True
        if (system, code) in C.NEGATIVE_CODES:
            return False
    candidates = texts(cc)
    if isinstance(value_holder.get("valueString"), str):
        candidates.append(value_holder["valueString"])
    for t in candidates:
        n = t.strip().lower()
        if n in C.POSITIVE_TEXT:
            return True
        if n in C.NEGATIVE_TEXT:
            return False
    return None


def _value_text(holder: Mapping[str, Any]) -> list[str]:
    out = [c for _, c, _ in codings(holder.get("valueCodeableConcept")) if c]
    out += texts(holder.get("valueCodeableConcept"))
    if isinstance(holder.get("valueString"), str):
        out.append(holder["valueString"])
    if isinstance(holder.get("valueCode"), str):
        out.append(holder["valueCode"])
    return out


def _h_quantity(e: Entry, fld: str, day: date, st: _State) -> None:
    q = _quantity(e.resource.get("valueQuantity"), f"{e.path}.valueQuantity", fld, st)
    if q is None:
        return
    if fld == "circulating_plasma_cells_per_ul":
        st.add(fld, day, q["value"], e.path)
    else:
        st.add(fld, day, q, e.path)


def _h_lab(e: Entry, fld: str, day: date, st: _State) -> None:
    q = _quantity(e.resource.get("valueQuantity"), f"{e.path}.valueQuantity", fld, st)
    if q is None:
        return
    if fld == "ldh":
        for i, rr in enumerate(e.resource.get("referenceRange") or []):
            high = rr.get("high") if isinstance(rr, Mapping) else None
            if isinstance(high, Mapping):
                h = _quantity(high, f"{e.path}.referenceRange[{i}].high", fld, st)
                if h is not None and h["unit"] == q["unit"]:
                    q["upper_limit_normal"] = h["value"]
                break
    st.add(fld, day, q, e.path)


def _h_percent(e: Entry, fld: str, day: date, st: _State) -> None:
    v = _plain_number(e.resource.get("valueQuantity"), f"{e.path}.valueQuantity", fld, _PERCENT, st)
    if v is not None:
        st.add(fld, day, v, e.path)


def _h_ratio(e: Entry, fld: str, day: date, st: _State) -> None:
    v = _plain_number(e.resource.get("valueQuantity"), f"{e.path}.valueQuantity", fld, _RATIO, st)
    if v is not None:
        st.add(fld, day, v, e.path)


def _integer(r: Mapping[str, Any]) -> int | None:
    if isinstance(r.get("valueInteger"), int) and not isinstance(r.get("valueInteger"), bool):
        return int(r["valueInteger"])
    q = r.get("valueQuantity")
    if isinstance(q, Mapping):
        d = to_decimal(q.get("value"))
        if d is not None and d == d.to_integral_value():
            return int(d)
    return None


def _h_count(e: Entry, fld: str, day: date, st: _State) -> None:
    v = _integer(e.resource)
    if v is None:
        st.why("value_type", f"{e.path}.value[x]", field=fld, expected="valueInteger")
        return
    st.add(fld, day, v, e.path)


def _h_ecog(e: Entry, fld: str, day: date, st: _State) -> None:
    v = _integer(e.resource)
    if v is None or not 0 <= v <= 5:
        st.why("value_type", f"{e.path}.value[x]", field="ecog", expected="valueInteger 0-5")
        return
    st.add(fld, day, v, e.path)


def _h_bool(e: Entry, fld: str, day: date, st: _State) -> None:
    v = e.resource.get("valueBoolean")
    if not isinstance(v, bool):
        v = _finding(e.resource)
    if v is None:
        st.why("value_type", f"{e.path}.value[x]", field=fld, expected="valueBoolean")
        return
    st.add(fld, day, v, e.path)


def _h_ife(e: Entry, fld: str, day: date, st: _State) -> None:
    v = _finding(e.resource)
    if v is None or "valueBoolean" in e.resource:
        st.why(
            "unknown_value",
            f"{e.path}.value[x]",
            field=fld,
            value=_value_text(e.resource),
            accepted="positive|negative",
        )
        return
    st.add(fld, day, "positive" if v else "negative", e.path)


def _h_involved(e: Entry, fld: str, day: date, st: _State) -> None:
    for t in _value_text(e.resource):
        n = t.strip().lower()
        if n in ("kappa", "κ"):
            st.add(fld, day, "kappa", e.path)
            return
        if n in ("lambda", "λ"):
            st.add(fld, day, "lambda", e.path)
            return
    st.why(
        "unknown_value",
        f"{e.path}.value[x]",
        field=fld,
        value=_value_text(e.resource),
        accepted="kappa|lambda",
    )


def _h_mrd(e: Entry, fld: str, day: date, st: _State) -> None:
    r = e.resource
    mrd: dict[str, Any] = {}
    method_cc = r.get("method")
    for system, code, _ in codings(method_cc):
        if system == C.MMEMD and code in ("NGF", "NGS"):
            mrd["method"] = code
    if "method" not in mrd:
        for t in texts(method_cc):
            low = t.lower()
            if "ngs" in low or "sequencing" in low:
                mrd["method"] = "NGS"
            elif "ngf" in low or "flow" in low:
                mrd["method"] = "NGF"
    if method_cc is not None and "method" not in mrd:
        st.why(
            "unknown_value",
            f"{e.path}.method",
            field="mrd.method",
            value=code_label(method_cc),
            accepted="NGF|NGS",
        )
    neg = _finding(r)
    if neg is not None:
        mrd["negative"] = not neg
    elif any(k.startswith("value") for k in r):
        st.why(
            "unknown_value",
            f"{e.path}.value[x]",
            field="mrd",
            value=_value_text(r),
            accepted="positive|negative",
        )
    for i, comp in enumerate(r.get("component") or []):
        if any(s == C.MMEMD and c == C.MRD_SENSITIVITY for s, c, _ in codings(comp.get("code"))):
            v = _plain_number(
                comp.get("valueQuantity"),
                f"{e.path}.component[{i}].valueQuantity",
                "mrd.sensitivity",
                _FRACTION,
                st,
            )
            if v is not None:
                mrd["sensitivity"] = v
        else:
            st.why("unknown_code", f"{e.path}.component[{i}].code", code=code_label(comp.get("code")))
    if mrd:
        st.add(fld, day, {k: mrd[k] for k in ("method", "negative", "sensitivity") if k in mrd}, e.path)


def _h_tumor_size(e: Entry, fld: str, day: date, st: _State) -> None:
    r = e.resource
    dims: dict[str, Decimal] = {}
    for i, comp in enumerate(r.get("component") or []):
        cs = [c for s, c, _ in codings(comp.get("code")) if s == C.LOINC]
        key = (
            "longest_cm"
            if C.LOINC_LONGEST in cs
            else "perpendicular_cm"
            if C.LOINC_PERPENDICULAR in cs
            else None
        )
        if key is None:
            st.why("unknown_code", f"{e.path}.component[{i}].code", code=code_label(comp.get("code")))
            continue
        v = _plain_number(
            comp.get("valueQuantity"), f"{e.path}.component[{i}].valueQuantity", key, C.LENGTH_CM, st
        )
        if v is not None:
            dims[key] = v
    if len(dims) != 2:
        st.why("incomplete_measurement", f"{e.path}.component")
        return
    focus = [ref_of(f) for f in r.get("focus") or []]
    lesion = next((st.lesion_ids[f] for f in focus if f and f in st.lesion_ids), None)
    if lesion is None:
        st.why("unknown_lesion", f"{e.path}.focus", ref=", ".join(f for f in focus if f) or "(no focus)")
        return
    st.add(fld, day, {"lesion": lesion, **dims}, e.path)


def _h_mde(e: Entry, fld: str, day: date, st: _State) -> None:
    events: list[str] = []
    comps = e.resource.get("component") or []
    for i, comp in enumerate(comps):
        code = next((c for s, c, _ in codings(comp.get("code")) if s == C.MMEMD and c in _MDE), None)
        if code is None or not isinstance(comp.get("valueBoolean"), bool):
            st.why("unknown_code", f"{e.path}.component[{i}]", code=code_label(comp.get("code")))
            continue
        if comp["valueBoolean"]:
            events.append(code)
    if not comps:
        st.why("no_value", f"{e.path}.component")
        return
    st.add(fld, day, events, e.path)


def _cyto_value(fld: str, holder: Mapping[str, Any], path: str, st: _State) -> Any:
    if fld == "del_17p_clonal_fraction_pct":
        return _plain_number(holder.get("valueQuantity"), f"{path}.valueQuantity", fld, _PERCENT, st)
    if fld == "del_1p32":
        for t in _value_text(holder):
            n = t.strip().lower()
            if n in ("none", "monoallelic", "biallelic"):
                return n
        if _finding(holder) is False:
            return "none"
        st.why(
            "unknown_value",
            f"{path}.value[x]",
            field=fld,
            value=_value_text(holder),
            accepted="none|monoallelic|biallelic (or not detected)",
        )
        return None
    v = _finding(holder)
    if v is None:
        st.why(
            "unknown_value",
            f"{path}.value[x]",
            field=fld,
            value=_value_text(holder),
            accepted="detected|not detected",
        )
    return v


def _h_cyto(e: Entry, fld: str, day: date, st: _State) -> None:
    v = _cyto_value(fld, e.resource, e.path, st)
    if v is not None:
        st.add(fld, day, v, e.path)


def _h_cyto_panel(e: Entry, fld: str, day: date, st: _State) -> None:
    for i, comp in enumerate(e.resource.get("component") or []):
        path = f"{e.path}.component[{i}]"
        f = _cyto_field(comp.get("code"))
        if f is None:
            st.why("unknown_code", f"{path}.code", code=code_label(comp.get("code")))
            continue
        v = _cyto_value(f, comp, path, st)
        if v is not None:
            st.add(f, day, v, path)


def _h_patient_bool(e: Entry, fld: str, day: date, st: _State) -> None:
    _h_bool(e, fld, day, st)


_HANDLERS: Final = {
    "quantity": _h_quantity,
    "lab": _h_lab,
    "percent": _h_percent,
    "ratio": _h_ratio,
    "count": _h_count,
    "ecog": _h_ecog,
    "bool": _h_bool,
    "patient_bool": _h_patient_bool,
    "no_plasmacytoma": _h_bool,
    "ife": _h_ife,
    "involved": _h_involved,
    "mrd": _h_mrd,
    "tumor_size": _h_tumor_size,
    "mde": _h_mde,
    "cyto": _h_cyto,
    "cyto_fraction": _h_cyto,
    "del_1p32": _h_cyto,
    "cyto_panel": _h_cyto_panel,
}


# --- assembling the record -------------------------------------------------------------------------------------


def _latest(st: _State, fld: str) -> Any:
    facts = sorted(st.facts.get(fld, ()), key=lambda f: f.day or date.min)
    if not facts:
        return None
    last = facts[-1]
    same = [f for f in facts if f.day == last.day]
    if any(f.value != last.value for f in same):
        st.why("conflicting_values", last.path, field=fld, date=last.day)
        return None
    for f in facts:
        if f.day != last.day:
            st.why("superseded", f.path, field=fld)
    return last.value


def _pick(facts: list[_Fact], fld: str, dx: date, st: _State) -> _Fact | None:
    """The value at diagnosis: the one closest to the diagnosis date within the window; ties must agree."""
    inside = [f for f in facts if f.day is not None and abs((f.day - dx).days) <= C.DIAGNOSIS_WINDOW_DAYS]
    if not inside:
        return None
    best = min(abs((f.day - dx).days) for f in inside if f.day is not None)
    closest = [f for f in inside if f.day is not None and abs((f.day - dx).days) == best]
    if any(f.value != closest[0].value for f in closest):
        for f in closest:
            st.why("conflicting_values", f.path, field=fld, date=f.day)
            f.used = True
        return None
    for f in closest:
        f.used = True
    return closest[0]


def _diagnosis(dx: date | None, st: _State) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if dx is not None:
        out["date"] = dx.isoformat()
        for src, dst in (
            ("bone_marrow_plasma_cells_pct", "clonal_bone_marrow_plasma_cells_pct"),
            ("circulating_plasma_cells_pct", "circulating_plasma_cells_pct"),
        ):
            f = _pick(st.facts.get(src, []), src, dx, st)
            if f is not None:
                out[dst] = f.value
                f.at_dx = True
    mde = _latest(st, "myeloma_defining_events")
    if mde is not None:
        out["myeloma_defining_events"] = mde
    return out


def _labs(dx: date | None, st: _State) -> tuple[dict[str, Any], dict[str, Any]]:
    labs: dict[str, Any] = {}
    current: dict[str, Any] = {}
    for fld in _LAB_FIELDS:
        facts = sorted(st.facts.get(fld, []), key=lambda f: f.day or date.min)
        if not facts:
            continue
        chosen: _Fact | None = None
        if dx is not None:
            chosen = _pick(facts, fld, dx, st)
            if chosen is not None:
                labs[fld] = chosen.value
        later = [
            f
            for f in facts
            if f.day is not None and (dx is None or (f.day - dx).days > C.DIAGNOSIS_WINDOW_DAYS)
        ]
        if later:
            last = later[-1]
            same = [f for f in later if f.day == last.day]
            if any(f.value != last.value for f in same):
                for f in same:
                    st.why("conflicting_values", f.path, field=fld, date=f.day)
                    f.used = True
            else:
                current[fld] = last.value
                for f in same:
                    f.used = True
        for f in facts:
            if f.used:
                continue
            if dx is None:
                st.why("no_diagnosis_date", f.path, field=fld)
            elif f.day is not None and (dx - f.day).days > C.DIAGNOSIS_WINDOW_DAYS:
                st.why("outside_diagnosis_window", f.path, field=fld, days=C.DIAGNOSIS_WINDOW_DAYS)
            else:
                st.why("superseded", f.path, field=fld)
    return labs, current


def _cytogenetics(dx: date | None, st: _State) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fld in _CYTO_ORDER:
        facts = st.facts.get(fld, [])
        if not facts:
            continue
        chosen = _pick(facts, fld, dx, st) if dx is not None else None
        if chosen is not None:
            out[fld] = chosen.value
        for f in facts:
            if f.used:
                continue
            if dx is None:
                st.why("no_diagnosis_date", f.path, field=fld)
            elif f.day is not None and abs((f.day - dx).days) > C.DIAGNOSIS_WINDOW_DAYS:
                st.why("outside_diagnosis_window", f.path, field=fld, days=C.DIAGNOSIS_WINDOW_DAYS)
            else:
                st.why("superseded", f.path, field=fld)
    return out


_NON_ANCHOR: Final = (
    "bone_marrow_plasma_cells_pct",
    "bone_marrow_clonal_by_ihc",
    "bone_marrow_kappa_lambda_ratio_ihc",
    "bone_marrow_plasma_cells_counted",
    "circulating_plasma_cells_pct",
)


def _assessments(st: _State, lesion_ids: set[str]) -> list[dict[str, Any]]:
    days: set[date] = set()
    for fld in _ANCHORS:
        days.update(f.day for f in st.facts.get(fld, []) if f.day is not None)
    for fld in _NON_ANCHOR:
        for f in st.facts.get(fld, []):
            # A marrow or blood value chosen as the diagnosis value forms no assessment by itself.
            if f.day is not None and not f.at_dx:
                days.add(f.day)
    by_day: dict[date, dict[str, Any]] = {d: {"date": d.isoformat()} for d in sorted(days)}
    singles = (*_ANCHORS - {"plasmacytomas", "kappa", "lambda"}, *_NON_ANCHOR)
    for fld in singles:
        groups: dict[date, list[_Fact]] = defaultdict(list)
        for f in st.facts.get(fld, []):
            if f.day is not None and f.day in by_day:
                groups[f.day].append(f)
        for d, fs in groups.items():
            if any(f.value != fs[0].value for f in fs):
                for f in fs:
                    st.why("conflicting_values", f.path, field=fld, date=d)
                continue
            by_day[d][fld] = fs[0].value
    # Plasmacytoma measurements: one per lesion per date, in bundle order.
    for f in st.facts.get("plasmacytomas", []):
        if f.day is None:
            continue
        pcs = by_day[f.day].setdefault("plasmacytomas", [])
        same = [p for p in pcs if p["lesion"] == f.value["lesion"]]
        if same:
            if same[0] != f.value:
                st.why("conflicting_values", f.path, field=f"plasmacytoma {f.value['lesion']}", date=f.day)
                pcs.remove(same[0])
            continue
        if f.value["lesion"] not in lesion_ids:
            st.why("unknown_lesion", f.path, ref=f.value["lesion"])
            continue
        pcs.append(f.value)
    _free_light_chains(st, by_day)
    out: list[dict[str, Any]] = []
    for a in by_day.values():
        if a.get("plasmacytomas") == []:
            del a["plasmacytomas"]
        out.append({k: a[k] for k in _ASSESSMENT_ORDER if k in a})
    return [a for a in out if len(a) > 1]


def _free_light_chains(st: _State, by_day: dict[date, dict[str, Any]]) -> None:
    from mmemd.clinical.units import to_canonical

    chains: dict[date, dict[str, _Fact]] = defaultdict(dict)
    for fld in ("kappa", "lambda"):
        for f in st.facts.get(fld, []):
            if f.day is None:
                continue
            prev = chains[f.day].get(fld)
            if prev is not None and prev.value != f.value:
                st.why("conflicting_values", f.path, field=fld, date=f.day)
                chains[f.day][fld] = _Fact(fld, None, None, f.path)
                continue
            chains[f.day].setdefault(fld, f)
    explicit = {f.day: f.value for f in st.facts.get("involved", []) if f.day is not None}
    patient_level = set(explicit.values())
    inferred: str | None = None
    inferred_on: date | None = None
    if len(patient_level) != 1:
        for d in sorted(chains):
            k, lam = chains[d].get("kappa"), chains[d].get("lambda")
            if k is None or lam is None or k.value is None or lam.value is None:
                continue
            kv = to_canonical("free_light_chain", Decimal(k.value["value"]), k.value["unit"])
            lv = to_canonical("free_light_chain", Decimal(lam.value["value"]), lam.value["unit"])
            if lv == 0:
                continue
            ratio = kv / lv
            if ratio > _FLC_RATIO_HIGH or ratio < _FLC_RATIO_LOW:
                inferred, inferred_on = ("kappa" if ratio > _FLC_RATIO_HIGH else "lambda"), d
                break
    reported = False
    for d, pair in sorted(chains.items()):
        involved = explicit.get(d) or (next(iter(patient_level)) if len(patient_level) == 1 else inferred)
        flc: dict[str, Any] = {k: f.value for k, f in pair.items() if f.value is not None}
        if not flc:
            continue
        if involved is None:
            for f in pair.values():
                st.why("involved_chain_unknown", f.path)
            continue
        if involved is inferred and explicit.get(d) is None and len(patient_level) != 1 and not reported:
            st.why("involved_chain_inferred", pair[next(iter(pair))].path, chain=inferred, date=inferred_on)
            reported = True
        flc["involved"] = involved
        if d in by_day:
            by_day[d]["free_light_chains"] = flc


# --- therapy -----------------------------------------------------------------------------------------------------


def _therapy_id(e: Entry, by_ref: Mapping[str, Entry], st: _State) -> str | None:
    r = e.resource
    if e.rtype == "MedicationStatement":
        cc = r.get("medicationCodeableConcept")
        ref = ref_of(r.get("medicationReference"))
        path = f"{e.path}.medicationCodeableConcept"
        if cc is None and ref is not None:
            med = by_ref.get(ref)
            if med is None:
                st.why("unresolved_reference", f"{e.path}.medicationReference", ref=ref)
                return None
            cc, path = med.resource.get("code"), f"{med.path}.code"
    else:
        cc, path = r.get("code"), f"{e.path}.code"
    current, legacy = C.atc_agents()
    from mmemd.knowledge import vocabulary

    ids = vocabulary().therapy_ids
    for system, code, _ in codings(cc):
        if system == C.ATC and code in current:
            return current[code]
        if system == C.ATC and code in legacy:
            st.why("legacy_atc", path, code=code, agent=legacy[code])
            return legacy[code]
        if system == C.MMEMD and code in ids:
            return code
    for t in texts(cc):
        tid = C.therapy_from_text(t)
        if tid is not None:
            return tid
    st.why("unknown_agent", path, what=code_label(cc))
    return None


def _start(e: Entry) -> date | None:
    r = e.resource
    for key in ("effectiveDateTime", "performedDateTime"):
        if r.get(key) is not None:
            return parse_date(r[key])[0]
    for key in ("effectivePeriod", "performedPeriod"):
        p = r.get(key)
        if isinstance(p, Mapping) and p.get("start") is not None:
            return parse_date(p["start"])[0]
    return None


@dataclass
class _Line:
    number: int | None
    start: date | None
    agents: list[str] = field(default_factory=list)
    refractory_agents: list[str] = field(default_factory=list)
    best: dict[str, set[Any]] = field(default_factory=lambda: defaultdict(set))
    paths: list[str] = field(default_factory=list)


def _therapy(therapies: list[Entry], by_ref: Mapping[str, Entry], st: _State) -> None:
    explicit: dict[int, _Line] = {}
    loose: list[tuple[Entry, str, date]] = []
    for e in therapies:
        status = e.resource.get("status")
        excluded = _EXCLUDED_MED_STATUS if e.rtype == "MedicationStatement" else _EXCLUDED_PROC_STATUS
        if status in excluded:
            st.why("status_excluded", f"{e.path}.status", status=status)
            continue
        tid = _therapy_id(e, by_ref, st)
        if tid is None:
            continue
        start = _start(e)
        ext = extension(e.resource, C.EXT_THERAPY_LINE)
        values = sub_extensions(ext) if ext else {}
        number = values.get("line")
        if isinstance(number, int) and not isinstance(number, bool) and number >= 1:
            line = explicit.setdefault(number, _Line(number, start))
            if start is not None and (line.start is None or start < line.start):
                line.start = start
            line.agents.append(tid)
            line.paths.append(e.path)
            if values.get("agent_refractory") is True and tid not in line.refractory_agents:
                line.refractory_agents.append(tid)
            for key in ("best_response", "refractory"):
                if key in values:
                    line.best[key].add(values[key])
        elif start is None:
            st.why("no_start_date", e.path)
        else:
            loose.append((e, tid, start))

    # Without the extension: medications started on the same day form a line; a procedure joins the latest line
    # started on or before its date (a transplant or radiotherapy belongs to the line it consolidates) [I].
    inferred: list[_Line] = []
    for e, tid, start in sorted(
        loose, key=lambda x: (x[2], x[0].rtype == "Procedure")
    ):  # medications first on a day
        target = None
        if e.rtype == "Procedure":
            earlier = [ln for ln in inferred if ln.start is not None and ln.start <= start]
            target = earlier[-1] if earlier else None
        else:
            target = next((ln for ln in inferred if ln.start == start), None)
        if target is None:
            target = _Line(None, start)
            inferred.append(target)
        target.agents.append(tid)
        target.paths.append(e.path)
    first_free = max(explicit, default=0) + 1
    for i, ln in enumerate(sorted(inferred, key=lambda x: x.start or date.min)):
        ln.number = first_free + i
        for p in ln.paths:
            st.why("therapy_line_inferred", p, line=ln.number)

    for ln in sorted([*explicit.values(), *inferred], key=lambda x: x.number or 0):
        out: dict[str, Any] = {"line": ln.number, "agents": ln.agents}
        if ln.start is not None:
            out["start"] = ln.start.isoformat()
        for key in ("best_response", "refractory"):
            vals = ln.best.get(key, set())
            if len(vals) > 1:
                st.why(
                    "conflicting_values", ln.paths[0], field=f"line {ln.number} {key}", date="(therapy line)"
                )
            elif vals:
                v = next(iter(vals))
                ok = v in _RESPONSES if key == "best_response" else isinstance(v, bool)
                if ok:
                    out[key] = v
                else:
                    st.why(
                        "unknown_value", ln.paths[0], field=key, value=v, accepted="IMWG category / boolean"
                    )
        if ln.refractory_agents:
            out["refractory_agents"] = ln.refractory_agents
        st.add("therapy_history", ln.start, out, ln.paths[0])
