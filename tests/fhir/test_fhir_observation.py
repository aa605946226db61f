"""Observations in standard and local conventions: the text pattern table (cytogenetics, immunofixation), UCUM
case-insensitive units, Chinese g/24h, ECOG answer codes, ``issued`` without ``effective``; FHIR spec lab style."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from fhir_helpers import make_bundle, obs, qty

from mmemd.fhir import bundle_to_record
from mmemd.fhir._tables import cytogenetic_field, cytogenetic_findings, cytogenetic_patterns, ife_from_text

PATTERNS = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "src/mmemd/fhir/data/text_patterns.yaml").read_text(
        encoding="utf-8"
    )
)
MM = "urn:mmemd:fhir:CodeSystem:mmemd"


def _codes(res: Any) -> list[str]:
    return [r.code for r in res.reasons]


@pytest.mark.parametrize(
    ("field", "example"),
    [(row["field"], ex) for row in PATTERNS["cytogenetics"] for ex in row["examples"]],
)
def test_every_cytogenetic_example_reads_as_its_field(field: str, example: str) -> None:
    assert cytogenetic_field(example) == field


@pytest.mark.parametrize(
    ("value", "example"), [(row["value"], ex) for row in PATTERNS["ife"] for ex in row["examples"]]
)
def test_every_ife_example_reads_as_its_value(value: str, example: str) -> None:
    assert ife_from_text(example) == value


@pytest.mark.parametrize("text", ["hyperdiploidy", "trisomy 9", "normal karyotype", "IGH rearrangement"])
def test_other_findings_are_not_guessed(text: str) -> None:
    assert cytogenetic_field(text) is None


def test_pattern_table_order_is_file_order() -> None:
    assert [f for f, _ in cytogenetic_patterns()] == [r["field"] for r in PATTERNS["cytogenetics"]]


def test_fish_panel_with_gene_names_and_chinese() -> None:
    detected = {"valueString": "阳性"}
    not_detected = {"valueString": "阴性"}
    panel = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "骨髓瘤FISH检测"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2025-01-12",
        "component": [
            {"code": {"text": "TP53 (17p13.1) deletion"}, **detected},
            {"code": {"text": "IGH/FGFR3 融合（t（4；14））"}, **not_detected},
            {"code": {"text": "1q21扩增"}, **detected},
            {"code": {"text": "IGH/MAF fusion"}, **not_detected},
        ],
    }
    rec = bundle_to_record(make_bundle(panel)).record
    assert rec["cytogenetics"] == {"del_17p": True, "t_4_14": False, "t_14_16": False, "gain_1q": True}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("IgG kappa monoclonal band detected", "positive"),
        ("未见M蛋白", "negative"),
        ("阳性（IgG-κ型）", "positive"),
    ],
)
def test_ife_text(text: str, value: str) -> None:
    res = bundle_to_record(make_bundle(obs("serum_ife", "2025-03-01", {"valueString": text}, system=MM)))
    assert res.record["assessments"] == [{"date": "2025-03-01", "serum_ife": value}]
    assert "ife_from_text" in _codes(res)


def test_ife_text_saying_neither_is_a_reason() -> None:
    res = bundle_to_record(
        make_bundle(obs("serum_ife", "2025-03-01", {"valueString": "see report"}, system=MM))
    )
    assert "assessments" not in res.record and "unknown_value" in _codes(res)


def test_ucum_case_insensitive_and_chinese_24h() -> None:
    # FHIR spec lab style: valueQuantity with unit text and the UCUM code, here in UCUM's case-insensitive form.
    res = bundle_to_record(
        make_bundle(
            obs("33358-3", "2025-03-01", qty("2.1", "g/dl")),
            obs("42482-0", "2025-03-01", qty("1.2", "g/24h")),
        )
    )
    a = res.record["assessments"][0]
    assert a["serum_m_protein"] == {"value": Decimal("2.1"), "unit": "g/dL"}
    assert a["urine_m_protein"] == {"value": Decimal("1200.0"), "unit": "mg/24h"}


def test_ambiguous_case_is_still_refused() -> None:
    # "MMOL/L" is mmol/L in UCUM's case-insensitive form; haemoglobin in mmol/L needs a molar mass: refused.
    res = bundle_to_record(make_bundle(obs("718-7", "2025-01-10", qty("7.5", "MMOL/L"))))
    assert "labs" not in res.record and "unknown_unit" in _codes(res)


@pytest.mark.parametrize(
    ("system", "code", "grade"),
    [("http://loinc.org", "LA9622-7", 0), ("http://snomed.info/sct", "422894000", 2)],
)
def test_ecog_answer_codes(system: str, code: str, grade: int) -> None:
    value = {"valueCodeableConcept": {"coding": [{"system": system, "code": code}]}}
    rec = bundle_to_record(make_bundle(obs("89247-1", "2025-01-10", value))).record
    assert rec["ecog"] == grade


def test_issued_dates_a_result_without_effective() -> None:
    o = obs("1751-7", "2025-01-10", qty(35, "g/L"))
    del o["effectiveDateTime"]
    o["issued"] = "2025-01-11T08:30:00+08:00"
    res = bundle_to_record(make_bundle(o))
    assert res.record["labs"]["albumin"] == {"value": 35, "unit": "g/L"}
    assert "date_from_issued" in _codes(res)


@pytest.mark.parametrize(
    "key", ["cytogenetic_report", "cytogenetic_not_assessed", "cytogenetic_negative", "cytogenetic_positive"]
)
def test_every_cytogenetic_report_example_matches_its_pattern(key: str) -> None:
    import re
    import unicodedata

    pattern = re.compile(PATTERNS[key]["pattern"], re.I)
    for example in PATTERNS[key]["examples"]:
        assert pattern.search(unicodedata.normalize("NFKC", example)), example


@pytest.mark.parametrize(
    ("text", "findings"),
    [
        (
            "FISH: t(4;14)(p16.3;q32) detected; del(17p) (TP53) not detected; 1q21 gain detected",
            [("t_4_14", True), ("del_17p", False), ("gain_1q", True)],
        ),
        ("45,X,-Y,t(14;16)(q32;q23)[8]/46,XY[12]", [("t_14_16", True)]),
        (
            "IGH/CCND1 fusion detected, consistent with t(11;14). TP53 deletion not detected.",
            [("t_11_14", True), ("t_11_14", True), ("del_17p", False)],
        ),
        (
            "1q21扩增（阳性）；17p缺失（阴性）；IGH/FGFR3融合阴性",
            [("gain_1q", True), ("del_17p", False), ("t_4_14", False)],
        ),
        ("del(17p): not tested", []),
        ("normal karyotype 46,XY[20]", []),
        # "gain of", "deletion of" wording, copy numbers, negation leading the clause
        (
            "gain of 1q21 (3 copies) detected; del(17p) not detected.",
            [("gain_1q", True), ("del_17p", False)],
        ),
        ("No deletion of 17p13 (TP53). t(4;14) not detected.", [("del_17p", False), ("t_4_14", False)]),
        ("No deletion of 17p detected", [("del_17p", False)]),  # the negation wins over "detected"
        (
            "1q21获得（4拷贝）。17p13缺失未检出，检出IGH/CCND1融合",
            [("gain_1q", True), ("del_17p", False), ("t_11_14", True)],
        ),
        ("未见IGH/MAF融合；1q21扩增未检出", [("t_14_16", False), ("gain_1q", False)]),
        # neither a result wording nor a bare list of abnormalities: no value
        ("FISH: t(4;14)(p16;q32); del(17p) pending; t(11;14) equivocal", [("t_4_14", True)]),
    ],
)
def test_cytogenetic_report_text_read_clause_by_clause(text: str, findings: list[tuple[str, bool]]) -> None:
    assert cytogenetic_findings(text) == findings


def test_fish_report_observation_with_a_local_code_fills_cytogenetics() -> None:
    report = obs(
        "FISH-MM",
        "2025-01-12",
        {"valueString": "del(17p) detected in 62% of plasma cells; t(4;14) negative"},
        system="urn:local:lab",
    )
    report["code"]["text"] = "Myeloma FISH panel"
    res = bundle_to_record(make_bundle(report))
    assert res.record["cytogenetics"] == {"del_17p": True, "t_4_14": False}
    assert _codes(res).count("cytogenetics_from_text") == 2


def test_report_saying_both_gives_no_value() -> None:
    report = obs("X", "2025-01-12", {"valueString": "t(4;14) detected; t(4;14) not detected"}, system="urn:l")
    report["code"]["text"] = "FISH"
    res = bundle_to_record(make_bundle(report))
    assert "cytogenetics" not in res.record
    assert "conflicting_values" in _codes(res)


def test_text_observation_not_named_as_cytogenetics_is_not_read() -> None:
    note = obs("NOTE", "2025-01-12", {"valueString": "t(4;14) detected"}, system="urn:l")
    note["code"]["text"] = "Clinic note"
    res = bundle_to_record(make_bundle(note))
    assert "cytogenetics" not in res.record
    assert "unknown_code" in _codes(res)


@pytest.mark.parametrize(
    ("name", "field", "value", "unit"),
    [
        ("白蛋白", "albumin", 35.2, "g/L"),
        ("β2-微球蛋白(β2-MG)", "beta2_microglobulin", 7.3, "mg/L"),
        ("ＨＧＢ", "hemoglobin", 86, "g/L"),  # full-width letters: NFKC
        ("肌酐", "creatinine", 98, "umol/L"),
    ],
)
def test_local_laboratory_name_without_loinc(name: str, field: str, value: float, unit: str) -> None:
    lab = obs("X1", "2025-01-11", qty(value, unit), system="http://lis.example.cn/item")
    lab["code"]["text"] = name
    res = bundle_to_record(make_bundle(lab))
    assert field in res.record["labs"]
    assert "lab_from_local_name" in _codes(res)


@pytest.mark.parametrize("name", ["尿微量白蛋白", "白蛋白/球蛋白", "Albumin urine"])
def test_only_whole_local_names_are_read(name: str) -> None:
    lab = obs("X1", "2025-01-11", qty(35, "g/L"), system="http://lis.example.cn/item")
    lab["code"]["text"] = name
    res = bundle_to_record(make_bundle(lab))
    assert "labs" not in res.record
    assert "unknown_code" in _codes(res)


def test_a_loinc_code_wins_over_a_local_name() -> None:
    # LOINC says urine albumin (not mapped): the Chinese name 白蛋白 must not turn it into serum albumin.
    lab = obs("14957-5", "2025-01-11", qty(35, "mg/L"))
    lab["code"]["text"] = "白蛋白"
    res = bundle_to_record(make_bundle(lab))
    assert "labs" not in res.record
