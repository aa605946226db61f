"""``assess()``: a patient record in, the ``mmemd.assessment/1`` document out (docs/record.md).

The record is validated as a whole first (:class:`~.errors.RecordError` lists every problem; nothing is assessed
from an invalid record), then EMD is classified (§3), stages and risk computed (§2), and the assessments converted
to canonical-unit :class:`~.snapshot.Snapshot` s for the IMWG response engine (§1).
"""

# Models: no `from __future__ import annotations`: pydantic need not compile each annotation (performance.md).

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from mmemd._version import __version__
from mmemd.clinical._response_snapshots import baseline_lesions as baseline_lesions
from mmemd.clinical._response_snapshots import to_snapshots as to_snapshots
from mmemd.clinical.emd import EmdResult, classify_emd
from mmemd.clinical.record import PatientRecord, parse_record
from mmemd.clinical.response import RESPONSE_CRITERIA_VERSION, ImwgResponse, imwg_response
from mmemd.clinical.risk import HIGH_RISK_DEFINITION
from mmemd.clinical.settings import DEFAULT_CRITERIA_SETTINGS, CriteriaSettings
from mmemd.clinical.staging import StagingResult, stage

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
