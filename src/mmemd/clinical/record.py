"""The patient record ``mmemd.patient/1`` (docs/record.md), as pydantic v2 models, with full validation.

* Field names and value sets are exactly the contract's. Unknown fields are rejected (a misspelt field would
  otherwise be dropped silently and its datum read as "unknown").
* ``null`` or an absent field means "not known" — never normal or negative.
* Every quantity is ``{"value": number, "unit": ...}`` with the analyte's accepted units (:mod:`.units`);
  numbers become :class:`decimal.Decimal` via ``Decimal(repr(float))`` (= ``Decimal(str(x))``), so thresholds
  compare exactly. Strings, booleans, NaN and infinities are not numbers here.
* ``PatientRecord.model_validate`` (and :func:`parse_record`, :func:`parse_record_json`) raise
  :class:`~.errors.RecordError` listing *every* problem, field-level and cross-field, each with its JSON path.
"""

# Models: no `from __future__ import annotations`: pydantic need not compile each annotation (performance.md).

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Final, Literal, Self, TypeGuard

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PlainSerializer,
    PlainValidator,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from mmemd.clinical._record_checks import range_check, to_decimal
from mmemd.clinical.errors import Loc, Problem, RecordError, loads, problems_from_validation_error
from mmemd.clinical.units import (
    ANALYTES,
    IDENTITY,
    Beta2MicroglobulinUnit,
    CalciumUnit,
    CreatinineUnit,
    FreeLightChainUnit,
    LdhUnit,
    MassConcentrationGdL,
    UrineMProteinUnit,
)

PATIENT_SCHEMA: Final = "mmemd.patient/1"

# --- scalar types ---------------------------------------------------------------------------------------------


def _dec_json(v: Decimal) -> int | float:
    return int(v) if v == v.to_integral_value() and abs(v) < 2**53 else float(v)


#: Every range check of the models, for the native validator (:mod:`._record_native`), which keeps them as they are.
_RANGE_CHECKS: Final[list[Callable[[object], Decimal]]] = []


def _bounded(
    lo: Decimal | None, hi: Decimal | None, what: str, lo_open: bool = False, hi_open: bool = False
) -> PlainValidator:
    check = range_check(lo, hi, what, lo_open, hi_open)
    _RANGE_CHECKS.append(check)
    return PlainValidator(check)


def _schema(
    lo: float | None, hi: float | None, lo_open: bool = False, hi_open: bool = False
) -> WithJsonSchema:
    schema: dict[str, Any] = {"type": "number"}
    if lo is not None:
        schema["exclusiveMinimum" if lo_open else "minimum"] = lo
    if hi is not None:
        schema["exclusiveMaximum" if hi_open else "maximum"] = hi
    return WithJsonSchema(schema)


_DEC_JSON: Final = PlainSerializer(_dec_json, when_used="json")

Number = Annotated[Decimal, PlainValidator(to_decimal), WithJsonSchema({"type": "number"}), _DEC_JSON]
# A measured quantity's value: a number, never negative (the plausible range per analyte is checked with the unit).
NonNegative = Annotated[Decimal, _bounded(Decimal(0), None, "value"), _schema(0, None), _DEC_JSON]
# A percentage of cells: 0-100 inclusive (docs/record.md; an out-of-range percentage is impossible).
Percent = Annotated[Decimal, _bounded(Decimal(0), Decimal(100), "percentage"), _schema(0, 100), _DEC_JSON]
# Plasmacytoma diameters in cm: 0 x 0 = disappeared (docs/record.md); 50 cm exceeds any reported mass.
Diameter = Annotated[Decimal, _bounded(Decimal(0), Decimal(50), "diameter (cm)"), _schema(0, 50), _DEC_JSON]
# Circulating plasma cells per µL: even extreme leukaemic counts stay far below 10^6/µL.
CellsPerUl = Annotated[
    Decimal,
    _bounded(Decimal(0), Decimal(1_000_000), "circulating plasma cells per µL"),
    _schema(0, 1e6),
    _DEC_JSON,
]
# MRD limit of detection as a fraction (1e-5 = one cell in 10^5): strictly between 0 and 1.
Sensitivity = Annotated[
    Decimal,
    _bounded(Decimal(0), Decimal(1), "MRD sensitivity (a fraction)", True, True),
    _schema(0, 1, True, True),
    _DEC_JSON,
]
# κ/λ ratio of marrow plasma cells by IHC (docs/criteria.md §1.3 sCR): positive; 10^4 is beyond any count.
Ratio = Annotated[
    Decimal, _bounded(Decimal(0), Decimal(10000), "kappa/lambda ratio"), _schema(0, 10000), _DEC_JSON
]

# LDH upper limit of normal (U/L): positive; laboratory ULNs lie in the hundreds.
UpperLimitNormal = Annotated[
    Decimal,
    _bounded(Decimal(0), Decimal(100000), "LDH upper limit of normal", True),
    _schema(0, 1e5, True),
    _DEC_JSON,
]

_DATE_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _to_date(v: object) -> date:
    if type(v) is date:
        return v
    if isinstance(v, str) and _DATE_RE.match(v):
        try:
            return date.fromisoformat(v)
        except ValueError:
            raise PydanticCustomError(
                "date_invalid", "{value} is not a calendar date", {"value": repr(v)}
            ) from None
    raise PydanticCustomError("date_type", "expected an ISO 8601 date YYYY-MM-DD")


def _date_json(v: date) -> str:
    return v.isoformat()


IsoDate = Annotated[
    date,
    PlainValidator(_to_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": _DATE_RE.pattern}),
    PlainSerializer(_date_json, when_used="json"),
]
Id = Annotated[StrictStr, Field(min_length=1)]


def _known_therapy(v: str) -> str:
    from mmemd.knowledge import vocabulary

    ids = vocabulary().therapy_ids
    if v not in ids:
        raise PydanticCustomError(
            "unknown_agent",
            "unknown agent or procedure id {agent}",
            {"agent": repr(v), "accepted": sorted(ids)},
        )
    return v


def _therapy_enum(schema: dict[str, Any]) -> None:
    # Evaluated when the JSON Schema is generated, so importing this module does not load the vocabulary.
    from mmemd.knowledge import vocabulary

    schema["enum"] = sorted(vocabulary().therapy_ids)


TherapyId = Annotated[StrictStr, AfterValidator(_known_therapy), Field(json_schema_extra=_therapy_enum)]

# --- value sets (docs/record.md) ----------------------------------------------------------------------------

Sex = Literal["female", "male"]
Phase = Literal["newly_diagnosed", "relapsed_refractory"]
IfeResult = Literal["positive", "negative"]
Del1p32 = Literal["none", "monoallelic", "biallelic"]
DetectedAt = Literal["diagnosis", "relapse"]
Modality = Literal["PET-CT", "CT", "MRI", "ultrasound", "physical_exam"]
ConfirmedBy = Literal["biopsy", "cytology", "csf_flow_cytometry", "imaging_only"]
RelationToBone = Literal["none", "arising_from_bone", "intraosseous"]
ResponseCategory = Literal["sCR", "CR", "VGPR", "PR", "MR", "SD", "PD", "not_evaluable"]
MyelomaDefiningEvent = Literal[
    "hypercalcemia",
    "renal_insufficiency",
    "anemia",
    "bone_lesions",
    "marrow_plasma_cells_ge_60",
    "flc_ratio_ge_100",
    "mri_focal_lesions",
]
MrdMethod = Literal["NGF", "NGS"]
LightChain = Literal["kappa", "lambda"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- quantities ------------------------------------------------------------------------------------------------


class _Quantity(_Model):
    """``{"value": number, "unit": string}`` of one analyte (accepted units and plausible range: :mod:`.units`)."""

    analyte: ClassVar[str]
    unit: str
    value: NonNegative

    @model_validator(mode="after")
    def _plausible(self) -> Self:
        # Runs only when unit and value are individually valid; a physiologically impossible value (often a unit
        # mix-up such as albumin 32 "g/dL") is rejected rather than silently staged.
        spec = ANALYTES[self.analyte]
        conv = spec.conversions[self.unit]
        c = self.value if conv is IDENTITY else self.value * conv.mul / conv.div  # canonical(), inlined
        if c < spec.plausible_min or c > spec.plausible_max:
            raise PydanticCustomError(
                "implausible_value",
                "{what} {value} {unit} is physiologically impossible (plausible range {lo}-{hi} {canonical})",
                {
                    "what": spec.label,
                    "value": str(self.value),
                    "unit": self.unit,
                    "lo": str(spec.plausible_min),
                    "hi": str(spec.plausible_max),
                    "canonical": spec.canonical,
                },
            )
        return self

    def canonical(self) -> Decimal:
        """The value in the analyte's canonical unit (docs/criteria.md §1.1), exact Decimal arithmetic."""
        conv = ANALYTES[self.analyte].conversions[self.unit]
        return self.value if conv is IDENTITY else self.value * conv.mul / conv.div


class SerumMProtein(_Quantity):
    analyte: ClassVar[str] = "serum_m_protein"
    unit: MassConcentrationGdL


class UrineMProtein(_Quantity):
    analyte: ClassVar[str] = "urine_m_protein"
    unit: UrineMProteinUnit


class Albumin(_Quantity):
    analyte: ClassVar[str] = "albumin"
    unit: MassConcentrationGdL


class Beta2Microglobulin(_Quantity):
    analyte: ClassVar[str] = "beta2_microglobulin"
    unit: Beta2MicroglobulinUnit


class FreeLightChain(_Quantity):
    analyte: ClassVar[str] = "free_light_chain"
    unit: FreeLightChainUnit


class Creatinine(_Quantity):
    analyte: ClassVar[str] = "creatinine"
    unit: CreatinineUnit


class Calcium(_Quantity):
    analyte: ClassVar[str] = "calcium"
    unit: CalciumUnit


class Hemoglobin(_Quantity):
    analyte: ClassVar[str] = "hemoglobin"
    unit: MassConcentrationGdL


class Ldh(_Quantity):
    """LDH with the laboratory's upper limit of normal (same unit); without it, "high LDH" cannot be decided."""

    analyte: ClassVar[str] = "ldh"
    unit: LdhUnit
    upper_limit_normal: UpperLimitNormal | None = None


# --- sections --------------------------------------------------------------------------------------------------


class TherapyLine(_Model):
    line: Annotated[StrictInt, Field(ge=1)]
    agents: list[TherapyId]
    start: IsoDate | None = None
    best_response: ResponseCategory | None = None
    refractory: StrictBool | None = None
    refractory_agents: list[TherapyId] | None = None


class Diagnosis(_Model):
    date: IsoDate | None = None
    clonal_bone_marrow_plasma_cells_pct: Percent | None = None
    circulating_plasma_cells_pct: Percent | None = None
    myeloma_defining_events: list[MyelomaDefiningEvent] | None = None
    # A confirmed multiple myeloma diagnosis recorded in the EHR (e.g. ICD-10 C90.0 imported from FHIR): systemic
    # disease for EMD classification even when the marrow percentage and the myeloma-defining events were not sent.
    myeloma_diagnosis_recorded: StrictBool | None = None


class Labs(_Model):
    """Laboratory values; ``labs`` are at diagnosis (staging), ``current_labs`` present-day."""

    beta2_microglobulin: Beta2Microglobulin | None = None
    albumin: Albumin | None = None
    ldh: Ldh | None = None
    creatinine: Creatinine | None = None
    calcium: Calcium | None = None
    hemoglobin: Hemoglobin | None = None


class Cytogenetics(_Model):
    del_17p: StrictBool | None = None
    del_17p_clonal_fraction_pct: Percent | None = None
    tp53_mutation: StrictBool | None = None
    t_4_14: StrictBool | None = None
    t_14_16: StrictBool | None = None
    t_14_20: StrictBool | None = None
    t_11_14: StrictBool | None = None
    gain_1q: StrictBool | None = None
    del_1p32: Del1p32 | None = None


class Lesion(_Model):
    id: Id
    site: Id | None = None
    relation_to_bone: RelationToBone | None = None
    biopsy_proven: StrictBool | None = None
    detected_at: DetectedAt | None = None
    detected_on: IsoDate | None = None
    modality: Modality | None = None
    cns: StrictBool | None = None
    confirmed_by: ConfirmedBy | None = None


class FreeLightChains(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kappa: FreeLightChain | None = None
    lambda_: FreeLightChain | None = Field(default=None, alias="lambda")
    involved: LightChain | None = None


class PlasmacytomaMeasurement(_Model):
    lesion: Id
    longest_cm: Diameter
    perpendicular_cm: Diameter


class Mrd(_Model):
    method: MrdMethod | None = None
    negative: StrictBool | None = None
    sensitivity: Sensitivity | None = None


class ResponseAssessment(_Model):
    """One disease assessment (a row of ``assessments``)."""

    date: IsoDate
    baseline: StrictBool | None = None
    serum_m_protein: SerumMProtein | None = None
    urine_m_protein: UrineMProtein | None = None
    serum_ife: IfeResult | None = None
    urine_ife: IfeResult | None = None
    free_light_chains: FreeLightChains | None = None
    bone_marrow_plasma_cells_pct: Percent | None = None
    bone_marrow_clonal_by_ihc: StrictBool | None = None
    bone_marrow_kappa_lambda_ratio_ihc: Ratio | None = None
    bone_marrow_plasma_cells_counted: Annotated[StrictInt, Field(ge=0)] | None = None
    circulating_plasma_cells_per_ul: CellsPerUl | None = None
    circulating_plasma_cells_pct: Percent | None = None
    plasmacytomas: list[PlasmacytomaMeasurement] | None = None
    new_lesion: StrictBool | None = None
    mrd: Mrd | None = None
    pet_negative: StrictBool | None = None


class PatientRecord(_Model):
    """``mmemd.patient/1`` — one patient (docs/record.md). Required: ``schema``, ``id``, ``phase``."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        serialize_by_alias=True,
        title="mmemd.patient/1",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    schema_: Literal["mmemd.patient/1"] = Field(alias="schema")
    id: Id
    age: Annotated[StrictInt, Field(ge=0, le=130)] | None = None
    sex: Sex | None = None
    phase: Phase
    transplant_eligible: StrictBool | None = None
    # ECOG performance status 0-5 (5 = dead) — the whole scale is accepted.
    ecog: Annotated[StrictInt, Field(ge=0, le=5)] | None = None
    therapy_history: list[TherapyLine] | None = None
    diagnosis: Diagnosis | None = None
    labs: Labs | None = None
    current_labs: Labs | None = None
    cytogenetics: Cytogenetics | None = None
    lesions: list[Lesion] | None = None
    assessments: list[ResponseAssessment] | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        cross = cross_field_problems(data) if isinstance(data, Mapping) else []
        try:
            model = handler(data)
        except ValidationError as exc:
            raise RecordError([*problems_from_validation_error(exc, cls), *cross]) from None
        if cross:
            raise RecordError(cross)
        return model

    def baseline_index(self) -> int | None:
        """Index of the response baseline: the assessment marked ``baseline: true``, else the first."""
        if not self.assessments:
            return None
        for i, a in enumerate(self.assessments):
            if a.baseline:
                return i
        return 0


# --- cross-field checks (on the raw document, so they run even when fields are invalid) -----------------------


_NUMBER_TYPES: Final = (int, float, Decimal)  # exact type test: bool is not a number here


def _date(v: object) -> date | None:
    if type(v) is str and _DATE_RE.match(v):
        try:
            return date.fromisoformat(v)
        except ValueError:
            return None
    return v if type(v) is date else None


def _is_map(x: object) -> TypeGuard[Mapping[str, Any]]:
    return type(x) is dict or isinstance(x, Mapping)


def _items(data: Mapping[str, Any], key: str) -> list[tuple[int, Mapping[str, Any]]]:
    seq = data.get(key)
    if type(seq) is not list:
        return []
    return [(i, x) for i, x in enumerate(seq) if _is_map(x)]


def cross_field_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Problems that involve more than one field; robust to any malformed shape (those are reported elsewhere)."""
    out: list[Problem] = []

    lesion_ids: list[str] = []
    seen_lesions: dict[str, int] = {}
    for i, les in _items(data, "lesions"):
        lid = les.get("id")
        if isinstance(lid, str) and lid:
            if lid in seen_lesions:
                out.append(
                    Problem(
                        ("lesions", i, "id"),
                        f"duplicate lesion id {lid!r} (also at $.lesions[{seen_lesions[lid]}])",
                        code="duplicate_id",
                    )
                )
            else:
                seen_lesions[lid] = i
                lesion_ids.append(lid)

    seen_lines: dict[int, int] = {}
    for i, line in _items(data, "therapy_history"):
        n = line.get("line")
        if type(n) is int:
            if n in seen_lines:
                out.append(
                    Problem(
                        ("therapy_history", i, "line"),
                        f"duplicate therapy line number {n} (also at $.therapy_history[{seen_lines[n]}])",
                        code="duplicate_line",
                    )
                )
            seen_lines.setdefault(n, i)
        agents = line.get("agents")
        ref = line.get("refractory_agents")
        if isinstance(agents, list) and isinstance(ref, list):
            for j, a in enumerate(ref):
                if isinstance(a, str) and a not in agents:
                    out.append(
                        Problem(
                            ("therapy_history", i, "refractory_agents", j),
                            f"refractory agent {a!r} is not one of this line's agents",
                            tuple(x for x in agents if isinstance(x, str)),
                            code="refractory_agent_not_in_line",
                        )
                    )

    cyto = data.get("cytogenetics")
    if _is_map(cyto):
        frac = cyto.get("del_17p_clonal_fraction_pct")
        del17p = cyto.get("del_17p")
        if type(frac) in _NUMBER_TYPES and frac > 0 and del17p is not True:  # type: ignore[operator]
            out.append(
                Problem(
                    ("cytogenetics", "del_17p"),
                    f"del_17p_clonal_fraction_pct is {frac} but del_17p is "
                    f"{'false' if del17p is False else 'not stated'}; set del_17p to true",
                    code="inconsistent",
                )
            )

    prev: tuple[int, date] | None = None
    baseline_at: int | None = None
    for i, a in _items(data, "assessments"):
        d = _date(a.get("date"))
        if d is not None:
            if prev is not None:
                if d == prev[1]:
                    out.append(
                        Problem(
                            ("assessments", i, "date"),
                            f"duplicate assessment date {d.isoformat()} (also at $.assessments[{prev[0]}].date)",
                            code="duplicate_date",
                        )
                    )
                elif d < prev[1]:
                    out.append(
                        Problem(
                            ("assessments", i, "date"),
                            f"assessments must be in ascending date order: {d.isoformat()} comes after "
                            f"{prev[1].isoformat()} at $.assessments[{prev[0]}].date",
                            code="unordered_dates",
                        )
                    )
            if prev is None or d > prev[1]:
                prev = (i, d)
        if a.get("baseline") is True:
            if baseline_at is not None:
                out.append(
                    Problem(
                        ("assessments", i, "baseline"),
                        f"only one assessment may be the baseline (also $.assessments[{baseline_at}])",
                        code="duplicate_baseline",
                    )
                )
            else:
                baseline_at = i
        flc = a.get("free_light_chains")
        if (
            flc is not None
            and _is_map(flc)
            and (flc.get("kappa") is not None or flc.get("lambda") is not None)
            and flc.get("involved") is None
        ):
            out.append(
                Problem(
                    ("assessments", i, "free_light_chains", "involved"),
                    "free light chain values need the involved chain (the clone's light chain)",
                    ("kappa", "lambda"),
                    code="missing_involved_chain",
                )
            )
        measured: dict[str, int] = {}
        if "plasmacytomas" not in a:
            continue
        for j, pm in _items(a, "plasmacytomas"):
            loc: Loc = ("assessments", i, "plasmacytomas", j)
            lid = pm.get("lesion")
            if isinstance(lid, str) and lid:
                if lid not in seen_lesions:
                    out.append(
                        Problem(
                            (*loc, "lesion"),
                            f"plasmacytoma measurement names unknown lesion {lid!r}; lesions in this record: "
                            + (", ".join(lesion_ids) or "none"),
                            tuple(lesion_ids),
                            code="unknown_lesion",
                        )
                    )
                elif lid in measured:
                    out.append(
                        Problem(
                            (*loc, "lesion"),
                            f"lesion {lid!r} is measured twice in one assessment (also at "
                            f"$.assessments[{i}].plasmacytomas[{measured[lid]}])",
                            code="duplicate_measurement",
                        )
                    )
                measured.setdefault(lid, j)
            longest, perp = pm.get("longest_cm"), pm.get("perpendicular_cm")
            # int, float and Decimal compare exactly with each other; bool and strings are reported elsewhere.
            if type(longest) in _NUMBER_TYPES and type(perp) in _NUMBER_TYPES and perp > longest >= 0:  # type: ignore[operator]
                out.append(
                    Problem(
                        (*loc, "perpendicular_cm"),
                        f"perpendicular diameter {perp} cm exceeds the longest diameter {longest} cm",
                        code="inconsistent",
                    )
                )
    return out


# --- entry points ----------------------------------------------------------------------------------------------


def parse_record(data: PatientRecord | Mapping[str, Any]) -> PatientRecord:
    """A validated record; raises :class:`RecordError` listing every problem."""
    if isinstance(data, PatientRecord):
        return data
    if not isinstance(data, Mapping):
        raise RecordError([Problem((), "expected a JSON object", code="model_type")])
    return PatientRecord.model_validate(data)


def parse_record_json(text: str | bytes) -> PatientRecord:
    """Parse and validate one JSON document (malformed JSON is reported the same way, at path ``$``)."""
    read = _native()
    if read is not None:
        rec = read(text)
        if rec is not None:
            return rec
    return parse_record(loads(text))


# A process that reads many JSON records (a batch, a server) reads them natively (:mod:`._record_native`: the same
# checks without a Python call per number and quantity); the validator is built at the NATIVE_AFTER-th record, so
# that a process reading one record does not pay for building it. A document it does not accept is read again by
# the input boundary and the models, whose verdict and report are the only ones returned.
NATIVE_AFTER: Final = 8
_json_records_read = 0
_native_read: Callable[[str | bytes], PatientRecord | None] | None = None


def _native() -> Callable[[str | bytes], PatientRecord | None] | None:
    global _json_records_read, _native_read
    if _native_read is not None or _json_records_read < 0:
        return _native_read
    _json_records_read += 1
    if _json_records_read < NATIVE_AFTER:
        return None
    from mmemd.clinical import _record_native

    try:
        _record_native.native_validator()
    except _record_native.Unsupported:  # a Python validator without a native form: the models alone, always
        _json_records_read = -1
        return None
    _native_read = _record_native.read
    return _native_read


def validate_record(data: Any) -> list[Problem]:
    """Every problem of a record (empty when valid)."""
    try:
        if isinstance(data, (str, bytes)):
            parse_record_json(data)
        else:
            parse_record(data)
    except RecordError as exc:
        return list(exc.problems)
    return []


def patient_json_schema() -> dict[str, Any]:
    """JSON Schema of ``mmemd.patient/1``, generated from the models."""
    return PatientRecord.model_json_schema(by_alias=True)
