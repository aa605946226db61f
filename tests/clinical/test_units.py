"""Units and conversions — docs/criteria.md §1.1 and docs/record.md "Rules" (accepted units per analyte)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmemd.clinical.units import (
    ANALYTES,
    CALCIUM_MG_DL_PER_MMOL_L,
    CREATININE_UMOL_L_PER_MG_DL,
    UnitError,
    accepted_units,
    from_canonical,
    to_canonical,
)

D = Decimal


def test_accepted_units_are_the_contracts() -> None:
    """docs/record.md Rules: the accepted unit list of each analyte (plus the documented typographic aliases)."""
    assert accepted_units("serum_m_protein") == ("g/dL", "g/L")
    assert accepted_units("albumin") == ("g/dL", "g/L")
    assert accepted_units("beta2_microglobulin") == ("mg/L", "mg/dL")
    assert accepted_units("free_light_chain") == ("mg/dL", "mg/L")
    assert accepted_units("urine_m_protein") == ("mg/24h", "mg/24 h")
    assert accepted_units("ldh") == ("U/L",)
    assert accepted_units("creatinine") == ("mg/dL", "µmol/L", "μmol/L", "umol/L")
    assert accepted_units("calcium") == ("mg/dL", "mmol/L")
    assert accepted_units("hemoglobin") == ("g/dL", "g/L")


def test_canonical_units_follow_section_1_1() -> None:
    """docs/criteria.md §1.1 canonical units (β2M in mg/L per §2.1, albumin and Hb g/dL, LDH U/L)."""
    canonical = {k: a.canonical for k, a in ANALYTES.items()}
    assert canonical == {
        "serum_m_protein": "g/dL",
        "urine_m_protein": "mg/24h",
        "albumin": "g/dL",
        "beta2_microglobulin": "mg/L",
        "free_light_chain": "mg/dL",
        "ldh": "U/L",
        "creatinine": "mg/dL",
        "calcium": "mg/dL",
        "hemoglobin": "g/dL",
    }


def test_conversion_factor_defaults_are_pinned() -> None:
    """Creatinine 88.4 µmol/L per mg/dL and calcium 4.008 mg/dL per mmol/L (documented provenance in units.py)."""
    assert D("88.4") == CREATININE_UMOL_L_PER_MG_DL
    assert D("4.008") == CALCIUM_MG_DL_PER_MMOL_L


@pytest.mark.parametrize(
    ("field", "value", "unit", "expected"),
    [
        # §1.1: 1 g/dL = 10 g/L
        ("serum_m_protein", D("30"), "g/L", D("3")),
        ("albumin", D("35"), "g/L", D("3.5")),
        ("hemoglobin", D("102"), "g/L", D("10.2")),
        # §1.1: 10 mg/dL = 100 mg/L (FLC)
        ("free_light_chain", D("100"), "mg/L", D("10")),
        # β2M: 0.55 mg/dL = 5.5 mg/L (§2.1 uses mg/L)
        ("beta2_microglobulin", D("0.55"), "mg/dL", D("5.5")),
        # §1.1 "2 mg/dL ≈ 177 µmol/L": 176.8 µmol/L is exactly 2 mg/dL with the 88.4 factor
        ("creatinine", D("176.8"), "µmol/L", D("2")),
        ("creatinine", D("176.8"), "umol/L", D("2")),
        ("creatinine", D("176.8"), "μmol/L", D("2")),
        # §1.1 "11 mg/dL ≈ 2.75 mmol/L": 2.75 × 4.008 = 11.022
        ("calcium", D("2.75"), "mmol/L", D("11.022")),
        ("urine_m_protein", D("500"), "mg/24 h", D("500")),
        ("ldh", D("310"), "U/L", D("310")),
    ],
)
def test_to_canonical(field: str, value: Decimal, unit: str, expected: Decimal) -> None:
    assert to_canonical(field, value, unit) == expected


def test_ten_fold_conversions_are_exact_decimals() -> None:
    """§1.5 floating point: 0.7 g/L must be exactly 0.07 g/dL (no binary rounding)."""
    assert to_canonical("serum_m_protein", D("0.7"), "g/L") == D("0.07")


@pytest.mark.parametrize(
    ("field", "unit"),
    [
        ("serum_m_protein", "mg/L"),
        ("albumin", "g/l"),
        ("urine_m_protein", "g/24h"),
        ("ldh", "IU/L"),
        ("creatinine", "mmol/L"),
        ("calcium", "mEq/L"),
        ("hemoglobin", "mmol/L"),
        ("free_light_chain", "mg/dl"),
    ],
)
def test_unknown_unit_names_field_and_accepted_units(field: str, unit: str) -> None:
    """docs/record.md: anything else is rejected with an error naming the field and the accepted units."""
    with pytest.raises(UnitError) as info:
        to_canonical(field, D(1), unit)
    msg = str(info.value)
    assert field in msg
    assert repr(unit) in msg
    for accepted in accepted_units(field):
        assert accepted in msg
    assert info.value.accepted == accepted_units(field)


_PAIRS = [(f, u) for f, a in ANALYTES.items() for u in a.accepted]
_DECIMAL_PAIRS = [
    (f, u)
    for f, u in _PAIRS
    if all(x in (1, 10) for x in (ANALYTES[f].conversions[u].mul, ANALYTES[f].conversions[u].div))
]
_decimals = st.decimals(min_value=D(0), max_value=D(100000), places=6, allow_nan=False, allow_infinity=False)


@given(pair=st.sampled_from(_DECIMAL_PAIRS), x=_decimals)
def test_round_trip_is_exact_for_decimal_factors(pair: tuple[str, str], x: Decimal) -> None:
    """Factors of 1 and 10 (g/L, mg/L, mg/dL ...) convert exactly in both directions."""
    field, unit = pair
    assert to_canonical(field, from_canonical(field, x, unit), unit) == x
    assert from_canonical(field, to_canonical(field, x, unit), unit) == x


@given(pair=st.sampled_from(_PAIRS), x=_decimals)
def test_round_trip_within_decimal_precision(pair: tuple[str, str], x: Decimal) -> None:
    """Any unit (incl. 88.4 and 4.008 factors): both round trips agree to Decimal's 28 significant digits."""
    field, unit = pair
    for back in (
        to_canonical(field, from_canonical(field, x, unit), unit),
        from_canonical(field, to_canonical(field, x, unit), unit),
    ):
        assert abs(back - x) <= abs(x) * D("1e-25")


@given(pair=st.sampled_from(_PAIRS), a=_decimals, b=_decimals)
def test_conversion_preserves_order(pair: tuple[str, str], a: Decimal, b: Decimal) -> None:
    """A threshold comparison gives the same answer in any accepted unit (monotone conversion)."""
    field, unit = pair
    ca, cb = to_canonical(field, a, unit), to_canonical(field, b, unit)
    assert (a < b) == (ca < cb)
    assert (a == b) == (ca == cb)
