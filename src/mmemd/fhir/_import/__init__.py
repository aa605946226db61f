"""FHIR R4 Bundle -> ``mmemd.patient/1`` (docs/fhir.md has the mapping table).

Every entry is either mapped or gets a :class:`~._models.Reason`; nothing is dropped silently. Values are exact
(:class:`decimal.Decimal` from the JSON text); units are kept when the record accepts them and otherwise converted
only by exact powers of ten (``_codes.record_unit``) — an unknown unit is a reason, never an assumption.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Final

from mmemd.fhir._import._assemble import (
    assessment_block,
    cytogenetics_block,
    diagnosis_block,
    lab_blocks,
    latest,
)
from mmemd.fhir._import._state import ImportState
from mmemd.fhir._import.condition import (
    linked_histology,
    map_conditions,
    phase_of,
    progression_after_therapy,
    remission_dates,
)
from mmemd.fhir._import.diagnostic_report import is_imaging, map_imaging_reports
from mmemd.fhir._import.medication import MEDICATIONS, map_therapy
from mmemd.fhir._import.observation import map_observation
from mmemd.fhir._import.patient import age_years, is_own_patient, patient_id
from mmemd.fhir._models import BundleError, BundleProblem, ImportResult
from mmemd.fhir._resources import Entry, bundle_entries, ref_of, resource_problems, validate_bundle

__all__ = ["bundle_to_record", "bundle_to_record_from_parts", "is_plasma_cell_neoplasm"]


# --- entry points ----------------------------------------------------------------------------------------------


def bundle_to_record(bundle: Mapping[str, Any], *, age_at: date | None = None) -> ImportResult:
    """Map a FHIR R4 Bundle (searchset, collection, ...) to ``mmemd.patient/1``.

    ``age_at``: the date at which ``age`` is computed from ``Patient.birthDate`` (default: the diagnosis date).
    Raises :class:`~._models.BundleError` (every problem with its path) when the Bundle itself is not valid FHIR R4;
    a malformed resource inside it is a reason (``invalid_resource``) and the rest is imported.
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
    diagnostic_reports: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None = None,
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
        "diagnostic_reports": diagnostic_reports,
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
                except BundleError as exc:
                    raise BundleError(
                        [
                            BundleProblem(path=root + p.path.removeprefix("Bundle"), message=p.message)
                            for p in exc.problems
                        ]
                    ) from None
                entries += bundle_entries(item, root)
            else:
                entries.append(Entry(root, item if isinstance(item, Mapping) else {}))
    return _map(entries, age_at)


def is_plasma_cell_neoplasm(condition: Mapping[str, Any]) -> bool:
    """Whether a Condition resource is a plasma cell neoplasm the import recognises: myeloma, PCL or a plasmacytoma
    in any coding it reads (ICD-10 in any edition or by OID, ICD-O-3, mCODE histology, SNOMED CT, mmemd). A
    secondary-neoplasm code alone (C78/C79) is not: it needs a myeloma diagnosis beside it."""
    from mmemd.fhir._import.condition import condition_coding

    if not isinstance(condition, Mapping) or condition.get("resourceType") != "Condition":
        return False
    coded = condition_coding(Entry("Condition", condition))
    return coded is not None and coded.kind != "secondary_neoplasm"


# --- the mapping -----------------------------------------------------------------------------------------------


def _valid(entries: list[Entry], st: ImportState) -> list[Entry]:
    """The entries that are valid R4 resources; each problem of the others becomes an ``invalid_resource`` reason
    (pydantic's message names what is wrong, never the value), so one malformed resource costs only itself."""
    out: list[Entry] = []
    for e in entries:
        problems = resource_problems(e.resource, e.path)
        if not problems:
            out.append(e)
        for p in problems:
            st.why("invalid_resource", p.path, rtype=e.rtype, problem=p.message)
    return out


def _map(all_entries: list[Entry], age_at: date | None) -> ImportResult:
    st = ImportState()
    entries = _with_contained(_valid(all_entries, st))
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
        if r is None or not own_refs or r in own_refs or (patient is not None and is_own_patient(r, patient)):
            return False
        st.why("other_patient", f"{e.path}.subject", ref=r)
        return True

    conditions: list[Entry] = []
    observations: list[Entry] = []
    therapies: list[Entry] = []
    structures: list[Entry] = []
    imaging_reports: list[Entry] = []
    referenced_meds: set[str] = set()
    for e in entries:
        t = e.rtype
        if t == "Patient":
            continue
        if t in (
            "Condition",
            "Observation",
            *MEDICATIONS,
            "Procedure",
            "BodyStructure",
            "DiagnosticReport",
        ) and other_patient(e):
            continue
        if t == "Condition":
            conditions.append(e)
        elif t == "Observation":
            observations.append(e)
        elif t in (*MEDICATIONS, "Procedure"):
            therapies.append(e)
            r = ref_of(e.resource.get("medicationReference"))
            if r:
                referenced_meds.add(r)
        elif t == "BodyStructure":
            structures.append(e)
        elif t == "DiagnosticReport" and is_imaging(e.resource):
            imaging_reports.append(e)
        elif t == "DiagnosticReport":
            # Only imaging reports' text is read; a laboratory or pathology report's result Observations are read
            # when they are entries of the input.
            st.why("report_not_imaging", e.path)
        elif t == "Medication":
            continue  # mapped through the statements that reference it (checked below)
        else:
            st.why("unmapped_resource", e.path, rtype=t)
    for e in entries:
        if e.rtype == "Medication" and not ({e.ref, e.full_url} & referenced_meds):
            st.why("unmapped_resource", e.path, rtype="unreferenced Medication")

    record: dict[str, Any] = {"schema": "mmemd.patient/1"}
    pid = patient_id(patient, st)
    record["id"] = pid

    histology = linked_histology(observations, st)
    found = map_conditions(
        conditions,
        structures,
        st,
        linked_histology=histology,
        structure_refs=_structure_refs(conditions, observations),
    )
    dx_date, lesions = found.dx_date, found.lesions
    from_text = map_imaging_reports(imaging_reports, lesions, st)
    lesions = lesions + from_text
    for o in observations:
        map_observation(o, st)
    map_therapy(therapies, by_ref, st)
    phase = phase_of(found, st, progression_after_therapy(st, remission_dates(found)))

    age = age_years(patient, age_at or dx_date, st)
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
    te = latest(st, "transplant_eligible")
    if te is not None:
        record["transplant_eligible"] = te
    ecog = latest(st, "ecog")
    if ecog is not None:
        record["ecog"] = ecog
    lines = st.facts.get("therapy_history")
    if lines:
        record["therapy_history"] = [f.value for f in lines]
    diagnosis = diagnosis_block(dx_date, st)
    if found.myeloma_confirmed:
        diagnosis["myeloma_diagnosis_recorded"] = True
    if diagnosis:
        record["diagnosis"] = diagnosis
    labs, current = lab_blocks(dx_date, st)
    if labs:
        record["labs"] = labs
    if current:
        record["current_labs"] = current
    cyto = cytogenetics_block(dx_date, st)
    if cyto:
        record["cytogenetics"] = cyto
    none_found = latest(st, "lesions")
    if not lesions and none_found is not True and st.no_emd_reports:
        # An imaging report said explicitly "no extramedullary lesion" and nothing else gives one: known none.
        for path in st.no_emd_reports:
            st.why("no_extramedullary_lesion_in_report", path)
        none_found = True
    elif lesions:
        for path in st.no_emd_reports:
            st.why("no_extramedullary_lesion_overruled", path)
    if lesions or none_found is True:
        record["lesions"] = lesions
    assessments = assessment_block(st, {les["id"] for les in lesions})
    if assessments:
        record["assessments"] = assessments
    return ImportResult(
        record=record,
        reasons=st.reasons,
        patient_id=pid,
        lesions_from_text=[str(les["id"]) for les in from_text],
    )


_CONTAINED_READ: Final = frozenset({"Observation", "Condition", "Procedure", "BodyStructure", *MEDICATIONS})


def _with_contained(entries: list[Entry]) -> list[Entry]:
    """Contained resources read as entries of their own (path ``….contained[i]``): a laboratory DiagnosticReport
    or a panel Observation that carries its results as contained Observations, a Condition inside an export. A
    contained Medication is read through the reference ``#id`` of the resource that contains it (therapy); any
    other contained resource is an entry too, so it gets its reason like any other."""
    out: list[Entry] = []
    for e in entries:
        out.append(e)
        for i, c in enumerate(e.resource.get("contained") or []):
            if isinstance(c, Mapping) and c.get("resourceType") != "Medication":
                if c.get("resourceType") not in _CONTAINED_READ:
                    continue  # a Practitioner, Organization, Specimen … of the container: part of it, not data
                out.append(Entry(f"{e.path}.contained[{i}]", c))
    return out


def _structure_refs(conditions: list[Entry], observations: list[Entry]) -> frozenset[str]:
    """References to BodyStructures from myeloma resources: a plasmacytoma measurement's ``focus``, or a
    reference-valued extension (R4 ``bodySite`` reference) on a Condition the import recognises."""
    from mmemd.fhir._import.condition import condition_coding

    refs: set[str] = set()
    for o in observations:
        for f in o.resource.get("focus") or []:
            r = ref_of(f)
            if r:
                refs.add(r)
    for c in conditions:
        if condition_coding(c) is None:
            continue
        for ext in c.resource.get("extension") or []:
            r = ref_of(ext.get("valueReference")) if isinstance(ext, Mapping) else None
            if r:
                refs.add(r)
    return frozenset(refs)
