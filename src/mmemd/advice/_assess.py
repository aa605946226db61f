"""The full ``mmemd.assessment/1`` document: the clinical engine's sections plus work-up, prognosis and options.

Composed here rather than in ``clinical/`` so that the clinical engine stays free of the knowledge base.
"""

# Models: no `from __future__ import annotations`: pydantic need not compile each annotation (performance.md).

from collections.abc import Mapping
from typing import Any, cast

from pydantic import BaseModel, Field

from mmemd._defaults import new_list
from mmemd.advice._context import PatientContext, build_context
from mmemd.advice._engine import Advice, _in_field_order, advise_context
from mmemd.advice._models import (
    EvidenceStatement,
    NotSuitable,
    PrognosisItem,
    TreatmentOption,
    WorkupItem,
)
from mmemd.clinical.assessment import Assessment, assess
from mmemd.clinical.context import KEY_CLASSES, Fact, LineSummary
from mmemd.clinical.record import PatientRecord, parse_record
from mmemd.clinical.settings import DEFAULT_CRITERIA_SETTINGS, CriteriaSettings
from mmemd.knowledge import KnowledgeBase


class ContextFact(BaseModel):
    """One derived patient fact: true, false or null (unknown), with its reason."""

    name: str
    value: bool | None
    en: str
    zh: str


class LineRow(BaseModel):
    """One therapy line with its refractoriness, recorded or derived (progression on the line, IMWG)."""

    line: int
    agents: list[str]
    best_response: str | None = None
    refractory: bool | None = None
    #: "recorded", "derived" or null
    refractory_source: str | None = None
    refractory_agents: list[str] = Field(default_factory=new_list)
    current: bool = False


class PatientContextSection(BaseModel):
    """The derived patient context (clinical/context.py) the options were chosen on."""

    pathway: str | None = None
    egfr_ckd_epi_2021: str | None = Field(default=None, description="mL/min/1.73 m², rounded to 1 decimal")
    facts: list[ContextFact] = Field(default_factory=new_list)
    lines: list[LineRow] = Field(default_factory=new_list)
    exposed_classes: list[str] = Field(
        default_factory=new_list,
        description="key drug classes ever given (PI, IMiD, anti-CD38, anti-SLAMF7, BCMA, XPO1)",
    )
    refractory_classes: list[str] = Field(
        default_factory=new_list,
        description="key drug classes the disease is refractory to (recorded or derived)",
    )
    refractory_agents: list[str] = Field(
        default_factory=new_list, description="agents the disease is refractory to"
    )


class AdvisedAssessment(Assessment):
    """``mmemd.assessment/1`` with the decision-support sections (docs/record.md "Later sections")."""

    workup: list[WorkupItem] = Field(default_factory=new_list)
    prognosis: list[PrognosisItem] = Field(default_factory=new_list)
    options: list[TreatmentOption] = Field(default_factory=new_list)
    considered_not_suitable: list[NotSuitable] = Field(
        default_factory=new_list,
        description="options whose rule fired but which are not offered, with the reasons",
    )
    evidence_statements: list[EvidenceStatement] = Field(
        default_factory=new_list, description="what the reviews say, or do not hold, about this situation"
    )
    patient_context: PatientContextSection | None = Field(
        default=None, description="the derived patient context the options were chosen on"
    )


#: Section rows kept by the facts they render (a fact or line takes few distinct values over a batch): rows are
#: shared between assessments — read them, never mutate them. Emptied when full, to bound memory.
_ROWS: dict[Any, Any] = {}
_ROWS_KEPT = 512


def _row(key: Any, make: Any) -> Any:
    hit = _ROWS.get(key)
    if hit is None:
        if len(_ROWS) >= _ROWS_KEPT:
            _ROWS.clear()
        hit = _ROWS[key] = make()
    return hit


def _fact_row(name: str, f: Fact) -> ContextFact:
    # keyed by what the row shows, as a plain tuple (hashed and compared in C): a row met before costs no closure
    key = ("fact", name, f.value, f.en, f.zh)
    hit = _ROWS.get(key)
    if hit is None:
        hit = _row(key, lambda: ContextFact.model_construct(name=name, value=f.value, en=f.en, zh=f.zh))
    return cast(ContextFact, hit)


def _line_row(ln: LineSummary, current: bool) -> LineRow:
    refractory = ln.refractory.value
    key = (
        "line",
        ln.line,
        ln.agents,
        ln.best_response,
        refractory,
        ln.refractory_source,
        ln.refractory_agents,
        current,
    )
    hit = _ROWS.get(key)
    if hit is None:
        hit = _row(
            key,
            lambda: LineRow.model_construct(
                line=ln.line,
                agents=list(ln.agents),
                best_response=ln.best_response,
                refractory=refractory,
                refractory_source=ln.refractory_source,
                refractory_agents=list(ln.refractory_agents),
                current=current,
            ),
        )
    return cast(LineRow, hit)


#: Built from values that already have their types (this runs once per assessed record): what ``model_construct``
#: gives, without its per-call walk over the fields.
_context_section = _in_field_order(PatientContextSection)


def context_section(ctx: PatientContext | None) -> PatientContextSection | None:
    c = ctx.clinical if ctx is not None else None
    if c is None:
        return None
    current = c.current_line.line if c.current_line else None
    return _context_section(
        c.pathway,
        f"{c.egfr:.1f}" if c.egfr is not None else None,
        [_fact_row(n, f) for n, f in c.facts().items()],
        [_line_row(ln, ln.line == current) for ln in c.lines],
        [k for k in KEY_CLASSES if k in c.exposed_classes],
        [k for k in KEY_CLASSES if k in c.refractory_classes],
        sorted(c.refractory_agents),
    )


_advised_assessment = _in_field_order(AdvisedAssessment)
#: The clinical engine's sections, which come first in ``AdvisedAssessment``.
_CLINICAL_FIELDS = tuple(Assessment.__pydantic_fields__)


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
    d = base.__dict__
    full = _advised_assessment(
        *[d[name] for name in _CLINICAL_FIELDS],
        advice.workup,
        advice.prognosis,
        advice.options,
        advice.not_suitable,
        advice.statements,
        context_section(advice.context),
    )
    return full, advice


def assessment_json_schema() -> dict[str, Any]:
    """JSON Schema of ``mmemd.assessment/1`` with the decision-support sections, generated from the models."""
    return AdvisedAssessment.model_json_schema(by_alias=True, mode="serialization")
