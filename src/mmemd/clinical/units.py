"""Accepted units per analyte and exact conversion to the canonical units of docs/criteria.md §1.1.

Every analyte of ``mmemd.patient/1`` has a short list of accepted unit spellings (docs/record.md, "Rules").
Conversions are exact ``Decimal`` arithmetic: each unit is described by a rational factor ``mul / div`` so that
``canonical = value * mul / div`` and the inverse ``value = canonical * div / mul``. Nothing is ever guessed:
an unknown unit raises :class:`UnitError` naming the field and the accepted units.

Accepted spellings beyond the contract's list, and why (each is the *same unit*, only typography differs):

* ``mg/24 h`` for ``mg/24h`` — docs/criteria.md §1.1 itself writes the canonical urine unit as "mg/24 h".
* ``umol/L`` (ASCII) and ``μmol/L`` (Greek small letter mu, U+03BC) for ``µmol/L`` (micro sign, U+00B5) —
  the two code points render identically and Unicode NFKC folds the micro sign into the Greek mu; ``u`` is the
  conventional ASCII transliteration of the micro prefix (e.g. UCUM's ``umol/L``).

No other alias is accepted (e.g. ``IU/L`` for LDH, ``g/24h`` for urine M-protein, ``mmol/L`` for haemoglobin):
the contract does not list them, and accepting them would be guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Final, Literal, get_args

import msgspec

_ONE: Final = Decimal(1)
_TEN: Final = Decimal(10)

# Creatinine: 1 mg/dL = 88.4 µmol/L. Provenance: molar mass of creatinine 113.12 g/mol, so
# 1 mg/dL = 10 mg/L / 113.12 g/mol = 0.08840 mmol/L = 88.40 µmol/L; the same factor is printed by SI-unit
# conversion tables and is consistent with docs/criteria.md §1.1 ("2 mg/dL ≈ 177 µmol/L": 2 × 88.4 = 176.8)
# and §2.6 ("creatinine >177 µmol/L (>2 mg/dL)"). The factor itself is [M] (not in a source read for the spec).
CREATININE_UMOL_L_PER_MG_DL: Final = Decimal("88.4")

# Calcium: 1 mmol/L = 4.008 mg/dL. Provenance: standard atomic weight of calcium 40.078 g/mol, so
# 1 mmol/L = 40.078 mg/L = 4.0078 mg/dL, rounded to the customary 4.008; consistent with docs/criteria.md §1.1
# ("11 mg/dL ≈ 2.75 mmol/L": 2.75 × 4.008 = 11.02) and §2.6. The factor itself is [M].
CALCIUM_MG_DL_PER_MMOL_L: Final = Decimal("4.008")

# The unit spellings of the contract (docs/record.md "Rules"), as types for the record models.
MassConcentrationGdL = Literal["g/dL", "g/L"]
Beta2MicroglobulinUnit = Literal["mg/L", "mg/dL"]
FreeLightChainUnit = Literal["mg/dL", "mg/L"]
UrineMProteinUnit = Literal["mg/24h", "mg/24 h"]
LdhUnit = Literal["U/L"]
CreatinineUnit = Literal["mg/dL", "µmol/L", "μmol/L", "umol/L"]
CalciumUnit = Literal["mg/dL", "mmol/L"]


# gc=False: holds numbers, strings, dates and tuples of them only, so never part of a reference cycle
class Conversion(msgspec.Struct, frozen=True, gc=False):
    """``canonical = value * mul / div`` (a rational factor keeps both directions exact where possible)."""

    mul: Decimal
    div: Decimal


class AnalyteUnits(msgspec.Struct, frozen=True):
    """Accepted units of one analyte, its canonical unit and its plausibility bounds (canonical, inclusive)."""

    field: str  # the record's field name, e.g. "serum_m_protein"
    label: str  # human name used in messages
    canonical: str
    conversions: Mapping[str, Conversion]
    plausible_min: Decimal
    plausible_max: Decimal
    plausibility_note: str  # why these bounds (documented in docs/clinical.md)

    @property
    def accepted(self) -> tuple[str, ...]:
        return tuple(self.conversions)


class UnitError(ValueError):
    """An unknown unit (or an unknown analyte); the message names the field and the accepted units."""

    def __init__(self, field: str, unit: object, accepted: tuple[str, ...]) -> None:
        self.field = field
        self.unit = unit
        self.accepted = accepted
        super().__init__(f"unknown unit {unit!r} for {field}; accepted units: {', '.join(accepted)}")


# The identity conversion (the canonical unit itself and its typographic aliases); tested by identity for speed.
IDENTITY: Final = Conversion(_ONE, _ONE)


def _same() -> Conversion:
    return IDENTITY


def _table(*entries: tuple[str, Conversion]) -> Mapping[str, Conversion]:
    return MappingProxyType(dict(entries))


def _check_literal(literal: object, table: Mapping[str, Conversion]) -> None:
    # The record's Literal types and the conversion tables must list the same spellings.
    assert set(get_args(literal)) == set(table), (literal, tuple(table))


_G_DL = _table(("g/dL", _same()), ("g/L", Conversion(_ONE, _TEN)))

# Plausibility bounds: values outside them are physiologically impossible (or a unit mix-up such as an albumin
# of 32 entered in g/dL) and the record is rejected. They are deliberately wide: they catch impossible input,
# they are not reference ranges. Each bound is in the canonical unit and inclusive.
ANALYTES: Final[Mapping[str, AnalyteUnits]] = MappingProxyType(
    {
        a.field: a
        for a in (
            AnalyteUnits(
                "serum_m_protein",
                "serum M-protein",
                "g/dL",
                _G_DL,
                Decimal(0),
                Decimal(20),
                "total serum protein itself rarely exceeds 12-15 g/dL",
            ),
            AnalyteUnits(
                "urine_m_protein",
                "urine M-protein",
                "mg/24h",
                _table(("mg/24h", _same()), ("mg/24 h", _same())),
                Decimal(0),
                Decimal(100000),
                "100 g/24 h is several times the heaviest reported Bence Jones proteinuria",
            ),
            AnalyteUnits(
                "albumin",
                "albumin",
                "g/dL",
                _G_DL,
                Decimal("0.5"),
                Decimal(10),
                "serum albumin outside 0.5-10 g/dL (5-100 g/L) is incompatible with life; "
                "the lower bound also catches g/L values entered as g/dL's tenth",
            ),
            AnalyteUnits(
                "beta2_microglobulin",
                "beta2-microglobulin",
                "mg/L",
                _table(("mg/L", _same()), ("mg/dL", Conversion(_TEN, _ONE))),
                Decimal(0),
                Decimal(200),
                "values in dialysis-dependent renal failure reach 30-100 mg/L",
            ),
            AnalyteUnits(
                "free_light_chain",
                "free light chain",
                "mg/dL",
                _table(("mg/dL", _same()), ("mg/L", Conversion(_ONE, _TEN))),
                Decimal(0),
                Decimal(20000),
                "200 000 mg/L is several times the highest free light chain levels reported in cast nephropathy",
            ),
            AnalyteUnits(
                "ldh",
                "LDH",
                "U/L",
                _table(("U/L", _same())),
                Decimal(0),
                Decimal(100000),
                "LDH beyond 100 000 U/L is not reported even in massive haemolysis or tumour lysis",
            ),
            AnalyteUnits(
                "creatinine",
                "creatinine",
                "mg/dL",
                _table(
                    ("mg/dL", _same()),
                    ("µmol/L", Conversion(_ONE, CREATININE_UMOL_L_PER_MG_DL)),
                    ("μmol/L", Conversion(_ONE, CREATININE_UMOL_L_PER_MG_DL)),
                    ("umol/L", Conversion(_ONE, CREATININE_UMOL_L_PER_MG_DL)),
                ),
                Decimal(0),
                Decimal(40),
                "end-stage renal failure rarely exceeds 20 mg/dL (1768 µmol/L)",
            ),
            AnalyteUnits(
                "calcium",
                "calcium",
                "mg/dL",
                _table(("mg/dL", _same()), ("mmol/L", Conversion(CALCIUM_MG_DL_PER_MMOL_L, _ONE))),
                Decimal(2),
                Decimal(30),
                "total calcium outside 2-30 mg/dL (0.5-7.5 mmol/L) is incompatible with life",
            ),
            AnalyteUnits(
                "hemoglobin",
                "hemoglobin",
                "g/dL",
                _G_DL,
                Decimal(1),
                Decimal(25),
                "haemoglobin outside 1-25 g/dL (10-250 g/L) is incompatible with life",
            ),
        )
    }
)

_check_literal(MassConcentrationGdL, ANALYTES["serum_m_protein"].conversions)
_check_literal(Beta2MicroglobulinUnit, ANALYTES["beta2_microglobulin"].conversions)
_check_literal(FreeLightChainUnit, ANALYTES["free_light_chain"].conversions)
_check_literal(UrineMProteinUnit, ANALYTES["urine_m_protein"].conversions)
_check_literal(LdhUnit, ANALYTES["ldh"].conversions)
_check_literal(CreatinineUnit, ANALYTES["creatinine"].conversions)
_check_literal(CalciumUnit, ANALYTES["calcium"].conversions)


def analyte(field: str) -> AnalyteUnits:
    try:
        return ANALYTES[field]
    except KeyError:
        raise UnitError(field, None, ()) from None


def _conversion(field: str, unit: str) -> Conversion:
    spec = analyte(field)
    conv = spec.conversions.get(unit)
    if conv is None:
        raise UnitError(field, unit, spec.accepted)
    return conv


def to_canonical(field: str, value: Decimal, unit: str) -> Decimal:
    """``value`` in ``unit`` expressed in the analyte's canonical unit (docs/criteria.md §1.1)."""
    conv = _conversion(field, unit)
    if conv is IDENTITY:
        return value
    return value * conv.mul / conv.div


def from_canonical(field: str, value: Decimal, unit: str) -> Decimal:
    """Inverse of :func:`to_canonical`."""
    conv = _conversion(field, unit)
    if conv is IDENTITY:
        return value
    return value * conv.div / conv.mul


def accepted_units(field: str) -> tuple[str, ...]:
    return analyte(field).accepted


# Per-record-field mapping to the analyte whose units apply (labs and assessments share analytes).
FIELD_ANALYTE: Final[Mapping[str, str]] = MappingProxyType(
    {
        "serum_m_protein": "serum_m_protein",
        "urine_m_protein": "urine_m_protein",
        "albumin": "albumin",
        "beta2_microglobulin": "beta2_microglobulin",
        "kappa": "free_light_chain",
        "lambda": "free_light_chain",
        "ldh": "ldh",
        "creatinine": "creatinine",
        "calcium": "calcium",
        "hemoglobin": "hemoglobin",
    }
)
