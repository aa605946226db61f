"""``assess()``: a patient record in, the ``mmemd.assessment/1`` document out (docs/record.md).

The record is validated as a whole first (:class:`~.errors.RecordError` lists every problem; nothing is assessed
from an invalid record), then EMD is classified (§3), stages and risk computed (§2), and the assessments converted
to canonical-unit :class:`~.snapshot.Snapshot` s for the IMWG response engine (§1).
"""

# Models: no `from __future__ import annotations`: pydantic need not compile each annotation (performance.md).

from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from mmemd._version import __version__
from mmemd.clinical.emd import EmdResult, classify_emd
from mmemd.clinical.record import PatientRecord, ResponseAssessment, _Quantity, parse_record
from mmemd.clinical.response import RESPONSE_CRITERIA_VERSION, ImwgResponse, imwg_response
from mmemd.clinical.risk import HIGH_RISK_DEFINITION
from mmemd.clinical.settings import DEFAULT_CRITERIA_SETTINGS, CriteriaSettings
from mmemd.clinical.snapshot import PlasmacytomaMeasure, Snapshot
from mmemd.clinical.staging import StagingResult, stage
from mmemd.clinical.units import ANALYTES, IDENTITY

ASSESSMENT_SCHEMA: Final = "mmemd.assessment/1"


class Versions(BaseModel):
    """What produced the assessment: a result can be reproduced from the record plus these versions."""

    model_config = ConfigDict(frozen=True)

    mmemd: str
    knowledge_base: str
    response_criteria: str
    high_risk_definition: str


class Assessment(BaseModel):
    """``mmemd.assessment/1``. Later sections (``workup``, ``prognosis``, ``options``) are added as optional fields."""

    model_config = ConfigDict(
        frozen=True,
        populate_by_name=True,
        serialize_by_alias=True,
        title="mmemd.assessment/1",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    schema_: Literal["mmemd.assessment/1"] = Field(default="mmemd.assessment/1", alias="schema")
    patient_id: str
    versions: Versions
    emd: EmdResult
    staging: StagingResult
    response: ImwgResponse


@lru_cache(maxsize=8)
def current_versions() -> Versions:
    """The versions every mmemd output records (package, knowledge base, criteria): one definition for the CLI,
    the service, the reports and the research tools."""
    return _versions(RESPONSE_CRITERIA_VERSION)


def _versions(response_criteria: str) -> Versions:
    from mmemd.knowledge import kb_version

    return Versions(
        mmemd=__version__,
        knowledge_base=kb_version(),
        response_criteria=response_criteria,
        high_risk_definition=HIGH_RISK_DEFINITION,
    )


_IFE: Final = {"positive": True, "negative": False, None: None}


def _canonical(q: _Quantity | None) -> Decimal | None:
    if q is None:
        return None
    # q.canonical(), inlined: six quantities an assessment, the call itself was a fifth of the cost
    conv = ANALYTES[q.analyte].conversions[q.unit]
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


def assess(
    record: PatientRecord | Mapping[str, Any], settings: CriteriaSettings = DEFAULT_CRITERIA_SETTINGS
) -> Assessment:
    """Assess one patient record. Raises :class:`~mmemd.clinical.errors.RecordError` (every problem) if invalid."""
    rec = parse_record(record)
    return Assessment(
        patient_id=rec.id,
        versions=_versions(RESPONSE_CRITERIA_VERSION),
        emd=classify_emd(rec, settings.emd),
        staging=stage(rec, settings.staging, settings.high_risk),
        response=imwg_response(to_snapshots(rec), settings.response, baseline_lesions(rec), phase=rec.phase),
    )


def assessment_json_schema() -> dict[str, Any]:
    """JSON Schema of ``mmemd.assessment/1``, generated from the models."""
    return Assessment.model_json_schema(by_alias=True, mode="serialization")
