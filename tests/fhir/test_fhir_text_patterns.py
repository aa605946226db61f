"""The documented pattern table (src/mmemd/fhir/data/text_patterns.yaml): every example reads as its own row, and no
earlier row claims it (first match wins); the counterexamples read as nothing."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
import yaml

from mmemd.fhir import _tables as T

DATA: dict[str, Any] = yaml.safe_load(
    resources.files("mmemd.fhir").joinpath("data", "text_patterns.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize(
    ("field", "example"), [(r["field"], x) for r in DATA["cytogenetics"] for x in r["examples"]]
)
def test_cytogenetic_examples_read_as_their_row(field: str, example: str) -> None:
    assert T.cytogenetic_field(example) == field


@pytest.mark.parametrize(
    ("agent", "example"), [(r["agent"], x) for r in DATA["procedures"] for x in r["examples"]]
)
def test_procedure_examples_read_as_their_row(agent: str, example: str) -> None:
    assert T.procedure_from_text(example) == agent


@pytest.mark.parametrize("example", DATA["procedure_not_therapy"]["examples"])
def test_preparations_are_not_the_procedure(example: str) -> None:
    assert T.procedure_from_text(example) is None


@pytest.mark.parametrize("example", DATA["relapse"]["examples"])
def test_relapse_examples(example: str) -> None:
    assert T.says_relapse(example)


@pytest.mark.parametrize(
    "text", ["Multiple myeloma", "Multiple myeloma, not in relapse", "多发性骨髓瘤 未复发"]
)
def test_no_relapse_without_the_words(text: str) -> None:
    assert not T.says_relapse(text)


@pytest.mark.parametrize(
    ("code", "name"), [(c, n) for c, names in DATA["loinc_name_examples"].items() for n in names]
)
def test_loinc_name_examples(code: str, name: str) -> None:
    assert T.loinc_from_loinc_name(name) == code


@pytest.mark.parametrize("name", DATA["loinc_name_counterexamples"])
def test_other_tests_are_not_matched_by_loinc_name(name: str) -> None:
    assert T.loinc_from_loinc_name(name) is None


@pytest.mark.parametrize(
    ("code", "name"), [(c, n) for c, names in DATA["local_lab_names"].items() for n in names]
)
def test_local_lab_names(code: str, name: str) -> None:
    assert T.loinc_from_local_name(name) == code


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("血清白蛋白（ALB）", "1751-7"),
        ("肌酐(Cr)", "2160-0"),
        ("尿微量白蛋白", None),
        ("白蛋白/球蛋白", None),
    ],
)
def test_local_names_with_an_abbreviation_and_whole_names_only(name: str, code: str | None) -> None:
    assert T.loinc_from_local_name(name) == code


@pytest.mark.parametrize(("value", "example"), [(r["value"], x) for r in DATA["ife"] for x in r["examples"]])
def test_ife_examples(value: str, example: str) -> None:
    assert T.ife_from_text(example) == value


@pytest.mark.parametrize("example", DATA["status_worsened"]["examples"])
def test_worsened_status_examples(example: str) -> None:
    assert T.says_worsened(example)


@pytest.mark.parametrize("text", ["Improved", "Stable disease", "病情稳定", "Patient's condition improved"])
def test_other_statuses_are_not_progression(text: str) -> None:
    assert not T.says_worsened(text)


@pytest.mark.parametrize(
    ("target", "example"), [(r["target"], x) for r in DATA["diagnoses"] for x in r["examples"]]
)
def test_diagnosis_examples_read_as_their_row(target: str, example: str) -> None:
    assert T.diagnosis_from_text(example) == target


@pytest.mark.parametrize("example", DATA["diagnosis_not_so"]["examples"])
def test_suspected_or_past_diagnoses_are_not_diagnoses(example: str) -> None:
    assert T.diagnosis_from_text(example) is None


@pytest.mark.parametrize("example", DATA["paraskeletal"]["examples"])
def test_paraskeletal_examples(example: str) -> None:
    assert T.says_paraskeletal(example)


@pytest.mark.parametrize(
    ("text", "site"),
    [
        ("Extramedullary plasmacytoma of the pleura", "pleura"),
        ("胸膜髓外浆细胞瘤", "pleura"),
        ("右侧乳腺肿物", "breast"),
        ("Secondary malignant neoplasm of liver", "liver"),
        ("Plasmacytoma of liver and kidney", None),  # two sites: none is chosen
        ("多发性骨髓瘤", None),  # 骨 (bone) inside 骨髓瘤 is not a site
        ("Multiple myeloma", None),
    ],
)
def test_site_in_text(text: str, site: str | None) -> None:
    from mmemd.fhir import _codes as C

    assert C.site_in_text(text) == site


@pytest.mark.parametrize(
    ("text", "site"),
    [
        ("Stomach structure", "gastrointestinal"),
        ("Entire esophagus", "gastrointestinal"),
        ("Maxillary sinus", "paranasal_sinus"),
    ],
)
def test_site_from_snomed_display(text: str, site: str) -> None:
    from mmemd.fhir import _codes as C

    assert C.site_from_text(text) == site


@pytest.mark.parametrize(
    "text",
    ["Secondary malignant neoplasm of bone", "Secondary malignant neoplasm of bone marrow", "骨继发恶性肿瘤"],
)
def test_a_secondary_neoplasm_of_bone_is_not_an_extramedullary_lesion(text: str) -> None:
    assert T.diagnosis_from_text(text) is None


@pytest.mark.parametrize("example", DATA["ife_test"]["examples"])
def test_ife_test_names(example: str) -> None:
    expected = "urine_ife" if ("rine" in example or "尿" in example) else "serum_ife"
    assert T.ife_from_test_name(example) == expected


def test_site_aliases_name_knowledge_base_sites() -> None:
    from mmemd.knowledge import vocabulary

    assert set(DATA["site_aliases"]) <= vocabulary().site_ids


@pytest.mark.parametrize(
    ("text", "site"),
    [
        ("胃窦", "gastrointestinal"),
        ("Colon", "gastrointestinal"),
        ("左侧睾丸", "testis"),
        ("皮下", "soft_tissue"),
    ],
)
def test_site_aliases_are_read(text: str, site: str) -> None:
    from mmemd.fhir import _codes as C

    assert C.site_from_text(text) == site


@pytest.mark.parametrize(
    ("text", "site"),
    [("胃髓外浆细胞瘤", "gastrointestinal"), ("Plasmacytoma of the small bowel", "gastrointestinal")],
)
def test_site_aliases_inside_a_text(text: str, site: str) -> None:
    from mmemd.fhir import _codes as C

    assert C.site_in_text(text) == site


@pytest.mark.parametrize("example", DATA["disease_status_test"]["examples"])
def test_disease_status_test_names(example: str) -> None:
    assert T.names_disease_status(example)


@pytest.mark.parametrize("example", DATA["paraskeletal"]["not_examples"])
def test_not_paraskeletal_examples(example: str) -> None:
    # A soft tissue mass with no bone named, or a bone marrow / 骨髓瘤 wording, does not say the mass arises from bone.
    assert not T.says_paraskeletal(example)
