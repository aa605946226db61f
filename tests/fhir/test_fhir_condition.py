"""Conditions in standard conventions: diagnosis codes (ICD-10 WHO / CM / OID / Chinese clinical edition, ICD-O-3,
mCODE histology), EMD relation to bone from the coding, lesion status filters, BodyStructures, systemic disease."""

from __future__ import annotations

from typing import Any

import pytest

from mmemd.clinical import assess, parse_record
from mmemd.fhir import bundle_to_record

ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD_O_3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
HISTOLOGY_EXT = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"


def _cc(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {"system": system, "code": code}
    if display:
        c["display"] = display
    return {"coding": [c]}


def _condition(cid: str, code: dict[str, Any], onset: str = "2025-03-01", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": _cc(CLINICAL, "active"),
        "verificationStatus": _cc(VERIFICATION, "confirmed"),
        "code": code,
        "subject": {"reference": "Patient/p1"},
        "onsetDateTime": onset,
        **extra,
    }


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    patient = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1958-06-20"}
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"fullUrl": f"urn:uuid:{i}", "resource": r} for i, r in enumerate([patient, *resources])],
    }


def _codes(res: Any) -> list[str]:
    return [r.code for r in res.reasons]


# --- the diagnosis ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "code"),
    [
        (ICD10, "C90.0"),  # WHO 4-character
        (ICD10_CM, "C90.00"),
        ("urn:oid:2.16.840.1.113883.6.90", "C90.00"),  # ICD-10-CM by OID, as C-CDA converters send it
        ("urn:oid:2.16.840.1.113883.6.3", "C90.0"),  # WHO ICD-10 by OID
        ("http://hospital.example.cn/fhir/CodeSystem/icd10-cn", "C90.000"),  # Chinese clinical edition 2.0
        ("http://hospital.example.cn/fhir/CodeSystem/icd10-cn", "C90.000x027"),
        (ICD_O_3, "9732/3"),
        (SCT, "109989006"),
    ],
)
def test_myeloma_diagnosis_in_every_edition(system: str, code: str) -> None:
    res = bundle_to_record(_bundle(_condition("dx", _cc(system, code))))
    rec = res.record
    assert rec["phase"] == "newly_diagnosed"
    assert rec["diagnosis"] == {"date": "2025-03-01", "myeloma_diagnosis_recorded": True}
    assert "no_diagnosis" not in _codes(res) and "myeloma_diagnosis_systemic" in _codes(res)


def test_clinical_edition_code_is_not_read_as_a_remission_digit() -> None:
    # C90.002 would be "in relapse" if its 5th character were the ICD-10-CM digit; a 6-character code is not.
    res = bundle_to_record(_bundle(_condition("dx", _cc("http://example.cn/icd10", "C90.002"))))
    assert res.record["phase"] == "newly_diagnosed"


def test_mcode_post_coordinated_diagnosis() -> None:
    # mCODE PrimaryCancerCondition: a SNOMED site-less neoplasm code with the ICD-O-3 histology in an extension.
    cond = _condition(
        "primary",
        _cc(SCT, "363346000", "Malignant neoplastic disease (disorder)"),
        extension=[{"url": HISTOLOGY_EXT, "valueCodeableConcept": _cc(ICD_O_3, "9732/3")}],
    )
    res = bundle_to_record(_bundle(cond))
    assert res.record["phase"] == "newly_diagnosed"
    assert res.record["diagnosis"]["myeloma_diagnosis_recorded"] is True


def test_provisional_myeloma_is_not_systemic_evidence() -> None:
    cond = _condition("dx", _cc(ICD10_CM, "C90.00"), verificationStatus=_cc(VERIFICATION, "provisional"))
    res = bundle_to_record(_bundle(cond))
    assert res.record["phase"] == "newly_diagnosed"
    assert "myeloma_diagnosis_recorded" not in res.record["diagnosis"]
    assert "diagnosis_not_confirmed" in _codes(res)


def test_unrelated_cancer_is_out_of_scope() -> None:
    res = bundle_to_record(_bundle(_condition("breast", _cc(ICD10_CM, "C50.911"))))
    assert "phase" not in res.record
    assert {"out_of_scope_condition", "no_diagnosis"} <= set(_codes(res))


# --- lesions and their relation to bone -------------------------------------------------------------------


def _myeloma() -> dict[str, Any]:
    return _condition("dx", _cc(ICD10_CM, "C90.00"), onset="2024-01-10")


def test_icd_o_3_extramedullary_plasmacytoma_is_extraosseous() -> None:
    les = _condition(
        "emp-1",
        _cc(ICD_O_3, "9734/3", "Plasmacytoma, extramedullary"),
        bodySite=[_cc(SCT, "10200004", "Liver structure")],
    )
    res = bundle_to_record(_bundle(_myeloma(), les))
    assert res.record["lesions"] == [
        {"id": "emp-1", "site": "liver", "relation_to_bone": "none", "detected_on": "2025-03-01"}
    ]
    assert "relation_from_coding" in _codes(res)
    emd = assess(parse_record(res.record)).emd
    assert emd.category == "extramedullary" and emd.sites == ["liver"]


def test_mcode_secondary_cancer_condition_liver() -> None:
    # mCODE SecondaryCancerCondition: C78.7 with body site liver, in a myeloma patient.
    sec = _condition(
        "sec-liver",
        _cc(ICD10_CM, "C78.7", "Secondary malignant neoplasm of liver and intrahepatic bile duct"),
        bodySite=[_cc(SCT, "10200004", "Liver structure")],
    )
    res = bundle_to_record(_bundle(_myeloma(), sec))
    (les,) = res.record["lesions"]
    assert les["site"] == "liver" and les["relation_to_bone"] == "none"
    assert assess(parse_record(res.record)).emd.category == "extramedullary"


def test_secondary_neoplasm_with_another_histology_is_not_a_lesion() -> None:
    sec = _condition(
        "sec-liver",
        _cc(ICD10_CM, "C78.7"),
        extension=[
            {"url": HISTOLOGY_EXT, "valueCodeableConcept": _cc(ICD_O_3, "8500/3")}
        ],  # ductal carcinoma
    )
    res = bundle_to_record(_bundle(_myeloma(), sec))
    assert "lesions" not in res.record
    assert "out_of_scope_condition" in _codes(res)


def test_secondary_neoplasm_without_a_myeloma_diagnosis_is_not_a_lesion() -> None:
    res = bundle_to_record(_bundle(_condition("sec", _cc(ICD10_CM, "C78.7"))))
    assert "lesions" not in res.record


def test_histology_observation_links_to_its_condition() -> None:
    cond = _condition("mass", _cc(SCT, "363346000"), bodySite=[_cc(SCT, "76752008", "Breast structure")])
    histo = {
        "resourceType": "Observation",
        "id": "histo",
        "status": "final",
        "code": _cc(LOINC, "59847-4", "Histology and Behavior ICD-O-3 Cancer"),
        "subject": {"reference": "Patient/p1"},
        "focus": [{"reference": "Condition/mass"}],
        "effectiveDateTime": "2025-03-02",
        "valueCodeableConcept": _cc(ICD_O_3, "9734/3"),
    }
    res = bundle_to_record(_bundle(_myeloma(), cond, histo))
    assert res.record["lesions"] == [
        {"id": "mass", "site": "breast", "relation_to_bone": "none", "detected_on": "2025-03-01"}
    ]
    assert "unknown_code" not in _codes(res)


def test_bone_plasmacytoma_morphology() -> None:
    les = _condition("sbp", _cc(ICD_O_3, "9731/3"), bodySite=[{"text": "bone"}])
    res = bundle_to_record(_bundle(_myeloma(), les))
    (lesion,) = res.record["lesions"]
    assert lesion["relation_to_bone"] == "intraosseous" and lesion["site"] == "bone"


@pytest.mark.parametrize(
    ("site", "relation"),
    [("皮肤", "none"), ("paravertebral", "arising_from_bone"), ("bone", None)],
)
def test_c90_2_with_a_site(site: str, relation: str | None) -> None:
    les = _condition(
        "c902", _cc("http://example.cn/icd10", "C90.200", "髓外浆细胞瘤"), bodySite=[{"text": site}]
    )
    res = bundle_to_record(_bundle(_myeloma(), les))
    (lesion,) = res.record["lesions"]
    assert lesion.get("relation_to_bone") == relation


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"clinicalStatus": _cc(CLINICAL, "resolved")}, "lesion_not_active"),
        ({"clinicalStatus": _cc(CLINICAL, "remission")}, "lesion_not_active"),
        ({"abatementDateTime": "2025-06-01"}, "lesion_not_active"),
        ({"verificationStatus": _cc(VERIFICATION, "provisional")}, "lesion_not_confirmed"),
        ({"verificationStatus": _cc(VERIFICATION, "differential")}, "lesion_not_confirmed"),
    ],
)
def test_only_active_confirmed_lesions(change: dict[str, Any], reason: str) -> None:
    les = _condition("emp", _cc(ICD_O_3, "9734/3"), bodySite=[{"text": "skin"}])
    res = bundle_to_record(_bundle(_myeloma(), {**les, **change}))
    assert "lesions" not in res.record
    assert reason in _codes(res)


def test_unreferenced_body_structure_is_not_a_lesion() -> None:
    # A second-primary breast tumour documented as a BodyStructure is not a myeloma lesion.
    bs = {
        "resourceType": "BodyStructure",
        "id": "breast-tumour",
        "location": _cc(SCT, "76752008", "Breast structure"),
        "patient": {"reference": "Patient/p1"},
    }
    res = bundle_to_record(_bundle(_myeloma(), bs))
    assert "lesions" not in res.record
    assert "unrelated_body_structure" in _codes(res)


def test_body_structure_measured_as_a_plasmacytoma_is_a_lesion() -> None:
    bs = {
        "resourceType": "BodyStructure",
        "id": "pleural-mass",
        "location": _cc(SCT, "3120008", "Pleural membrane structure"),
        "patient": {"reference": "Patient/p1"},
    }
    size = {
        "resourceType": "Observation",
        "status": "final",
        "code": _cc(LOINC, "21889-1"),
        "subject": {"reference": "Patient/p1"},
        "focus": [{"reference": "BodyStructure/pleural-mass"}],
        "effectiveDateTime": "2025-03-03",
        "component": [
            {"code": _cc(LOINC, "33728-7"), "valueQuantity": {"value": 32, "unit": "mm", "code": "mm"}},
            {"code": _cc(LOINC, "33729-5"), "valueQuantity": {"value": 20, "unit": "mm", "code": "mm"}},
        ],
    }
    res = bundle_to_record(_bundle(_myeloma(), bs, size))
    assert [les["id"] for les in res.record["lesions"]] == ["pleural-mass"]


def test_coded_myeloma_makes_a_single_lesion_myeloma_with_emd() -> None:
    # Without the marrow percentage or the events, a coded myeloma diagnosis decides "not solitary".
    les = _condition("emp", _cc(ICD_O_3, "9734/3"), bodySite=[{"text": "skin"}])
    rec = bundle_to_record(_bundle(_myeloma(), les)).record
    emd = assess(parse_record(rec)).emd
    assert emd.category == "extramedullary"
    assert any("confirmed multiple myeloma diagnosis recorded" in r for r in emd.reasons)


@pytest.mark.parametrize(
    ("text", "site"),
    [("鼻咽", "nasopharynx"), ("Parotid gland", "salivary_gland"), ("Paranasal sinus", "paranasal_sinus")],
)
def test_head_and_neck_sites(text: str, site: str) -> None:
    les = _condition("emp", _cc(ICD_O_3, "9734/3"), bodySite=[{"text": text}])
    (lesion,) = bundle_to_record(_bundle(_myeloma(), les)).record["lesions"]
    assert lesion["site"] == site and lesion["relation_to_bone"] == "none"


def test_coded_myeloma_stays_myeloma_whatever_histology_is_attached() -> None:
    dx = _condition(
        "dx",
        _cc(ICD10_CM, "C90.00"),
        extension=[{"url": HISTOLOGY_EXT, "valueCodeableConcept": _cc(ICD_O_3, "9734/3")}],
    )
    res = bundle_to_record(_bundle(dx))
    assert res.record["phase"] == "newly_diagnosed" and "lesions" not in res.record


def test_icd_10_pcs_is_not_a_diagnosis_system() -> None:
    res = bundle_to_record(
        _bundle(_condition("x", _cc("http://www.cms.gov/Medicare/Coding/ICD10/icd-10-pcs", "C90.0")))
    )
    assert "phase" not in res.record and "out_of_scope_condition" in _codes(res)


@pytest.mark.parametrize(
    ("code", "body_site", "site"),
    [
        (
            "C79.81",
            _cc(SCT, "76752008", "Breast structure"),
            "breast",
        ),  # ICD-10-CM: the organ is the body site
        ("C78.1", None, "mediastinum"),
        ("C78.6", None, "peritoneum"),
    ],
)
def test_secondary_neoplasm_of_other_sites(code: str, body_site: dict[str, Any] | None, site: str) -> None:
    extra = {"bodySite": [body_site]} if body_site else {}
    sec = _condition("sec", _cc(ICD10_CM, code), **extra)
    (les,) = bundle_to_record(_bundle(_myeloma(), sec)).record["lesions"]
    assert les["site"] == site and les["relation_to_bone"] == "none"


@pytest.mark.parametrize(
    ("text", "site"), [("右侧胸膜", "pleura"), ("Left breast", "breast"), ("左睾丸", "testis")]
)
def test_laterality_does_not_hide_the_site(text: str, site: str) -> None:
    les = _condition("emp", _cc(ICD_O_3, "9734/3"), bodySite=[{"text": text}])
    (lesion,) = bundle_to_record(_bundle(_myeloma(), les)).record["lesions"]
    assert lesion["site"] == site


def test_laterality_alone_is_no_site() -> None:
    les = _condition("emp", _cc(ICD_O_3, "9734/3"), bodySite=[{"text": "右侧"}])
    res = bundle_to_record(_bundle(_myeloma(), les))
    assert "site" not in res.record["lesions"][0]
    assert "unknown_site" in _codes(res)


@pytest.mark.parametrize(
    ("code", "site"),
    [
        ("71836000", "nasopharynx"),  # the concept itself
        ("15924003", "paranasal_sinus"),  # maxillary sinus -> nasal sinus structure
        ("245269009", "lymph_node"),  # axillary lymph node group -> lymph node
        ("71854001", "gastrointestinal"),  # colon -> gastrointestinal tract
        ("119235005", "cns"),  # brain part -> brain -> central nervous system
        ("181131000", "breast"),  # entire breast -> breast structure
    ],
)
def test_snomed_body_site_matched_by_concept_or_ancestor(code: str, site: str) -> None:
    les = _condition("emp", _cc(ICD_O_3, "9734/3"), bodySite=[_cc(SCT, code)])
    (lesion,) = bundle_to_record(_bundle(_myeloma(), les)).record["lesions"]
    assert lesion["site"] == site


def test_snomed_body_site_outside_the_subset_is_unknown() -> None:
    les = _condition("emp", _cc(ICD_O_3, "9734/3"), bodySite=[_cc(SCT, "999999999")])
    res = bundle_to_record(_bundle(_myeloma(), les))
    assert "site" not in res.record["lesions"][0]
    assert "unknown_site" in _codes(res)


@pytest.mark.parametrize(
    ("code_text", "site_text", "element"),
    [
        ("Plasmacytoma arising from left 6th rib with chest wall soft tissue extension", None, "code"),
        ("Plasmacytoma of chest wall", "left chest wall, arising from 6th rib", "bodySite[0]"),
        ("Plasmacytoma of chest wall", "mass from the 4th rib", "bodySite[0]"),
        ("胸壁浆细胞瘤", "左侧第6肋骨质破坏伴软组织肿块", "bodySite[0]"),
        ("起源于左侧第6肋的浆细胞瘤", None, "code"),
    ],
)
def test_c90_2_lesion_said_to_arise_from_a_bone_is_paraskeletal(
    code_text: str, site_text: str | None, element: str
) -> None:
    site = _cc(SCT, "78904004", "Chest wall structure")
    if site_text:
        site["text"] = site_text
    code = {**_cc(ICD10_CM, "C90.20"), "text": code_text}
    res = bundle_to_record(_bundle(_myeloma(), _condition("les", code, bodySite=[site])))
    [lesion] = res.record["lesions"]
    assert (lesion["site"], lesion["relation_to_bone"]) == ("chest_wall", "arising_from_bone")
    [reason] = [r for r in res.reasons if r.code == "paraskeletal_from_text"]
    assert reason.path.endswith(f".{element}")
    assert assess(parse_record(res.record)).emd.category == "paraskeletal"


@pytest.mark.parametrize(
    "code_text",
    ["Plasmacytoma of chest wall with soft tissue extension", "Soft tissue mass of the chest wall"],
)
def test_c90_2_soft_tissue_wording_without_a_bone_stays_extraosseous(code_text: str) -> None:
    code = {**_cc(ICD10_CM, "C90.20"), "text": code_text}
    site = _cc(SCT, "78904004", "Chest wall structure")
    res = bundle_to_record(_bundle(_myeloma(), _condition("les", code, bodySite=[site])))
    assert res.record["lesions"][0]["relation_to_bone"] == "none"
    assert "paraskeletal_from_text" not in _codes(res)
