"""Conditions -> diagnosis date and phase; plasmacytoma Conditions and BodyStructures -> ``lesions``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from mmemd.fhir import _codes as C
from mmemd.fhir import _tables as T
from mmemd.fhir._import._state import ImportState
from mmemd.fhir._resources import (
    Entry,
    code_label,
    codings,
    extension,
    parse_date,
    ref_of,
    sub_extensions,
    texts,
)

_EXCLUDED_COND_VERIFICATION: Final = frozenset({"refuted", "entered-in-error"})
_LESION_FIELDS: Final = {
    "relation_to_bone": frozenset({"none", "arising_from_bone", "intraosseous"}),
    "biopsy_proven": None,
    "detected_at": frozenset({"diagnosis", "relapse"}),
    "modality": frozenset({"PET-CT", "CT", "MRI", "ultrasound", "physical_exam"}),
    "cns": None,
    "confirmed_by": frozenset({"biopsy", "cytology", "csf_flow_cytometry", "imaging_only"}),
}


@dataclass(frozen=True, slots=True)
class Coded:
    """What a Condition's coding says: the table target, the ICD-10-CM remission digit, the organ of a secondary
    neoplasm code, and the code named in reasons."""

    kind: str
    digit: str | None = None
    site: str | None = None
    label: str = ""
    morphology: str | None = (
        None  # ICD-O-3 morphology from the code or the mCODE histology extension / Observation
    )


_MYELOMA_FAMILY: Final = frozenset({"myeloma", "pcl"})
_PLASMACYTOMA: Final = frozenset(
    {"extramedullary_plasmacytoma", "solitary_plasmacytoma", "bone_plasmacytoma"}
)
# clinicalStatus values of a lesion that is not present now; verificationStatus values short of confirmed.
_INACTIVE: Final = frozenset({"inactive", "remission", "resolved"})
_UNCONFIRMED: Final = frozenset({"provisional", "differential", "unconfirmed"})


def _histology(r: Mapping[str, Any], linked: Mapping[str, str], refs: tuple[str | None, ...]) -> str | None:
    """ICD-O-3 morphology of a Condition: mCODE's histology-morphology-behavior extension on it, else a histology
    Observation (LOINC 59847-4) that refers to it."""
    for ext in r.get("extension") or []:
        if isinstance(ext, Mapping) and T.extension_target(str(ext.get("url"))) == "histology":
            for system, code, _ in codings(ext.get("valueCodeableConcept")):
                if T.canonical_system(system) == T.ICD_O_3:
                    return code.strip()
    for ref in refs:
        if ref and ref in linked:
            return linked[ref]
    return None


def condition_coding(e: Entry, linked: Mapping[str, str] | None = None) -> Coded | None:
    """The Condition's kind from its codes (mmemd, ICD-10 in any edition, ICD-O-3, SNOMED), refined by its histology."""
    r = e.resource
    morphology = _histology(r, linked or {}, (e.ref, e.full_url))
    coded: Coded | None = None
    for system, code, _ in codings(r.get("code")):
        if system == C.MMEMD and code == C.PLASMACYTOMA_CODE:
            coded = Coded("lesion", label=f"mmemd {code}")
            break
        dc = T.diagnosis_code(system, code)
        if dc is not None:
            coded = Coded(dc.row.target, dc.remission_digit, dc.row.site, code, None)
            if dc.row.system == T.ICD_O_3:
                morphology = morphology or dc.row.code
            break
    if morphology is not None:
        m = T.diagnosis_code(T.ICD_O_3, morphology)
        if m is not None and (coded is None or coded.kind in ("secondary_neoplasm", "lesion")):
            # A post-coordinated condition (mCODE: a SNOMED "malignant neoplasm of <site>" with an ICD-O-3
            # histology), or a secondary neoplasm whose histology names the plasma cell neoplasm. A coded myeloma
            # stays myeloma whatever histology is attached to it.
            if coded is None or coded.kind == "secondary_neoplasm" or m.row.target in _PLASMACYTOMA:
                site = coded.site if coded is not None else None
                return Coded(
                    m.row.target, coded.digit if coded else None, site, f"ICD-O-3 {morphology}", morphology
                )
        elif m is None and coded is not None and coded.kind == "secondary_neoplasm":
            return (
                None  # the secondary neoplasm of another cancer (its histology is not a plasma cell neoplasm)
            )
    if coded is not None:
        return Coded(coded.kind, coded.digit, coded.site, coded.label, morphology)
    if morphology is None:
        # No listed code: the diagnosis named in the code's text or a coding's display (pattern table).
        for t in texts(r.get("code")):
            target = T.diagnosis_from_text(t)
            if target is not None:
                return Coded(target, None, None, f"text {t!r}", None)
    return None


def _onset(e: Entry) -> date | None:
    r = e.resource
    v = r.get("onsetDateTime")
    if v is None and isinstance(r.get("onsetPeriod"), Mapping):
        v = r["onsetPeriod"].get("start")
    return parse_date(v)[0]


_ASSERTED_DATE: Final = "http://hl7.org/fhir/StructureDefinition/condition-assertedDate"


def _recorded_dx_date(diagnoses: list[tuple[int, Entry, str | None]], st: ImportState) -> date | None:
    """No onset on the diagnosis Condition: the earliest onset of another myeloma diagnosis Condition, else the
    date the diagnosis was asserted (the core ``condition-assertedDate`` extension mCODE uses) or recorded
    (``recordedDate``, what many EHRs fill), each with a reason."""

    def earliest(dated: list[tuple[date, str]]) -> tuple[date, str] | None:
        return min(dated, key=lambda x: x[0]) if dated else None

    onset = earliest([(d, f"{e.path}.onset[x]") for _, e, _ in diagnoses if (d := _onset(e)) is not None])
    if onset is not None:
        st.why("diagnosis_date_from_other", onset[1])
        return onset[0]
    asserted: list[tuple[date, str]] = []
    recorded: list[tuple[date, str]] = []
    for _, e, _ in diagnoses:
        x = extension(e.resource, _ASSERTED_DATE)
        if x is not None and (d := parse_date(x.get("valueDateTime"))[0]) is not None:
            asserted.append((d, f"{e.path}.extension"))
        if (d := parse_date(e.resource.get("recordedDate"))[0]) is not None:
            recorded.append((d, f"{e.path}.recordedDate"))
    found = earliest(asserted) or earliest(recorded)
    if found is not None:
        st.why("diagnosis_date_from_recorded", found[1])
        return found[0]
    return None


def _statuses(r: Mapping[str, Any], key: str) -> set[str]:
    return {c for _, c, _ in codings(r.get(key))}


@dataclass(slots=True)
class Conditions:
    """What the Conditions gave: the diagnosis Condition(s), the date, the lesions, and whether a confirmed myeloma
    diagnosis is recorded (systemic disease for EMD classification)."""

    diagnoses: list[tuple[int, Entry, str | None]]
    dx_date: date | None
    lesions: list[dict[str, Any]]
    myeloma_confirmed: bool


def map_conditions(
    conditions: list[Entry],
    structures: list[Entry],
    st: ImportState,
    *,
    linked_histology: Mapping[str, str] | None = None,
    structure_refs: frozenset[str] = frozenset(),
) -> Conditions:
    diagnoses: list[tuple[int, Entry, str | None]] = []  # (priority, entry, remission digit)
    lesion_entries: list[tuple[Entry, Coded]] = []
    secondary: list[tuple[Entry, Coded]] = []
    myeloma_confirmed = False
    for e in conditions:
        ver = _statuses(e.resource, "verificationStatus")
        if ver & _EXCLUDED_COND_VERIFICATION:
            st.why("status_excluded", f"{e.path}.verificationStatus", status=sorted(ver)[0])
            continue
        coded = condition_coding(e, linked_histology)
        if coded is None:
            st.why("out_of_scope_condition", f"{e.path}.code", code=code_label(e.resource.get("code")))
            continue
        k = coded.kind
        if coded.label.startswith("text "):
            st.why("diagnosis_from_text", f"{e.path}.code", text=coded.label[5:], target=k)
        has_site = (
            bool(e.resource.get("bodySite"))
            or extension(e.resource, C.EXT_LESION) is not None
            or (k == "extramedullary_plasmacytoma" and _site_in_code_text(e) is not None)
            or any("BodyStructure" in (r or "") for r in _extension_refs(e))
        )
        if k == "secondary_neoplasm":
            secondary.append((e, coded))
        elif k == "lesion" or (k in _PLASMACYTOMA and has_site):
            lesion_entries.append((e, coded))
        elif k in _MYELOMA_FAMILY:
            diagnoses.append((0, e, coded.digit))
            if k == "pcl":
                st.why("pcl_coded", f"{e.path}.code")
            elif ver & _UNCONFIRMED:
                st.why("diagnosis_not_confirmed", f"{e.path}.verificationStatus", status=sorted(ver)[0])
            else:
                myeloma_confirmed = True
        else:
            diagnoses.append((1, e, coded.digit))  # a plasmacytoma coded as the disease (no body site)
    # A secondary malignant neoplasm code (C78/C79) is a plasma cell lesion only in a myeloma patient: its
    # histology, when given, was checked above (another cancer's metastasis is not a lesion).
    for e, coded in secondary:
        if diagnoses:
            lesion_entries.append((e, coded))
        else:
            st.why("out_of_scope_condition", f"{e.path}.code", code=code_label(e.resource.get("code")))

    dx_date: date | None = None
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
            dx_date = _recorded_dx_date(diagnoses, st)
        if myeloma_confirmed:
            st.why("myeloma_diagnosis_systemic", f"{best[1].path}.code")

    lesions: list[dict[str, Any]] = []
    seen: set[str] = set()
    # A BodyStructure a lesion Condition refers to (a reference extension, R4's way to point bodySite at a
    # BodyStructure) is that lesion's structure, not another lesion: its measurements belong to the Condition's lesion.
    structure_of: dict[str, tuple[dict[str, Any], Entry, Coded]] = {}
    for e, coded in lesion_entries:
        if not _lesion_present(e, st):
            continue
        les = _lesion(e, st, coded)
        if les["id"] in seen:
            continue
        seen.add(les["id"])
        lesions.append(les)
        for r in _extension_refs(e):
            structure_of[r] = (les, e, coded)
    for e in structures:
        if e.ref and e.ref in st.lesion_ids:
            continue
        own = [x for x in (e.ref, e.full_url) if x]
        found = next((structure_of[x] for x in own if x in structure_of), None)
        if found is not None:
            owner, cond, coded = found
            for x in own:
                st.lesion_ids[x] = str(owner["id"])
            if "site" not in owner:
                site = _lesion(e, ImportState(), None).get("site")
                if site is not None:
                    owner["site"] = site
                    if "relation_to_bone" not in owner:
                        _relation_from_coding(owner, coded, cond.path, st, _lesion_texts(cond))
            continue
        refs = {e.ref, e.full_url} - {None}
        if extension(e.resource, C.EXT_LESION) is None and not refs & structure_refs:
            # A BodyStructure is a lesion only when mmemd's lesion extension or a myeloma resource points at it:
            # otherwise it may be anything (a second primary tumour, an implant site).
            st.why("unrelated_body_structure", e.path)
            continue
        les = _lesion(e, st, None)
        if les["id"] not in seen:
            seen.add(les["id"])
            lesions.append(les)
    return Conditions(diagnoses, dx_date, lesions, myeloma_confirmed)


def _lesion_present(e: Entry, st: ImportState) -> bool:
    """Only active, confirmed plasmacytomas are lesions now: not resolved, abated, provisional or differential."""
    r = e.resource
    clinical = _statuses(r, "clinicalStatus") & _INACTIVE
    if clinical:
        st.why("lesion_not_active", f"{e.path}.clinicalStatus", status=sorted(clinical)[0])
        return False
    abated = next((k for k in r if k.startswith("abatement")), None)
    if abated is not None:
        st.why("lesion_not_active", f"{e.path}.{abated}", status="abated")
        return False
    ver = _statuses(r, "verificationStatus") & _UNCONFIRMED
    if ver:
        st.why("lesion_not_confirmed", f"{e.path}.verificationStatus", status=sorted(ver)[0])
        return False
    return True


def phase_of(conditions: Conditions, st: ImportState, progression_after_therapy: str | None) -> str | None:
    """``relapsed_refractory`` when a relapse is coded (ICD-10-CM 5th character 2, clinicalStatus relapse or
    recurrence), or when progression is recorded after a therapy line (``progression_after_therapy`` names the
    evidence); otherwise ``newly_diagnosed`` with the reason ``phase_default``."""
    if not conditions.diagnoses:
        return None
    best = min(conditions.diagnoses, key=lambda d: (d[0], _onset(d[1]) or date.max))
    for _, e, digit in conditions.diagnoses:
        clinical = _statuses(e.resource, "clinicalStatus")
        # ICD-10-CM 5th character 2 = "in relapse"; FHIR clinicalStatus relapse or recurrence says the same.
        if digit == "2" or clinical & {"relapse", "recurrence"}:
            return "relapsed_refractory"
    if progression_after_therapy is not None:
        st.why("relapse_inferred", progression_after_therapy)
        return "relapsed_refractory"
    for _, e, _ in conditions.diagnoses:
        for t in texts(e.resource.get("code")):
            if T.says_relapse(t):
                st.why("relapse_from_text", f"{e.path}.code", text=t)
                return "relapsed_refractory"
    later = later_line(st)
    if later is not None:
        st.why("relapse_from_lines", later[0], line=later[1])
        return "relapsed_refractory"
    st.why("phase_default", f"{best[1].path}.clinicalStatus")
    return "newly_diagnosed"


def _lesion(e: Entry, st: ImportState, coded: Coded | None) -> dict[str, Any]:
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
        if site is None:
            for t in texts(cc):
                site = C.site_in_text(t)
                if site:
                    st.why("site_in_text", site_path, text=t, site=site)
                    break
        if site is not None:
            les["site"] = site
            break
        st.why("unknown_site", site_path, site=code_label(cc))
    if "site" not in les and not sites and e.rtype == "Condition":
        site = _site_in_code_text(e)
        if site is not None:
            les["site"] = site
            st.why("site_in_text", f"{e.path}.code", text=code_label(r.get("code")), site=site)
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
    if coded is not None:
        if "site" not in les and coded.site is not None:
            les["site"] = coded.site  # the organ of a secondary-neoplasm code (C78.7 -> liver)
        if "relation_to_bone" not in les:
            _relation_from_coding(les, coded, e.path, st, _lesion_texts(e))
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


# Sites that say a C90.2 lesion is bone-related, not extraosseous: the bone itself, or a paraskeletal site.
_PARASKELETAL_SITES: Final = frozenset({"paravertebral"})


def _extension_refs(e: Entry) -> list[str]:
    """References in a resource's extensions (R4 points a Condition's body site at a BodyStructure this way)."""
    out = []
    for ext in e.resource.get("extension") or []:
        r = ref_of(ext.get("valueReference")) if isinstance(ext, Mapping) else None
        if r:
            out.append(r)
    return out


def _lesion_texts(e: Entry) -> list[tuple[str, str]]:
    """(element, text) of a lesion's code and body site (or location) texts and displays."""
    r = e.resource
    sites = [(f".bodySite[{i}]", cc) for i, cc in enumerate(r.get("bodySite") or [])]
    if not sites and r.get("location"):
        sites = [(".location", r["location"])]
    return [(".code", t) for t in texts(r.get("code"))] + [(p, t) for p, cc in sites for t in texts(cc)]


def _site_in_code_text(e: Entry) -> str | None:
    """The one site named in a Condition's code text ("Extramedullary plasmacytoma of the pleura")."""
    return next((s for t in texts(e.resource.get("code")) if (s := C.site_in_text(t)) is not None), None)


def _relation_from_coding(
    les: dict[str, Any], coded: Coded, path: str, st: ImportState, said: list[tuple[str, str]] | None = None
) -> None:
    """Relation to bone from the coding when mmemd's lesion extension does not give it (docs/fhir.md, "Lesions"):
    ICD-O-3 9734/3 (extraosseous plasmacytoma) or a secondary neoplasm of an organ -> ``none``; 9731/3 (plasmacytoma
    of bone) -> ``intraosseous``; ICD-10 C90.2 with a body site -> ``none`` unless the site is bone (left unknown:
    the two say different things) or paraskeletal, by site or by its text (``arising_from_bone``)."""
    site = les.get("site")
    relation: str | None = None
    if coded.morphology == "9734/3" or coded.kind == "secondary_neoplasm":
        # An organ said (by the code or the body site): extraosseous. No site: the relation is not inferred.
        relation = "none" if site not in ("bone", None) else None
    elif coded.morphology == "9731/3" or coded.kind == "bone_plasmacytoma":
        relation = "intraosseous"
        les.setdefault("site", "bone")
    elif coded.kind == "extramedullary_plasmacytoma" and site is not None:
        relation = "arising_from_bone" if site in _PARASKELETAL_SITES else None if site == "bone" else "none"
        where = next((p for p, t in said or [] if T.says_paraskeletal(t)), None)
        if site != "bone" and where is not None:
            # The code or body site text says the mass arises from bone ("arising from the left 6th rib", 骨旁,
            # 肋骨…伴软组织肿块): paraskeletal, whatever organ or region the body site names.
            relation = "arising_from_bone"
            st.why("paraskeletal_from_text", f"{path}{where}")
    if relation is None:
        return
    les["relation_to_bone"] = relation
    st.why("relation_from_coding", f"{path}.code", code=coded.label, relation=relation)


def linked_histology(observations: list[Entry], st: ImportState) -> dict[str, str]:
    """ICD-O-3 morphology from histology Observations (LOINC 59847-4) by the Condition they refer to (``focus``,
    ``derivedFrom`` or a reference-valued extension such as mCODE's related condition). A linked Observation is
    consumed here: it describes its Condition and is not mapped again."""
    out: dict[str, str] = {}
    for o in observations:
        r = o.resource
        if not any(
            (row := T.observation_code(s, c)) is not None and row.target == "histology"
            for s, c, _ in codings(r.get("code"))
        ):
            continue
        morph = next(
            (
                c.strip()
                for s, c, _ in codings(r.get("valueCodeableConcept"))
                if T.canonical_system(s) == T.ICD_O_3
            ),
            None,
        )
        targets = [ref_of(x) for x in (*(r.get("focus") or []), *(r.get("derivedFrom") or []))]
        targets += [
            ref_of(x.get("valueReference")) for x in r.get("extension") or [] if isinstance(x, Mapping)
        ]
        refs = [t for t in targets if (t and t.startswith("Condition/")) or (t and t.startswith("urn:"))]
        if morph is None or not refs:
            continue
        for ref in refs:
            out[ref] = morph
        st.consumed.add(o.path)
    return out


def remission_dates(conditions: Conditions) -> list[date]:
    """When a myeloma Condition coded "in remission" (ICD-10-CM 5th character 1) was recorded: a remission implies
    treatment, so progression after it is a relapse even when the therapy itself was not sent."""
    out: list[date] = []
    for _, e, digit in conditions.diagnoses:
        if digit == "1":
            day = parse_date(e.resource.get("recordedDate"))[0] or _onset(e)
            if day is not None:
                out.append(day)
    return out


def progression_after_therapy(st: ImportState, treated_since: list[date] | None = None) -> str | None:
    """The path of the first evidence of progression after a therapy line started (or after a recorded
    remission, ``treated_since``): an mCODE disease status "worsened", a new lesion, or an M-protein rising from its
    on-treatment nadir by the IMWG progression criterion (:func:`m_protein_progression`); None when there is none."""
    starts = [f.day for f in st.facts.get("therapy_history", []) if f.day is not None]
    starts += treated_since or []
    if not starts:
        return None
    first = min(starts)
    for fld in ("disease_status_worsened", "new_lesion"):
        for f in sorted(st.facts.get(fld, []), key=lambda x: x.day or date.min):
            if f.value is True and f.day is not None and f.day > first:
                return f.path
    return m_protein_progression(st, first)


def later_line(st: ImportState) -> tuple[str, int] | None:
    """A second or later therapy line that is a new treatment: the path and number of the first line numbered 2 or
    more (mmemd's line extension or the line rule) that is not a maintenance agent alone nor local therapy alone
    (radiotherapy, surgery). A new line is begun for progression (or intolerance) [I]."""
    from mmemd.fhir._import.medication import MAINTENANCE_AGENTS
    from mmemd.knowledge import vocabulary

    v = vocabulary()
    for f in sorted(st.facts.get("therapy_history", []), key=lambda x: x.value.get("line") or 0):
        number = f.value.get("line")
        agents = list(f.value.get("agents") or [])
        if not isinstance(number, int) or number < 2 or not agents:
            continue
        local = {t.id for a in agents if (t := v.procedures.get(a)) is not None and t.cls == "local_therapy"}
        treatment = [a for a in agents if a not in local]
        if not treatment or (len(treatment) == 1 and treatment[0] in MAINTENANCE_AGENTS):
            continue  # maintenance alone, or radiotherapy / surgery alone
        return f.path, number
    return None


def m_protein_progression(st: ImportState, first_start: date) -> str | None:
    """The path of a serum or urine M-protein value that meets IMWG progression against the lowest value measured
    since ``first_start`` (the first therapy line): an increase of >= 25% and >= 0.5 g/dL serum / >= 200 mg/24 h
    urine, tested by the response engine's own PD rule (docs/criteria.md §1.3 PD (a), §1.5). IMWG asks for two
    consecutive assessments: the rise counts when the next value of the same kind also meets the criterion, or when
    a new therapy line started after it (the clinicians acted on it). Reason ``m_protein_progression``."""
    from mmemd.clinical.response import DEFAULT_RESPONSE_SETTINGS as settings
    from mmemd.clinical.response import serum_progression, urine_progression
    from mmemd.clinical.units import to_canonical

    line_starts = sorted(f.day for f in st.facts.get("therapy_history", []) if f.day is not None)
    for fld, meets in (("serum_m_protein", serum_progression), ("urine_m_protein", urine_progression)):
        values: list[tuple[date, Decimal, str]] = []
        for f in st.facts.get(fld, []):
            if f.day is None or f.day < first_start or not isinstance(f.value, Mapping):
                continue
            try:
                values.append(
                    (f.day, to_canonical(fld, Decimal(f.value["value"]), str(f.value["unit"])), f.path)
                )
            except (KeyError, ValueError, ArithmeticError):
                continue  # a unit the engine does not accept was already refused with a reason
        values.sort(key=lambda v: v[0])
        for i in range(1, len(values)):
            day, value, path = values[i]
            nadir = min(v for _, v, _ in values[:i])
            if not meets(nadir, value, settings):
                continue
            confirmed: tuple[str, str] | None = None
            if i + 1 < len(values) and meets(nadir, values[i + 1][1], settings):
                confirmed = ("the next value", "下一次检测")
            elif any(d > day for d in line_starts):
                confirmed = ("a new therapy line", "新的治疗线")
            if confirmed is not None:
                st.why(
                    "m_protein_progression",
                    path,
                    field=fld,
                    confirmed_by=confirmed[0],
                    confirmed_by_zh=confirmed[1],
                )
                return path
    return None
