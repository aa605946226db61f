"""The full ``mmemd.assessment/1`` document: the clinical engine's sections plus work-up, prognosis and options.

Composed here rather than in ``clinical/`` so that the clinical engine stays free of the knowledge base.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from mmemd.advice._context import build_context
from mmemd.advice._engine import Advice, advise_context
from mmemd.advice._models import PrognosisItem, TreatmentOption, WorkupItem
from mmemd.clinical.assessment import Assessment, assess
from mmemd.clinical.record import PatientRecord, parse_record
from mmemd.clinical.settings import DEFAULT_CRITERIA_SETTINGS, CriteriaSettings
from mmemd.knowledge import KnowledgeBase


class AdvisedAssessment(Assessment):
    """``mmemd.assessment/1`` with the decision-support sections (docs/patient-record.md "Later sections")."""

    workup: list[WorkupItem] = Field(default_factory=list)
    prognosis: list[PrognosisItem] = Field(default_factory=list)
    options: list[TreatmentOption] = Field(default_factory=list)


def assess_with_advice(
    record: PatientRecord | Mapping[str, Any],
    kb: KnowledgeBase | None = None,
    settings: CriteriaSettings = DEFAULT_CRITERIA_SETTINGS,
) -> tuple[AdvisedAssessment, Advice]:
    """Assess a record and add work-up, prognosis and options; also return the rule trace (for ``explain``)."""
    if kb is None:
        from mmemd.knowledge import load

        kb = load()
    rec = parse_record(record)
    base = assess(rec, settings)
    advice = advise_context(build_context(rec, base, kb.vocabulary), kb)
    fields = {name: getattr(base, name) for name in type(base).model_fields}
    full = AdvisedAssessment.model_construct(
        **fields, workup=advice.workup, prognosis=advice.prognosis, options=advice.options
    )
    return full, advice


def assessment_json_schema() -> dict[str, Any]:
    """JSON Schema of ``mmemd.assessment/1`` with the decision-support sections, generated from the models."""
    return AdvisedAssessment.model_json_schema(by_alias=True, mode="serialization")
