"""Decision-support output (the ``workup``, ``prognosis`` and ``options`` sections of ``mmemd.assessment/1``) and the
rule files' input models."""

# Models: no `from __future__ import annotations`: pydantic need not compile each annotation (performance.md).

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mmemd._defaults import new_dict, new_list

Severity = Literal["major", "minor"]


class Bilingual(BaseModel):
    model_config = ConfigDict(frozen=True)

    en: str
    zh: str


class Caution(BaseModel):
    """A reason for care with an option, with the evidence (claims) or patient facts behind it."""

    model_config = ConfigDict(frozen=True)

    en: str
    zh: str
    claims: list[str] = Field(default_factory=new_list)
    severity: Severity = "minor"
    #: the patient facts that made this caution apply (e.g. "refractory to daratumumab (line 2)")
    because: list[str] = Field(default_factory=new_list)
    #: the same facts in Chinese, rendered from the same structured facts through the glossary
    because_zh: list[str] = Field(default_factory=new_list)


class KeyResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    claim: str
    en: str
    zh: str
    grade: str
    emd_specific: bool


class WorkupItem(BaseModel):
    # Kept items are shared between assessments (advice/_engine.py): frozen so no caller can change another
    # patient's advice.
    model_config = ConfigDict(frozen=True)

    id: str
    title_zh: str
    title_en: str
    because: list[Bilingual]
    claims: list[str]
    citations: list[str] = Field(default_factory=new_list)
    detail_en: str = ""
    detail_zh: str = ""


class PrognosisItem(BaseModel):
    # Kept items are shared between assessments (advice/_engine.py): frozen so no caller can change another
    # patient's advice.
    model_config = ConfigDict(frozen=True)

    id: str
    en: str
    zh: str
    value: Decimal | None = None
    value_max: Decimal | None = None
    value_qualifier: str | None = None
    unit: str | None = None
    comparator_value: Decimal | None = None
    timepoint: str | None = None
    population: str
    #: the population in Chinese (from the glossary's phrases); empty when the rule's population is a fixed text
    population_zh: str = ""
    claims: list[str] = Field(default_factory=new_list)
    #: non-knowledge-base sources, by their key in docs/criteria.md §0 (e.g. GREIPP05 for ISS survival)
    citations: list[str] = Field(default_factory=new_list)
    because: list[Bilingual] = Field(default_factory=new_list)


class ScoreBreakdown(BaseModel):
    """score = evidence + applicability + penalties (docs/advice.md "Score and ranking")."""

    # Kept items are shared between assessments (advice/_engine.py): frozen so no caller can change another
    # patient's advice.
    model_config = ConfigDict(frozen=True)

    evidence: int
    emd_specific: int
    match: int
    cautions: int
    applicability: int = Field(
        default=0, description="emd_specific + match: how closely evidence and rule fit"
    )
    penalties: int = Field(default=0, description="the cautions' points (0 or negative)")


class TreatmentOption(BaseModel):
    # Kept items are shared between assessments (advice/_engine.py): frozen so no caller can change another
    # patient's advice.
    model_config = ConfigDict(frozen=True)

    id: str
    title_zh: str
    title_en: str
    agents: list[str]
    applies_because: list[Bilingual]
    cautions: list[Caution]
    claims: list[str]
    key_results: list[KeyResult]
    grade: str
    emd_specific_evidence: bool
    #: best grade among the option's EMD-specific outcome claims (None when all its evidence is general MM)
    emd_evidence_grade: str | None = None
    score: int
    score_breakdown: ScoreBreakdown
    citations: list[str] = Field(default_factory=new_list)
    note_en: str = ""
    note_zh: str = ""
    rank: int = Field(
        default=0, description="1-based position in the ranked list (docs/advice.md Score and ranking)"
    )
    tier: int = Field(
        default=0, description="ranking tier: 0 no major caution, 1 a major caution, 2 never listed first"
    )
    role: str = Field(
        default="other",
        description="clinical role used to break ties: induction, consolidation, new_class, car_t, trial, local, "
        "intensive, other",
    )
    rank_reason: Bilingual | None = Field(
        default=None,
        description="one line on why the option ranks where it does (tier, score parts, clinical order)",
    )
    applicability_note: Bilingual | None = Field(
        default=None,
        description="set when part of the evidence does not apply to this patient (EMD-specific evidence without EMD)",
    )


class NotSuitable(BaseModel):
    """An option whose rule fired but which is not offered, with the reasons (the "considered, not suitable" list)."""

    # Kept items are shared between assessments (advice/_engine.py): frozen so no caller can change another
    # patient's advice.
    model_config = ConfigDict(frozen=True)

    id: str
    title_zh: str
    title_en: str
    reasons: list[Bilingual]
    claims: list[str] = Field(default_factory=new_list)
    #: the first reason in a few words, for page one of the report
    summary: Bilingual | None = None


class EvidenceStatement(BaseModel):
    """What the reviews say — or do not hold — about this patient's situation (e.g. "no evidence on renal dosing")."""

    # Kept items are shared between assessments (advice/_engine.py): frozen so no caller can change another
    # patient's advice.
    model_config = ConfigDict(frozen=True)

    id: str
    en: str
    zh: str
    claims: list[str] = Field(default_factory=new_list)
    citations: list[str] = Field(default_factory=new_list)
    because: list[Bilingual] = Field(default_factory=new_list)


# ---- rule files --------------------------------------------------------------------------------------------------
# The rule models are defer_build: a process with the rules kept in the cache rebuilds them from validated values
# (advice/_engine.py load_rules) and never builds their validators; a changed rule file is validated as before.
class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    when: dict[str, Any] = Field(default_factory=new_dict)


class CautionRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    when: dict[str, Any] = Field(default_factory=new_dict)
    en: str
    zh: str
    claims: tuple[str, ...] = ()
    severity: Severity = "minor"
    #: an option with this caution is never listed first while another option is listed
    never_first: bool = False


class ExcludeRule(BaseModel):
    """When met, the option is not offered and moves to "considered, not suitable" with this reason."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    when: dict[str, Any]
    en: str
    zh: str
    claims: tuple[str, ...] = ()


Role = Literal["induction", "consolidation", "new_class", "car_t", "trial", "local", "intensive", "other"]


class OptionRule(_Rule):
    title_en: str
    title_zh: str
    agents: tuple[str, ...]
    claims: tuple[str, ...] = Field(min_length=1)
    key_claims: tuple[str, ...] = ()
    cautions: tuple[CautionRule, ...] = ()
    exclude: tuple[ExcludeRule, ...] = ()
    citations: tuple[str, ...] = ()
    note_en: str = ""
    note_zh: str = ""
    role: Role = "other"
    #: never listed first while another option is listed (e.g. allogeneic SCT)
    never_first: bool = False


class StatementRule(_Rule):
    en: str
    zh: str
    claims: tuple[str, ...] = ()
    citations: tuple[str, ...] = ()


class WorkupRule(_Rule):
    title_en: str
    title_zh: str
    claims: tuple[str, ...] = ()
    citations: tuple[str, ...] = ()
    detail_en: str = ""
    detail_zh: str = ""


class Figure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    value: Decimal | None = None
    value_max: Decimal | None = None
    unit: str | None = None
    timepoint: str | None = None
    population: str


class PrognosisRule(_Rule):
    en: str
    zh: str
    #: the claim whose numbers are the figure (value, unit, population come from it) ...
    figure_claim: str | None = None
    #: ... or a figure from a staging publication (cite it in ``citations``)
    figure: Figure | None = None
    claims: tuple[str, ...] = ()
    citations: tuple[str, ...] = ()
