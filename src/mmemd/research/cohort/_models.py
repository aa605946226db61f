"""Result model of ``mmemd cohort analyze`` (``mmemd.cohort_analysis/1``): what the JSON output and the report show."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CohortAnalysis",
    "CohortVersions",
    "CoxSummary",
    "Proportion",
    "ResponseRow",
    "SurvivalSummary",
]

ANALYSIS_SCHEMA = "mmemd.cohort_analysis/1"


class CohortVersions(BaseModel):
    """What produced the analysis (same fields as an assessment's versions, plus the cohort schema and engine)."""

    model_config = ConfigDict(frozen=True)

    mmemd: str
    knowledge_base: str
    response_criteria: str
    high_risk_definition: str
    cohort_schema: str
    ibis: str
    backend: str


class Proportion(BaseModel):
    """``events`` of ``n`` with an exact binomial (Clopper–Pearson) interval; null estimate when ``n`` is 0."""

    model_config = ConfigDict(frozen=True)

    events: int
    n: int
    estimate: float | None
    lower: float | None
    upper: float | None
    conf_level: float
    method: Literal["clopper-pearson"] = "clopper-pearson"


class ResponseRow(BaseModel):
    """Best confirmed IMWG response of the lines of one line number and one EMD status at the line's start."""

    model_config = ConfigDict(frozen=True)

    line: str
    """"1", "2", "3" or "4+"."""
    emd: str
    """EMD status at the line's baseline: none, paraskeletal or extraosseous."""
    lines: int
    categories: dict[str, int]
    """Best confirmed response → number of lines (sCR … PD, not_evaluable)."""
    evaluable: int
    orr: Proportion
    """≥PR among evaluable lines (best response other than not_evaluable)."""
    vgpr_or_better: Proportion


class SurvivalGroup(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    n: int
    events: int
    median: float | None
    median_ci: tuple[float | None, float | None]
    survival_at: list[dict[str, Any]]


class SurvivalSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    endpoint: Literal["PFS", "OS"]
    time_unit: Literal["months"] = "months"
    conf_type: str
    groups: list[SurvivalGroup]
    logrank: dict[str, float] | None


class CoxSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    endpoint: Literal["PFS", "OS"]
    formula: str
    n: int
    events: int
    terms: list[dict[str, Any]]


class CohortAnalysis(BaseModel):
    """The whole analysis. Curves for plots are kept out of the JSON (``curves`` is excluded when dumped)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, serialize_by_alias=True)

    schema_: Literal["mmemd.cohort_analysis/1"] = Field(default="mmemd.cohort_analysis/1", alias="schema")
    source: str
    versions: CohortVersions
    rows: dict[str, int]
    incidence: dict[str, dict[str, Proportion]]
    response: list[ResponseRow]
    response_notes: list[str]
    survival: list[SurvivalSummary]
    cox: list[CoxSummary]
    notes: list[str]
    timings_s: dict[str, float]
    curves: dict[str, Any] = Field(default_factory=dict, exclude=True)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=indent, allow_nan=False)
