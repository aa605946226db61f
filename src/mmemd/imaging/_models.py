"""The extractor's output, ``mmemd.imaging/1``: lesions with the character spans of the words each value came from."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

IMAGING_SCHEMA: Final = "mmemd.imaging/1"

Side = Literal["left", "right", "bilateral"]
RelationToBone = Literal["none", "arising_from_bone", "intraosseous"]
Change = Literal["new", "increased", "decreased", "stable", "resolved"]
Certainty = Literal["definite", "possible"]
ImagingModality = Literal["PET-CT", "CT", "MRI", "ultrasound"]
EvidenceField = Literal[
    "lesion", "site", "side", "relation_to_bone", "size_cm", "suv_max", "change", "certainty", "myeloma"
]

# Exact decimals in Python, JSON numbers on the wire (short decimals round-trip exactly through float repr).
JsonDecimal = Annotated[Decimal, PlainSerializer(lambda d: float(d), return_type=float, when_used="json")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Evidence(_Model):
    """The words a value came from: ``text[start:end]`` of the caller's report (``quote``)."""

    field: EvidenceField
    start: int
    end: int
    quote: str
    section: Literal["findings", "impression"]


class ImagingLesion(_Model):
    id: str
    site: str
    side: Side | None = None
    relation_to_bone: RelationToBone
    size_cm: list[JsonDecimal] | None = Field(
        default=None, description="[long, short] in cm, or [single diameter] when only one is given"
    )
    suv_max: JsonDecimal | None = None
    change: Change | None = None
    certainty: Certainty
    sections: list[Literal["findings", "impression"]]
    evidence: list[Evidence]


class ReportEvidence(_Model):
    """Spans of report-level statements (modality, study date, "no extramedullary lesion", "no new lesion")."""

    field: Literal["modality", "study_date", "no_extramedullary_lesion", "no_new_lesion"]
    start: int
    end: int
    quote: str


class ImagingExtraction(_Model):
    schema_: Literal["mmemd.imaging/1"] = Field(default=IMAGING_SCHEMA, alias="schema")
    language: Literal["zh", "en"]
    modality: ImagingModality | None
    study_date: str | None
    no_extramedullary_lesion: bool | None = Field(
        description="true when the report says so (or calls soft tissues and organs normal) and no extramedullary "
        "lesion was read; false when one was; null when the report does not say"
    )
    new_lesion: bool | None
    lesions: list[ImagingLesion]
    evidence: list[ReportEvidence]
    record_patch: dict[str, Any]
    versions: dict[str, str]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)
