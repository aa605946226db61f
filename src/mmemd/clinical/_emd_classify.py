"""The EMD classification rules (docs/criteria.md §3.3, rule set [I]) as plain typed functions.

:func:`mmemd.clinical.emd.classify_emd` is the entry point and documents the order of decisions; the decisions
themselves live here, apart from the pydantic result model and the msgspec settings, so that the optional compiled
build can compile them with mypyc (a model or a Struct cannot be compiled). :func:`classify` returns the fields of an
:class:`~mmemd.clinical.emd.EmdResult`, in its field order; the pure and compiled builds give the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Final, Literal

from mmemd.clinical.record import Lesion, PatientRecord

if TYPE_CHECKING:
    from mmemd.clinical.emd import EmdSettings

EmdCategory = Literal[
    "extramedullary",
    "paraskeletal",
    "none",
    "solitary_bone_plasmacytoma",
    "solitary_extramedullary_plasmacytoma",
    "plasma_cell_leukemia",
    "indeterminate",
]
Timing = Literal["primary", "secondary"]
#: category, timing, cns, sites, also_paraskeletal, minimal_marrow_involvement, reasons
EmdFields = tuple[EmdCategory, Timing | None, bool | None, list[str], bool | None, bool | None, list[str]]

_RELATION_TEXT: Final = {
    "none": "extraosseous lesion without bone contact",
    "arising_from_bone": "paraskeletal lesion arising from bone",
    "intraosseous": "intraosseous (bone) plasmacytoma, not extramedullary",
    None: "relation to bone not recorded",
}
_CONFIRMATION_TEXT: Final = {
    "biopsy": "biopsy-proven",
    "cytology": "confirmed by cytology",
    "csf_flow_cytometry": "confirmed by CSF flow cytometry",
    "imaging_only": "imaging only (histological confirmation recommended)",
}
# Clinician text names the publication (docs/criteria.md §2.6, PCL21), never a file or key.
_PCL_TEXT: Final = "IMWG 2021, Fernández de Larrea et al."


def _biopsy_proven(les: Lesion) -> bool | None:
    if les.biopsy_proven is True or les.confirmed_by == "biopsy":
        return True
    if les.biopsy_proven is False or les.confirmed_by is not None:
        return False
    return None


def _is_cns(les: Lesion, cns_sites: frozenset[str]) -> bool | None:
    if les.cns is True or (les.site is not None and les.site in cns_sites):
        return True
    if les.cns is False or les.site is not None:
        # A recorded non-CNS site is itself evidence that this lesion is not in the CNS.
        return False
    return None


def _lesion_timing(les: Lesion, dx_date: date | None, window: timedelta) -> Timing | None:
    if les.detected_at == "diagnosis":
        return "primary"
    if les.detected_at == "relapse":
        return "secondary"
    if les.detected_on is not None and dx_date is not None:
        return "primary" if les.detected_on <= dx_date + window else "secondary"
    return None


def _describe(les: Lesion, timing: Timing | None, cns: bool | None) -> str:
    parts = [_RELATION_TEXT[les.relation_to_bone]]
    proven = _biopsy_proven(les)
    if les.confirmed_by is not None:
        parts.append(_CONFIRMATION_TEXT[les.confirmed_by])
    elif proven is True:
        parts.append("biopsy-proven")
    elif proven is False:
        parts.append("not biopsy-proven")
    if cns:
        parts.append("CNS involvement")
    if timing == "primary":
        parts.append("present at diagnosis")
    elif timing == "secondary":
        parts.append("detected at relapse/progression")
    site = f" ({les.site})" if les.site else ""
    return f"{les.id}{site}: {', '.join(parts)}"


def _fmt(d: Decimal) -> str:
    return format(d.normalize(), "f")


def _combine_cns(values: Sequence[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    if all(v is False for v in values):
        return False
    return None


def _combine_timing(values: Sequence[Timing | None]) -> Timing | None:
    # EMD is primary when any defining lesion was present at diagnosis; secondary only when all of them came later.
    if "primary" in values:
        return "primary"
    if values and all(v == "secondary" for v in values):
        return "secondary"
    return None


def _result(
    reasons: list[str],
    pcl_note: str | None,
    cns: bool | None,
    soft_sites: list[str],
    category: EmdCategory,
    *,
    timing: Timing | None = None,
    sites: list[str] | None = None,
    also_paraskeletal: bool | None = False,
    minimal: bool | None = None,
) -> EmdFields:
    if pcl_note:
        reasons.append(pcl_note)
    return (
        category,
        timing,
        cns,
        soft_sites if sites is None else sites,
        also_paraskeletal,
        minimal,
        reasons,
    )


def classify(
    record: PatientRecord, settings: EmdSettings, site_ids: frozenset[str], cns_site_ids: frozenset[str]
) -> EmdFields:
    """The record's EMD class and its reasons (docs/criteria.md §3.3), as the fields of an ``EmdResult``."""
    dx = record.diagnosis
    dx_date = dx.date if dx else None
    window = timedelta(days=settings.primary_workup_window_days)
    lesions: list[Lesion] = sorted(record.lesions or (), key=lambda les: les.id)
    reasons: list[str] = []

    timing_of = {les.id: _lesion_timing(les, dx_date, window) for les in lesions}
    cns_of = {les.id: _is_cns(les, cns_site_ids) for les in lesions}
    for les in lesions:
        if les.site is not None and les.site not in site_ids:
            reasons.append(
                f"{les.id}: site {les.site!r} is not a knowledge-base site id; accepted as recorded"
            )

    soft = [les for les in lesions if les.relation_to_bone != "intraosseous"]
    soft_sites = sorted({les.site for les in soft if les.site})
    cns_all = _combine_cns([cns_of[les.id] for les in lesions]) if record.lesions is not None else None

    # 1. Plasma cell leukemia (docs/criteria.md §2.6 PCL21; §3.3 first rule).
    pcl_min = settings.pcl_circulating_pct_min
    dx_cpc = dx.circulating_plasma_cells_pct if dx else None
    later = [
        (a.date, a.circulating_plasma_cells_pct)
        for a in record.assessments or ()
        if a.circulating_plasma_cells_pct is not None
    ]
    pcl_hit: tuple[str, Timing | None] | None = None
    if dx_cpc is not None and dx_cpc >= pcl_min:
        pcl_hit = (f"circulating plasma cells {_fmt(dx_cpc)}% at diagnosis", "primary")
    else:
        for when, cpc in later:
            if cpc >= pcl_min:
                t: Timing | None
                if dx_cpc is not None or (dx_date is not None and when > dx_date + window):
                    t = "secondary"  # below the threshold at diagnosis, or found after the work-up: arose later
                elif dx_date is not None:
                    t = "primary"
                else:
                    t = None
                pcl_hit = (f"circulating plasma cells {_fmt(cpc)}% on {when.isoformat()}", t)
                break
    if pcl_hit is not None:
        reasons.insert(0, f"plasma cell leukemia: {pcl_hit[0]} (≥{_fmt(pcl_min)}% on smear, {_PCL_TEXT})")
        reasons.extend(
            f"{_describe(les, timing_of[les.id], cns_of[les.id])} — a feature of the PCL" for les in soft
        )
        return ("plasma_cell_leukemia", pcl_hit[1], cns_all, soft_sites, False, None, reasons)
    pcl_note = (
        None
        if dx_cpc is not None or later
        else "circulating plasma cells not recorded: plasma cell leukemia not assessed"
    )

    if record.lesions is None:
        reasons.append(
            "lesions not recorded (absent = unknown); record an empty list when imaging found none"
        )
        return _result(reasons, pcl_note, cns_all, soft_sites, "indeterminate", also_paraskeletal=None)
    if not lesions:
        reasons.append("no plasmacytoma recorded")
        return _result(reasons, pcl_note, cns_all, soft_sites, "none")

    # 2. Solitary plasmacytoma (docs/criteria.md §2.6 [M]; §3.3 second rule): a single lesion, no systemic MM.
    bmpc = dx.clonal_bone_marrow_plasma_cells_pct if dx else None
    mdes = dx.myeloma_defining_events if dx else None
    below = settings.solitary_clonal_bmpc_below_pct
    systemic: list[str] = []
    if bmpc is not None and bmpc >= below:
        systemic.append(
            f"clonal bone marrow plasma cells {_fmt(bmpc)}% (≥{_fmt(below)}% = myeloma, IMWG 2014)"
        )
    if mdes:
        systemic.append(f"myeloma-defining events: {', '.join(mdes)}")
    if dx is not None and dx.myeloma_diagnosis_recorded:
        systemic.append("confirmed multiple myeloma diagnosis recorded")
    if len(lesions) > 1:
        systemic.append(f"{len(lesions)} lesions (a solitary plasmacytoma is a single lesion)")

    if not systemic:
        les = lesions[0]
        unknown: list[str] = []
        if bmpc is None:
            unknown.append("diagnosis.clonal_bone_marrow_plasma_cells_pct")
        if mdes is None:
            unknown.append("diagnosis.myeloma_defining_events")
        if les.relation_to_bone is None:
            unknown.append(f"{les.id}.relation_to_bone")
        proven = _biopsy_proven(les)
        if settings.solitary_requires_biopsy and proven is not True:
            unknown.append(
                f"{les.id} biopsy confirmation ({'negative' if proven is False else 'not recorded'})"
            )
        desc = _describe(les, timing_of[les.id], cns_of[les.id])
        if unknown:
            reasons.append(desc)
            reasons.append(
                "single lesion without known systemic myeloma: solitary plasmacytoma vs myeloma cannot be decided; "
                "missing: " + ", ".join(unknown)
            )
            return _result(reasons, pcl_note, cns_all, soft_sites, "indeterminate", also_paraskeletal=None)
        assert bmpc is not None
        minimal = bmpc > 0
        marrow = (
            f"clonal bone marrow plasma cells {_fmt(bmpc)}% (<{_fmt(below)}%: minimal marrow involvement)"
            if minimal
            else "no clonal bone marrow plasma cells"
        )
        reasons.append(desc)
        reasons.append(
            f"single lesion, {marrow}, no myeloma-defining event: solitary plasmacytoma (IMWG 2014)"
        )
        bone = les.relation_to_bone in ("intraosseous", "arising_from_bone")
        return _result(
            reasons,
            pcl_note,
            cns_all,
            soft_sites,
            "solitary_bone_plasmacytoma" if bone else "solitary_extramedullary_plasmacytoma",
            sites=[les.site] if les.site else [],
            minimal=minimal,
        )

    # 3. Myeloma with lesions (docs/criteria.md §3.1, §3.3 third rule).
    reasons.append("not a solitary plasmacytoma: " + "; ".join(systemic))
    em_e = [les for les in lesions if les.relation_to_bone == "none"]
    para = [les for les in lesions if les.relation_to_bone == "arising_from_bone"]
    unknown_rel = [les for les in lesions if les.relation_to_bone is None]
    for les in lesions:
        reasons.append(_describe(les, timing_of[les.id], cns_of[les.id]))

    if em_e:
        defining = em_e
        category: EmdCategory = "extramedullary"
        also: bool | None = True if para else (None if unknown_rel else False)
        if unknown_rel:
            reasons.append(
                "relation to bone unknown for "
                + ", ".join(les.id for les in unknown_rel)
                + ": whether paraskeletal disease is also present cannot be decided"
            )
    elif unknown_rel:
        reasons.append(
            "relation to bone unknown for "
            + ", ".join(les.id for les in unknown_rel)
            + ": extramedullary (takes precedence) vs paraskeletal vs intraosseous cannot be decided"
        )
        return _result(reasons, pcl_note, cns_all, soft_sites, "indeterminate", also_paraskeletal=None)
    elif para:
        defining = para
        category = "paraskeletal"
        also = False
    else:
        reasons.append("only intraosseous lesions: bone disease, not extramedullary disease")
        return _result(reasons, pcl_note, cns_all, soft_sites, "none", sites=[])

    timing = _combine_timing([timing_of[les.id] for les in defining])
    if timing is None:
        reasons.append(
            "timing unknown: no detected_at, and detected_on or diagnosis.date missing for "
            + ", ".join(les.id for les in defining if timing_of[les.id] is None)
        )
    return _result(reasons, pcl_note, cns_all, soft_sites, category, timing=timing, also_paraskeletal=also)
