"""The knowledge model: sources, their sections and references, and claims.

Shaped after CIViC evidence items (one atomic, cited statement each) and OncoKB/PharmGKB levels (a grade computed
from the evidence, never typed in). Field meanings and value sets: docs/curation.md.
"""

# Models: no `from __future__ import annotations`: pydantic need not compile each annotation (performance.md).

from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mmemd._defaults import new_dict


class Category(StrEnum):
    treatment_outcome = "treatment_outcome"
    treatment_recommendation = "treatment_recommendation"
    incidence = "incidence"
    clinical_feature = "clinical_feature"
    diagnosis = "diagnosis"
    prognosis = "prognosis"
    pathogenesis = "pathogenesis"
    definition = "definition"
    adverse_event = "adverse_event"


class Design(StrEnum):
    rct = "rct"
    prospective = "prospective"
    retrospective = "retrospective"
    meta_analysis = "meta_analysis"
    indirect_comparison = "indirect_comparison"
    case_report = "case_report"
    review = "review"
    preclinical = "preclinical"
    unknown = "unknown"


class Direction(StrEnum):
    # `lower_`: a member named `lower` would shadow str.lower on every member of this str enum.
    higher = "higher"
    lower_ = "lower"
    similar = "similar"
    improved = "improved"
    not_improved = "not_improved"
    worse = "worse"
    associated = "associated"
    effective = "effective"
    limited = "limited"
    safe = "safe"
    uncertain = "uncertain"
    recommended = "recommended"
    upregulated = "upregulated"
    downregulated = "downregulated"
    increased = "increased"
    decreased = "decreased"


class Flag(StrEnum):
    ocr_restored = "ocr_restored"
    source_inconsistency = "source_inconsistency"
    conflicting = "conflicting"


Unit = Literal["%", "months", "years", "patients", "cycles", "ratio"]
Qualifier = Literal[">", "<", ">=", "<=", "~"]


# defer_build on every model here: they are validated when the store is built from the curated files, not when an
# assessment reads a few claims from it (the store's claims are rebuilt without validating: knowledge/_kb.py).
class Population(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    disease: Literal["MM", "NDMM", "RRMM"]
    emd: Literal["emd", "non_emd", "mixed", "unspecified"]
    subgroup: str | None = None


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    number: str
    anchor: str
    numbered: bool = True
    title_zh: str
    title_en: str
    offset: int = -1  # filled from the anchor when the source text is attached


class Reference(BaseModel):
    """A numbered reference cited inside a review (bracket number, first author as the review prints it)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    number: int = Field(ge=1)
    first_author: str | None = None


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str
    alias: str = Field(pattern=r"^[a-z]+$")
    title_zh: str
    title_en: str
    title_note: str | None = None
    language: str
    kind: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    sections: tuple[Section, ...]
    references: tuple[Reference, ...]

    def section_at(self, offset: int) -> Section:
        """The section a character offset lies in (sections are ordered by their anchors' offsets)."""
        found = self.sections[0]
        for sec in self.sections:
            if sec.offset <= offset:
                found = sec
        return found

    def reference(self, number: int) -> Reference | None:
        for ref in self.references:
            if ref.number == number:
                return ref
        return None


class CuratedClaim(BaseModel):
    """A claim exactly as a curator writes it in ``data/claims/*.yaml`` (no computed fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str = Field(pattern=r"^[a-z]+-[a-z0-9.]+-\d{2}$")
    category: Category
    quote: str = Field(min_length=2)
    offset: int | None = Field(default=None, ge=0)
    references: tuple[int, ...] = ()
    study: str | None = None
    design: Design
    population: Population
    n_total: int | None = Field(default=None, ge=1)
    n_emd: int | None = Field(default=None, ge=0)
    interventions: tuple[str, ...] = ()
    comparator: tuple[str, ...] = ()
    regimen: str | None = None
    comparator_regimen: str | None = None
    subjects: tuple[str, ...] = ()
    arm: str | None = None
    comparator_arm: str | None = None
    endpoint: str
    timepoint: str | None = None
    value: Decimal | None = None
    value_max: Decimal | None = None
    value_qualifier: Qualifier | None = None
    unit: Unit | None = None
    comparator_value: Decimal | None = None
    p: str | None = Field(default=None, pattern=r"^(<|>|<=|>=|=)?\s?\d*\.?\d+$")
    direction: Direction | None = None
    statement_en: str = Field(min_length=10)
    statement_zh: str = Field(min_length=5)
    emd_specific: bool
    flags: tuple[Flag, ...] = ()
    conflicts_with: tuple[str, ...] = ()
    number_sources: dict[str, str] = Field(default_factory=new_dict)
    notes: str | None = None

    @field_validator("value", "value_max", "comparator_value", mode="before")
    @classmethod
    def _exact_decimal(cls, v: object) -> object:
        # YAML gives floats; go through str so 57.1 stays 57.1 and not 57.10000000000000142...
        if isinstance(v, float):
            return Decimal(str(v))
        return v


class Claim(CuratedClaim):
    """A validated claim with its computed fields: source alias, section, offset, grade."""

    offset: int = Field(ge=0)
    source: str
    section: str
    grade: str
    file: str

    @property
    def is_quantitative(self) -> bool:
        return self.value is not None
