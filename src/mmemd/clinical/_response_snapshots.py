"""Record assessments to response snapshots: what the IMWG response engine reads (docs/criteria.md §1.1, §1.3).

Re-exported by :mod:`mmemd.clinical.assessment`, where these functions were first written. Kept apart, without pydantic
models of its own, so that a compiled build of the package (mypyc) can compile it with the response engine: the
snapshots of a record are built once per record, ten per record in the dense batch benchmark.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from mmemd.clinical.record import PatientRecord, ResponseAssessment, _Quantity
from mmemd.clinical.snapshot import PlasmacytomaMeasure, Snapshot
from mmemd.clinical.units import ANALYTES, IDENTITY, Conversion

__all__ = ["baseline_lesions", "to_snapshots"]

_IFE: Final = {"positive": True, "negative": False, None: None}


# analyte -> unit -> conversion as plain dicts, read four times a snapshot: one dict lookup each instead of a read-only
# mapping's and a struct attribute's (the same Conversion objects: the identity test below still holds).
_CONVERSIONS: Final[dict[str, dict[str, Conversion]]] = {n: dict(a.conversions) for n, a in ANALYTES.items()}


def _canonical(q: _Quantity | None) -> Decimal | None:
    if q is None:
        return None
    # q.canonical(), inlined: six quantities an assessment, the call itself was a fifth of the cost
    conv = _CONVERSIONS[q.analyte][q.unit]
    return q.value if conv is IDENTITY else q.value * conv.mul / conv.div


# The two named tuples are built by tuple.__new__ with their values in field order: what their generated __new__
# does, without its Python frame (0.75 -> 0.33 us a snapshot, 0.48 -> 0.29 us a measurement; ten snapshots and twenty
# measurements in the dense benchmark record). A test holds each snapshot equal, field by field, to the keyword build.
_tuple_new: Final = tuple.__new__


def _snapshot(a: ResponseAssessment, baseline: bool, bone: frozenset[str] = frozenset()) -> Snapshot:
    flc = a.free_light_chains
    mrd = a.mrd
    pcs = a.plasmacytomas
    return _tuple_new(
        Snapshot,
        (
            a.date,
            baseline,
            _canonical(a.serum_m_protein),
            _canonical(a.urine_m_protein),
            _IFE[a.serum_ife],
            _IFE[a.urine_ife],
            None if flc is None else _canonical(flc.kappa),
            None if flc is None else _canonical(flc.lambda_),
            None if flc is None else flc.involved,
            a.bone_marrow_plasma_cells_pct,
            a.bone_marrow_clonal_by_ihc,
            a.bone_marrow_kappa_lambda_ratio_ihc,
            a.bone_marrow_plasma_cells_counted,
            a.circulating_plasma_cells_per_ul,
            a.circulating_plasma_cells_pct,
            ()
            if not pcs
            else tuple(
                [
                    _tuple_new(PlasmacytomaMeasure, (p.lesion, p.longest_cm, p.perpendicular_cm))
                    for p in pcs
                    if p.lesion not in bone
                ]
            ),
            a.new_lesion,
            None if mrd is None else mrd.method,
            None if mrd is None else mrd.negative,
            None if mrd is None else mrd.sensitivity,
            a.pet_negative,
        ),
    )


def to_snapshots(record: PatientRecord) -> tuple[Snapshot, ...]:
    """The record's assessments as canonical-unit snapshots (dates are validated unique and ascending).

    Intraosseous (bone) plasmacytomas are left out of the snapshots' plasmacytomas: the IMWG soft-tissue
    plasmacytoma rules (SPD for PR/MR, disappearance for CR, new-lesion and SPD progression; docs/criteria.md
    §1.3) are about soft-tissue disease, and the response engine treats every listed lesion as one — consistent
    with :func:`baseline_lesions`.
    """
    base = record.baseline_index()
    bone = frozenset(les.id for les in record.lesions or () if les.relation_to_bone == "intraosseous")
    return tuple(_snapshot(a, i == base, bone) for i, a in enumerate(record.assessments or ()))


def baseline_lesions(record: PatientRecord) -> tuple[str, ...]:
    """Ids of the soft-tissue plasmacytomas known at the response baseline.

    Soft tissue = not intraosseous (extraosseous, paraskeletal, or relation unknown — counting an unknown one keeps
    the plasmacytoma requirement of PR/CR, docs/criteria.md §1.3, rather than silently dropping it). Known at
    baseline = ``detected_on`` on or before the baseline date or, without a date, measured at the baseline.
    """
    base = record.baseline_index()
    if base is None or not record.lesions:
        return ()
    assert record.assessments is not None
    baseline = record.assessments[base]
    measured = {p.lesion for p in baseline.plasmacytomas or ()}
    out = []
    for les in record.lesions:
        if les.relation_to_bone == "intraosseous":
            continue
        if les.detected_on is not None:
            if les.detected_on <= baseline.date:
                out.append(les.id)
        elif les.id in measured:
            out.append(les.id)
    return tuple(out)
