"""Unit handling: accepted units kept, exact powers-of-ten conversions, unknown units refused with a reason."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fhir_helpers import make_bundle, obs, qty

from mmemd.clinical import assess
from mmemd.fhir import _codes as C
from mmemd.fhir import bundle_to_record


def _labs(code: str, value: Any, unit: str, day: str = "2025-01-10") -> Any:
    return bundle_to_record(make_bundle(obs(code, day, qty(value, unit))))


@pytest.mark.parametrize(
    ("code", "field", "value", "unit", "expected_value", "expected_unit"),
    [
        ("1751-7", "albumin", 35, "g/L", Decimal(35), "g/L"),  # accepted: kept as is
        ("1751-7", "albumin", 3.5, "g/dL", Decimal("3.5"), "g/dL"),
        ("1751-7", "albumin", 3500, "mg/dL", Decimal("3.500"), "g/dL"),  # exact: 3500 * 0.001
        ("1952-1", "beta2_microglobulin", 5.5, "mg/L", Decimal("5.5"), "mg/L"),
        ("1952-1", "beta2_microglobulin", 5.5, "ug/mL", Decimal("5.5"), "mg/L"),  # 1 ug/mL = 1 mg/L
        ("2160-0", "creatinine", 177, "umol/L", Decimal(177), "µmol/L"),
        ("2160-0", "creatinine", 0.177, "mmol/L", Decimal("177.000"), "µmol/L"),
        ("17861-6", "calcium", 2.75, "mmol/L", Decimal("2.75"), "mmol/L"),
        ("718-7", "hemoglobin", 100, "g/L", Decimal(100), "g/L"),
    ],
)
def test_lab_units(
    code: str, field: str, value: Any, unit: str, expected_value: Decimal, expected_unit: str
) -> None:
    res = _labs(code, value, unit)
    q = res.record["labs"][field]
    assert q["unit"] == expected_unit
    assert q["value"] == expected_value
    assert isinstance(q["value"], Decimal)


def test_iss_boundary_exact_after_conversion() -> None:
    # β2M exactly 5.5 mg/L given as 0.55 mg/dL: ISS III needs β2M >= 5.5 mg/L (§2.1); binary floats would make
    # 0.55 * 10 = 5.500000000000001 harmlessly here, but 0.07 g/L -> g/dL shows the Decimal path is used.
    res = bundle_to_record(make_bundle(obs("1952-1", "2025-01-10", qty(0.55, "mg/dL"))))
    rec = dict(res.record)
    assert assess(rec).staging.iss == "III"
    res = _labs("33358-3", 0.07, "g/L")  # a serum M-protein is an assessment value, not a lab
    assert res.record["assessments"][0]["serum_m_protein"] == {"value": Decimal("0.07"), "unit": "g/L"}
    res = _labs("33358-3", 7, "mg/dL")
    assert res.record["assessments"][0]["serum_m_protein"] == {"value": Decimal("0.007"), "unit": "g/dL"}


def test_albumin_boundary_g_dl() -> None:
    # 35 g/L is exactly 3.5 g/dL: ISS I needs albumin >= 3.5 g/dL with β2M < 3.5 mg/L.
    b = make_bundle(
        obs("1751-7", "2025-01-10", qty(35, "g/L")), obs("1952-1", "2025-01-10", qty(3.49, "mg/L"))
    )
    assert assess(bundle_to_record(b).record).staging.iss == "I"
    b = make_bundle(
        obs("1751-7", "2025-01-10", qty(34.9, "g/L")), obs("1952-1", "2025-01-10", qty(3.49, "mg/L"))
    )
    assert assess(bundle_to_record(b).record).staging.iss == "II"


@pytest.mark.parametrize(
    ("code", "unit"),
    [
        ("718-7", "mmol/L"),  # haemoglobin in mmol/L needs a molar-mass convention: never assumed
        ("2532-0", "[IU]/L"),  # IU/L is not U/L for the record (units.py)
        ("2532-0", "ukat/L"),
        ("1751-7", "umol/L"),
        ("1952-1", "nmol/L"),
        ("42482-0", "mg/dL"),  # a concentration is not a 24-hour amount
    ],
)
def test_unknown_units_are_reasons(code: str, unit: str) -> None:
    res = _labs(code, 5, unit)
    assert "labs" not in res.record and "assessments" not in res.record
    [r] = [r for r in res.reasons if r.code == "unknown_unit"]
    assert r.path == "Bundle.entry[2].resource.valueQuantity.code"
    assert repr(unit) in r.message_en and "单位" in r.message_zh


def test_conversion_is_reported() -> None:
    res = _labs("42482-0", 1.2, "g/(24.h)")
    assert res.record["assessments"][0]["urine_m_protein"] == {"value": Decimal("1200.0"), "unit": "mg/24h"}
    assert [r.code for r in res.reasons if r.code == "unit_converted"] == ["unit_converted"]


def test_flc_mg_l_and_mg_dl_are_distinct() -> None:
    b = make_bundle(
        obs("36916-5", "2025-01-12", qty(100, "mg/L")),
        obs("33944-0", "2025-01-12", qty(1.0, "mg/dL")),
    )
    flc = bundle_to_record(b).record["assessments"][0]["free_light_chains"]
    assert flc["kappa"] == {"value": Decimal(100), "unit": "mg/L"}
    assert flc["lambda"] == {"value": Decimal("1.0"), "unit": "mg/dL"}
    assert flc["involved"] == "kappa"  # 10 mg/dL / 1 mg/dL = 10 > 1.65


def test_tumour_size_mm_to_cm() -> None:
    lesion = {
        "resourceType": "Condition",
        "id": "L9",
        "code": {"coding": [{"system": "urn:mmemd:fhir:CodeSystem:mmemd", "code": "plasmacytoma"}]},
        "bodySite": [{"coding": [{"system": "http://snomed.info/sct", "code": "10200004"}]}],
        "subject": {"reference": "Patient/p1"},
    }
    size = obs(
        "21889-1",
        "2025-01-12",
        {
            "component": [
                {"code": {"coding": [{"system": "http://loinc.org", "code": "33728-7"}]}, **qty(45, "mm")},
                {"code": {"coding": [{"system": "http://loinc.org", "code": "33729-5"}]}, **qty(3, "cm")},
            ]
        },
        focus=[{"reference": "Condition/L9"}],
    )
    rec = bundle_to_record(make_bundle(lesion, size)).record
    assert rec["lesions"] == [{"id": "L9", "site": "liver"}]
    assert rec["assessments"][0]["plasmacytomas"] == [
        {"lesion": "L9", "longest_cm": Decimal("4.5"), "perpendicular_cm": Decimal(3)}
    ]


def test_quantity_without_unit_is_a_reason() -> None:
    res = bundle_to_record(make_bundle(obs("1751-7", "2025-01-10", {"valueQuantity": {"value": 35}})))
    assert "labs" not in res.record
    assert [r.code for r in res.reasons if r.code == "unknown_unit"] == ["unknown_unit"]


@pytest.mark.parametrize(
    ("fld", "unit", "expected"),
    [
        ("beta2_microglobulin", "μg/mL", "mg/L"),  # Greek mu (NFKC's form of the micro sign)
        ("beta2_microglobulin", "µg/ml", "mg/L"),  # micro sign, lower-case litre
        ("creatinine", "μmol/l", "μmol/L"),
    ],
)
def test_micro_prefix_spellings(fld: str, unit: str, expected: str) -> None:
    m = C.record_unit(fld, unit)
    assert m is not None and m.unit == expected and m.factor == 1
