"""Decision support: the work-up a patient still needs, the prognosis figures that apply, and the treatment options
the evidence supports — each citing knowledge-base claims, with cautions and a documented score. Never a
prescription: see docs/advice.md.

>>> from mmemd import advice, knowledge
>>> result = advice.advise(record, assessment, knowledge.load())  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from mmemd.advice._conditions import CONDITIONS, Check
from mmemd.advice._context import PatientContext, build_context
from mmemd.advice._engine import Advice, Fired, RuleError, Rules, check_rules, load_rules
from mmemd.advice._models import (
    Caution,
    EvidenceStatement,
    KeyResult,
    NotSuitable,
    PrognosisItem,
    TreatmentOption,
    WorkupItem,
)
from mmemd.advice._score import CAUTION_POINTS, EMD_SPECIFIC_POINTS, GRADE_POINTS, MATCH_POINTS
from mmemd.knowledge import KnowledgeBase

__all__ = [
    "CAUTION_POINTS",
    "CONDITIONS",
    "EMD_SPECIFIC_POINTS",
    "GRADE_POINTS",
    "MATCH_POINTS",
    "Advice",
    "Caution",
    "Check",
    "EvidenceStatement",
    "Fired",
    "KeyResult",
    "NotSuitable",
    "PatientContext",
    "PrognosisItem",
    "RuleError",
    "Rules",
    "TreatmentOption",
    "WorkupItem",
    "advise",
    "assess_with_advice",
    "assessment_json_schema",
    "build_context",
    "check_rules",
    "load_rules",
]


def assess_with_advice(record: Any, kb: KnowledgeBase | None = None) -> tuple[Any, Advice]:
    """The full ``mmemd.assessment/1`` (with work-up, prognosis, options) and the rule trace."""
    from mmemd.advice._assess import assess_with_advice as _impl

    return _impl(record, kb)


def assessment_json_schema() -> dict[str, Any]:
    """JSON Schema of ``mmemd.assessment/1`` including the decision-support sections."""
    from mmemd.advice._assess import assessment_json_schema as _impl

    return _impl()


def advise(record: Any, assessment: Any, kb: KnowledgeBase) -> Advice:
    """Work-up, prognosis and options for one patient (record and assessment as models or dicts)."""
    from mmemd.advice._engine import advise_context

    return advise_context(build_context(record, assessment, kb.vocabulary), kb)
