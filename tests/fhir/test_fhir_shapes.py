"""Real-world resource shapes the import reads (docs/fhir.md): contained resources and references to them, Synthea's
urn:uuid and conditional references, Procedures by SNOMED CT and by text, Observation panels, results sent as text or
with a comparator, alternative LOINC codes and LOINC names, local laboratory names, the diagnosis date when the onset
is missing, diagnoses and lesions named only in text, mCODE disease status and genomic variants, and relapse read
from the line history."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fhir_helpers import make_bundle, obs, qty

from mmemd.clinical import assess, parse_record
from mmemd.fhir import bundle_to_record

LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


def _codes(res: Any) -> list[str]:
    return [r.code for r in res.reasons]


def _request(rid: str, day: str, **med: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "completed",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": day,
        **med,
    }


def _procedure(pid: str, day: str, code: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": pid,
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "performedDateTime": day,
        "code": code,
    }


def _condition(cid: str, code: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "subject": {"reference": "Patient/p1"},
        "code": code,
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        "onsetDateTime": "2025-01-20",
        **extra,
    }


def _category(record: dict[str, Any]) -> str:
    return str(assess(parse_record(record)).emd.category)


# --- medications: references and contained resources -----------------------------------------------------------


def test_medication_reference_to_a_contained_medication() -> None:
    order = _request(
        "m1",
        "2025-01-15",
        contained=[
            {
                "resourceType": "Medication",
                "id": "med",
                "code": {"coding": [{"system": RXNORM, "code": "342369"}]},
            }
        ],
        medicationReference={"reference": "#med"},
    )
    res = bundle_to_record(make_bundle(order))
    assert res.record["therapy_history"][0]["agents"] == ["lenalidomide"]
    assert "unresolved_reference" not in _codes(res)


def test_medication_reference_by_urn_uuid_to_a_bundle_entry() -> None:
    bundle = make_bundle(_request("m1", "2025-01-15", medicationReference={"reference": "urn:uuid:7f1d"}))
    bundle["entry"].append(
        {
            "fullUrl": "urn:uuid:7f1d",
            "resource": {"resourceType": "Medication", "code": {"text": "Pomalidomide 4 MG Oral Capsule"}},
        }
    )
    res = bundle_to_record(bundle)
    assert res.record["therapy_history"][0]["agents"] == ["pomalidomide"]
    assert "unmapped_resource" not in _codes(res)  # the Medication is read through the order


def test_a_reference_to_no_medication_is_a_reason() -> None:
    res = bundle_to_record(
        make_bundle(_request("m1", "2025-01-15", medicationReference={"reference": "#nowhere"}))
    )
    assert "therapy_history" not in res.record
    assert "unresolved_reference" in _codes(res)


def test_conditional_and_absolute_patient_references_name_the_bundle_patient() -> None:
    bundle = make_bundle(
        obs(
            "1751-7",
            "2025-01-10",
            qty(3.1, "g/dL"),
            subject={"reference": "https://ehr.example/fhir/Patient/p1"},
        )
    )
    bundle["entry"][0]["resource"]["identifier"] = [{"system": "https://ehr.example/mrn", "value": "MRN-1"}]
    bundle["entry"][1]["resource"]["subject"] = {
        "reference": "Patient?identifier=https://ehr.example/mrn|MRN-1"
    }
    res = bundle_to_record(bundle)
    assert (str(res.record["labs"]["albumin"]["value"]), res.record["labs"]["albumin"]["unit"]) == (
        "3.1",
        "g/dL",
    )
    assert res.record["diagnosis"]["myeloma_diagnosis_recorded"] is True
    assert "other_patient" not in _codes(res)
    # another patient's identifier is another patient
    bundle["entry"][1]["resource"]["subject"] = {
        "reference": "Patient?identifier=https://ehr.example/mrn|MRN-2"
    }
    assert "other_patient" in _codes(bundle_to_record(bundle))


# --- procedures ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "therapy"),
    [
        ({"coding": [{"system": SCT, "code": "58776007"}]}, "asct"),  # Autologous bone marrow transplant
        (
            {"coding": [{"system": SCT, "code": "58390007"}]},
            "allogeneic_sct",
        ),  # Allogeneic bone marrow transplantation
        (
            {"coding": [{"system": SCT, "code": "53438000"}]},
            "radiotherapy",
        ),  # Radiation therapy procedure or service
        ({"text": "Autologous peripheral blood stem cell transplant"}, "asct"),
        ({"text": "自体外周血干细胞移植术"}, "asct"),
        ({"text": "allo-HSCT"}, "allogeneic_sct"),
        ({"text": "局部放疗"}, "radiotherapy"),
    ],
)
def test_transplant_and_radiotherapy_join_the_line_they_follow(code: dict[str, Any], therapy: str) -> None:
    res = bundle_to_record(
        make_bundle(
            _request("v", "2025-01-15", medicationCodeableConcept={"text": "bortezomib"}),
            _procedure("p", "2025-06-01", code),
        )
    )
    [line] = res.record["therapy_history"]
    assert line["agents"] == ["bortezomib", therapy]


def test_stem_cell_collection_is_not_a_transplant() -> None:
    res = bundle_to_record(
        make_bundle(_procedure("p", "2025-04-01", {"text": "Autologous stem cell collection"}))
    )
    assert "therapy_history" not in res.record
    assert "unknown_agent" in _codes(res)


def test_car_t_is_a_line_of_its_own_and_implies_relapse() -> None:
    res = bundle_to_record(
        make_bundle(
            _request("v", "2025-01-15", medicationCodeableConcept={"text": "bortezomib"}),
            _procedure("c", "2025-11-01", {"coding": [{"system": SCT, "code": "1156961008"}]}),
        )
    )
    lines = res.record["therapy_history"]
    assert [ln["agents"] for ln in lines] == [["bortezomib"], ["bcma_car_t"]]
    assert res.record["phase"] == "relapsed_refractory"
    assert "relapse_from_lines" in _codes(res)


def _orders(*orders: tuple[str, str]) -> list[dict[str, Any]]:
    """MedicationRequests (start day, agent name as text)."""
    return [
        _request(f"o{i}", day, medicationCodeableConcept={"text": name})
        for i, (day, name) in enumerate(orders)
    ]


def test_single_agent_maintenance_after_induction_is_not_a_relapse() -> None:
    vcd = [("2025-01-15", "bortezomib"), ("2025-01-15", "dexamethasone"), ("2025-01-15", "cyclophosphamide")]
    res = bundle_to_record(make_bundle(*_orders(*vcd, ("2025-08-01", "lenalidomide"))))
    [line] = res.record["therapy_history"]  # maintenance stays in the line it follows
    assert sorted(line["agents"]) == ["bortezomib", "cyclophosphamide", "dexamethasone", "lenalidomide"]
    assert res.record["phase"] == "newly_diagnosed"
    assert "maintenance_joins_line" in _codes(res)


def test_a_second_combination_line_implies_relapse() -> None:
    orders = [("2024-01-15", "bortezomib"), ("2024-01-15", "lenalidomide"), ("2025-03-01", "carfilzomib")]
    res = bundle_to_record(make_bundle(*_orders(*orders, ("2025-03-01", "daratumumab")), onset="2024-01-10"))
    assert [sorted(ln["agents"]) for ln in res.record["therapy_history"]] == [
        ["bortezomib", "lenalidomide"],
        ["carfilzomib", "daratumumab"],
    ]
    assert res.record["phase"] == "relapsed_refractory"


# --- observations: panels, contained results, text values ---------------------------------------------------------


def _component(code: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"code": {"coding": [{"system": LOINC, "code": code}]}, **value}


def test_panel_components_are_read_as_their_tests() -> None:
    panel = obs(
        "flc-panel",
        "2025-01-12",
        {"component": [_component("36916-5", qty(120, "mg/L")), _component("33944-0", qty(8, "mg/L"))]},
        system="urn:oid:1.2.3.4",
    )
    res = bundle_to_record(make_bundle(panel))
    flc = res.record["assessments"][0]["free_light_chains"]
    assert (str(flc["kappa"]["value"]), str(flc["lambda"]["value"]), flc["involved"]) == ("120", "8", "kappa")
    assert "panel_components" in _codes(res)


def test_results_contained_in_a_laboratory_report_are_read() -> None:
    report = {
        "resourceType": "DiagnosticReport",
        "id": "chem",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "24323-8"}], "text": "Comprehensive metabolic panel"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2025-01-10",
        "contained": [obs("1751-7", "2025-01-10", qty(3.2, "g/dL"), id="alb")],
        "result": [{"reference": "#alb"}],
    }
    res = bundle_to_record(make_bundle(report))
    assert str(res.record["labs"]["albumin"]["value"]) == "3.2"
    assert "report_not_imaging" in _codes(res)  # the report itself: its results are read, not its text


def test_a_value_sent_as_text_is_read_and_a_comparator_is_not_a_value() -> None:
    res = bundle_to_record(
        make_bundle(
            obs("1751-7", "2025-01-10", {"valueString": "3.2 g/dL"}),
            obs("1952-1", "2025-01-10", {"valueString": "<0.5 mg/L"}),
            obs(
                "2160-0", "2025-01-10", {"valueQuantity": {"value": 0.4, "comparator": "<", "unit": "mg/dL"}}
            ),
        )
    )
    assert (str(res.record["labs"]["albumin"]["value"]), res.record["labs"]["albumin"]["unit"]) == (
        "3.2",
        "g/dL",
    )
    assert "beta2_microglobulin" not in res.record["labs"] and "creatinine" not in res.record["labs"]
    assert _codes(res).count("comparator") == 2
    assert "value_from_string" in _codes(res)


@pytest.mark.parametrize(
    ("code", "display", "value", "unit", "field"),
    [
        ("14682-9", None, 176, "umol/L", "creatinine"),  # a listed alternative code
        ("2862-1", None, 3.1, "g/dL", "albumin"),
        (
            "2000-8",
            "Calcium [Moles/volume] in Serum or Plasma",
            2.6,
            "mmol/L",
            "calcium",
        ),  # by its LOINC name
    ],
)
def test_alternative_loinc_codes(code: str, display: str | None, value: float, unit: str, field: str) -> None:
    o = obs(code, "2025-01-10", qty(value, unit))
    if display:
        o["code"]["coding"][0]["display"] = display
    res = bundle_to_record(make_bundle(o))
    assert str(res.record["labs"][field]["value"]) == str(value)


def test_an_unlisted_loinc_for_another_test_is_not_read_by_name() -> None:
    o = obs("1995-0", "2025-01-10", qty(1.2, "mmol/L"))
    o["code"]["coding"][0]["display"] = "Calcium.ionized [Moles/volume] in Serum or Plasma"
    res = bundle_to_record(make_bundle(o))
    assert "labs" not in res.record and "unknown_code" in _codes(res)


@pytest.mark.parametrize(
    ("name", "value", "unit", "where"),
    [
        ("血清白蛋白（ALB）", 32.1, "g/L", ("labs", "albumin")),
        ("骨髓浆细胞比例", 35, "%", ("diagnosis", "clonal_bone_marrow_plasma_cells_pct")),
        ("β2微球蛋白", 5.6, "mg/L", ("labs", "beta2_microglobulin")),
        ("肌酐(Cr)", 120, "μmol/L", ("labs", "creatinine")),
    ],
)
def test_chinese_local_laboratory_names(name: str, value: float, unit: str, where: tuple[str, str]) -> None:
    o = obs(
        "LAB001", "2025-01-10", {"valueQuantity": {"value": value, "unit": unit}}, system="urn:oid:1.2.156.1"
    )
    o["code"]["text"] = name
    res = bundle_to_record(make_bundle(o))
    block = res.record[where[0]]
    if isinstance(block, list):
        block = block[0]
    assert where[1] in block
    assert "lab_from_local_name" in _codes(res)


# --- diagnosis, lesions, status --------------------------------------------------------------------------------


def test_diagnosis_date_from_recorded_date_when_no_onset() -> None:
    bundle = make_bundle()
    dx = bundle["entry"][1]["resource"]
    del dx["onsetDateTime"]
    dx["recordedDate"] = "2024-03-02T10:00:00+08:00"
    res = bundle_to_record(bundle)
    assert res.record["diagnosis"]["date"] == "2024-03-02"
    assert "diagnosis_date_from_recorded" in _codes(res)
    dx["extension"] = [
        {
            "url": "http://hl7.org/fhir/StructureDefinition/condition-assertedDate",
            "valueDateTime": "2024-02-27",
        }
    ]
    assert bundle_to_record(bundle).record["diagnosis"]["date"] == "2024-02-27"  # asserted before recorded
    dx["onsetPeriod"] = {"start": "2024-02-20"}
    assert bundle_to_record(bundle).record["diagnosis"]["date"] == "2024-02-20"  # onset wins


@pytest.mark.parametrize(
    ("text", "phase"),
    [("多发性骨髓瘤", "newly_diagnosed"), ("复发难治性多发性骨髓瘤", "relapsed_refractory")],
)
def test_a_diagnosis_named_only_in_text(text: str, phase: str) -> None:
    bundle = make_bundle()
    bundle["entry"][1]["resource"]["code"] = {
        "coding": [{"system": "urn:oid:1.2.156.9", "code": "Z01"}],
        "text": text,
    }
    res = bundle_to_record(bundle)
    assert res.record["diagnosis"]["myeloma_diagnosis_recorded"] is True
    assert res.record["phase"] == phase
    assert "diagnosis_from_text" in _codes(res)


def test_a_suspected_myeloma_in_text_is_not_a_diagnosis() -> None:
    bundle = make_bundle()
    bundle["entry"][1]["resource"]["code"] = {"text": "Suspected multiple myeloma"}
    res = bundle_to_record(bundle)
    assert "phase" not in res.record and "no_diagnosis" in _codes(res)


@pytest.mark.parametrize(
    ("code", "site", "relation"),
    [
        ({"text": "Extramedullary plasmacytoma of the pleura"}, "pleura", "none"),
        ({"text": "胸膜髓外浆细胞瘤"}, "pleura", "none"),
        (
            {
                "coding": [
                    {"system": SCT, "code": "94381002", "display": "Secondary malignant neoplasm of liver"}
                ]
            },
            "liver",
            "none",
        ),
        (
            {
                "coding": [{"system": ICD10CM, "code": "C90.20"}],
                "text": "Paraskeletal plasmacytoma arising from rib",
            },
            "chest_wall",
            "arising_from_bone",
        ),
    ],
)
def test_lesions_named_in_text(code: dict[str, Any], site: str, relation: str) -> None:
    extra = {"bodySite": [{"text": "Chest wall"}]} if "Paraskeletal" in str(code) else {}
    res = bundle_to_record(make_bundle(_condition("les", code, **extra)))
    [lesion] = res.record["lesions"]
    assert (lesion["site"], lesion["relation_to_bone"]) == (site, relation)
    assert _category(res.record) == ("paraskeletal" if relation == "arising_from_bone" else "extramedullary")


def test_mcode_secondary_cancer_condition_with_a_snomed_body_site() -> None:
    secondary = _condition(
        "sec",
        {"coding": [{"system": ICD10CM, "code": "C78.7"}]},
        meta={
            "profile": ["http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-secondary-cancer-condition"]
        },
        bodySite=[{"coding": [{"system": SCT, "code": "69695003", "display": "Stomach structure"}]}],
    )
    res = bundle_to_record(make_bundle(secondary))
    assert [(x["site"], x["relation_to_bone"]) for x in res.record["lesions"]] == [
        ("gastrointestinal", "none")
    ]


@pytest.mark.parametrize(
    ("code", "value"),
    [
        (
            "88040-1",
            {"valueCodeableConcept": {"coding": [{"system": SCT, "code": "271299001"}]}},
        ),  # mCODE STU1
        ("97509-4", {"valueCodeableConcept": {"text": "Progressive disease"}}),  # text only
    ],
)
def test_disease_status_worsened_after_a_line_is_a_relapse(code: str, value: dict[str, Any]) -> None:
    res = bundle_to_record(
        make_bundle(
            _request("v", "2025-01-15", medicationCodeableConcept={"text": "bortezomib"}),
            obs(code, "2025-09-01", value),
        )
    )
    assert res.record["phase"] == "relapsed_refractory"
    assert "relapse_inferred" in _codes(res)


def _variant(genes: list[str], location: str | None, change: str, present: bool = True) -> dict[str, Any]:
    comps = [
        _component(
            "48018-6",
            {
                "valueCodeableConcept": {
                    "coding": [
                        {"system": "http://www.genenames.org/geneId", "code": f"HGNC:{g}", "display": g}
                    ]
                }
            },
        )
        for g in genes
    ]
    if location:
        comps.append(_component("48001-2", {"valueCodeableConcept": {"text": location}}))
    comps.append(
        _component(
            "48019-4",
            {
                "valueCodeableConcept": {
                    "coding": [{"system": "http://www.sequenceontology.org", "display": change}]
                }
            },
        )
    )
    answer = {"system": LOINC, "code": "LA9633-4", "display": "Present"} if present else {"display": "Absent"}
    return obs("69548-6", "2025-01-12", {"valueCodeableConcept": {"coding": [answer]}, "component": comps})


def test_genomic_variants_read_as_cytogenetic_findings() -> None:
    res = bundle_to_record(
        make_bundle(
            _variant(["TP53"], "17p13.1", "copy_number_loss"),
            _variant(["FGFR3", "IGH"], None, "translocation"),
            _variant(["CKS1B"], "1q21.3", "copy_number_gain"),
            _variant(["CCND1", "IGH"], None, "gene_fusion", present=False),
        )
    )
    assert res.record["cytogenetics"] == {"del_17p": True, "t_4_14": True, "gain_1q": True, "t_11_14": False}
    assert _codes(res).count("cytogenetics_from_variant") == 4


def test_a_variant_of_another_gene_is_a_reason_not_a_finding() -> None:
    res = bundle_to_record(make_bundle(_variant(["KRAS"], "12p12.1", "missense_variant")))
    assert "cytogenetics" not in res.record and "unknown_value" in _codes(res)


def test_nothing_in_these_shapes_is_dropped_silently() -> None:
    # Every entry of a bundle with all the shapes above has a mapped fact or a reason naming its path.
    bundle = make_bundle(
        _request("m1", "2025-01-15", medicationReference={"reference": "#nowhere"}),
        _procedure("p", "2025-04-01", {"text": "Autologous stem cell collection"}),
        _variant(["KRAS"], None, "missense_variant"),
        obs("1995-0", "2025-01-10", qty(1.2, "mmol/L")),
    )
    res = bundle_to_record(copy.deepcopy(bundle))
    paths = {
        r.path.split(".code")[0].split(".medication")[0].split(".component")[0].split(".value")[0]
        for r in res.reasons
    }
    for i in range(2, len(bundle["entry"])):
        assert any(p.startswith(f"Bundle.entry[{i}].resource") for p in paths), i


@pytest.mark.parametrize(
    "code",
    [
        {"coding": [{"system": SCT, "code": "234336002"}]},  # Hemopoietic stem cell transplant (Synthea)
        {"text": "造血干细胞移植术"},
    ],
)
def test_an_unspecified_stem_cell_transplant_is_read_as_autologous_with_a_reason(
    code: dict[str, Any],
) -> None:
    res = bundle_to_record(
        make_bundle(
            _request("v", "2025-01-15", medicationCodeableConcept={"text": "bortezomib"}),
            _procedure("p", "2025-06-01", code),
        )
    )
    assert res.record["therapy_history"][0]["agents"] == ["bortezomib", "asct"]
    assert "transplant_type_assumed" in _codes(res)


@pytest.mark.parametrize(
    ("text", "agents"),
    [
        ("VRd", ["bortezomib", "dexamethasone", "lenalidomide"]),
        ("DRd regimen", ["daratumumab", "dexamethasone", "lenalidomide"]),
        ("来那度胺-硼替佐米-地塞米松方案", ["bortezomib", "dexamethasone", "lenalidomide"]),
        ("bortezomib + lenalidomide + dexamethasone", ["bortezomib", "dexamethasone", "lenalidomide"]),
    ],
)
def test_a_regimen_gives_all_its_agents(text: str, agents: list[str]) -> None:
    res = bundle_to_record(make_bundle(_request("r", "2025-01-15", medicationCodeableConcept={"text": text})))
    [line] = res.record["therapy_history"]
    assert sorted(line["agents"]) == agents
    assert "agents_from_regimen" in _codes(res)


def test_a_regimen_abbreviation_is_matched_as_written() -> None:
    # "PD" is progressive disease, not pomalidomide-dexamethasone (listed as "Pd").
    res = bundle_to_record(make_bundle(_request("r", "2025-01-15", medicationCodeableConcept={"text": "PD"})))
    assert "therapy_history" not in res.record and "unknown_agent" in _codes(res)


@pytest.mark.parametrize(
    ("name", "value", "field", "expected"),
    [
        ("血清免疫固定电泳", "阳性（IgG-κ型）", "serum_ife", "positive"),
        ("Urine immunofixation", "No monoclonal protein detected", "urine_ife", "negative"),
    ],
)
def test_immunofixation_named_in_text(name: str, value: str, field: str, expected: str) -> None:
    o = obs("IFE1", "2025-01-12", {"valueString": value}, system="urn:oid:1.2.156.1")
    o["code"]["text"] = name
    res = bundle_to_record(make_bundle(o))
    assert res.record["assessments"][0][field] == expected
    assert "test_from_name" in _codes(res)


def test_ecog_by_local_name_and_marrow_percent_in_annotated_ucum() -> None:
    ecog = obs("E1", "2025-01-10", {"valueInteger": 2}, system="urn:oid:1.2.156.1")
    ecog["code"]["text"] = "ECOG评分"
    marrow = obs("11118-7", "2025-01-10", qty(40, "/100{cells}"))
    res = bundle_to_record(make_bundle(ecog, marrow))
    assert res.record["ecog"] == 2
    assert str(res.record["diagnosis"]["clonal_bone_marrow_plasma_cells_pct"]) == "40"


def test_a_response_assessment_named_in_text_saying_progression_is_a_relapse() -> None:
    status = obs("R1", "2025-09-01", {"valueString": "疾病进展（PD）"}, system="urn:oid:1.2.156.1")
    status["code"]["text"] = "疗效评估"
    res = bundle_to_record(
        make_bundle(_request("v", "2025-01-15", medicationCodeableConcept={"text": "bortezomib"}), status)
    )
    assert res.record["phase"] == "relapsed_refractory"


def _structure_bundle(with_body_site: bool) -> dict[str, Any]:
    condition = _condition(
        "les",
        {"coding": [{"system": ICD10CM, "code": "C90.20"}]},
        extension=[
            {
                "url": "http://hl7.org/fhir/StructureDefinition/bodySite",
                "valueReference": {"reference": "BodyStructure/bs1"},
            }
        ],
    )
    if with_body_site:
        condition["bodySite"] = [{"text": "Liver"}]
    structure = {
        "resourceType": "BodyStructure",
        "id": "bs1",
        "patient": {"reference": "Patient/p1"},
        "location": {"coding": [{"system": SCT, "code": "10200004", "display": "Liver structure"}]},
    }
    size = obs(
        "21889-1",
        "2025-01-21",
        {
            "component": [_component("33728-7", qty(45, "mm")), _component("33729-5", qty(30, "mm"))],
            "focus": [{"reference": "BodyStructure/bs1"}],
        },
    )
    return make_bundle(condition, structure, size)


@pytest.mark.parametrize("with_body_site", [True, False])
def test_a_body_structure_of_a_lesion_condition_is_that_lesion(with_body_site: bool) -> None:
    res = bundle_to_record(_structure_bundle(with_body_site))
    [lesion] = res.record["lesions"]
    assert (lesion["id"], lesion["site"], lesion["relation_to_bone"]) == ("les", "liver", "none")
    [measured] = res.record["assessments"][0]["plasmacytomas"]
    assert measured["lesion"] == "les" and str(measured["longest_cm"]) == "4.5"


def test_medication_start_fallbacks() -> None:
    statement = {
        "resourceType": "MedicationStatement",
        "id": "s1",
        "status": "active",
        "medicationCodeableConcept": {"text": "lenalidomide"},
        "subject": {"reference": "Patient/p1"},
        "dateAsserted": "2025-02-01",
    }
    order = _request("o1", "2025-02-01", medicationCodeableConcept={"text": "bortezomib"})
    del order["authoredOn"]
    order["dispenseRequest"] = {"validityPeriod": {"start": "2025-02-01"}}
    res = bundle_to_record(make_bundle(statement, order))
    [line] = res.record["therapy_history"]
    assert (sorted(line["agents"]), line["start"]) == (["bortezomib", "lenalidomide"], "2025-02-01")


def _probe(gene: dict[str, Any], change: str | None, answer: str) -> dict[str, Any]:
    """A FISH probe result as mCODE / Genomics Reporting send it: the gene studied, perhaps a change type, and a
    Present (LA9633-4) / Absent (LA9634-2) answer."""
    comps = [_component("48018-6", {"valueCodeableConcept": gene})]
    if change is not None:
        comps.append(_component("48019-4", {"valueCodeableConcept": {"text": change}}))
    display = {"LA9633-4": "Present", "LA9634-2": "Absent"}[answer]
    value = {"coding": [{"system": LOINC, "code": answer, "display": display}]}
    return obs("69548-6", "2025-01-12", {"valueCodeableConcept": value, "component": comps})


def _hgnc(code: str, symbol: str) -> dict[str, Any]:
    return {"coding": [{"system": "http://www.genenames.org/geneId", "code": code, "display": symbol}]}


@pytest.mark.parametrize(
    ("gene", "change", "answer", "expected"),
    [
        # The IGH/FGFR3 probe is the t(4;14) test; the change type names the translocation, not a gene pair.
        (_hgnc("HGNC:3690", "FGFR3"), "translocation t(4;14)(p16;q32)", "LA9634-2", {"t_4_14": False}),
        (_hgnc("HGNC:3690", "FGFR3"), None, "LA9633-4", {"t_4_14": True}),
        ({"text": "NSD2 (WHSC1) break-apart probe"}, None, "LA9633-4", {"t_4_14": True}),
        ({"text": "MMSET"}, "rearrangement", "LA9634-2", {"t_4_14": False}),
        (_hgnc("HGNC:1582", "CCND1"), "translocation", "LA9633-4", {"t_11_14": True}),
        (_hgnc("HGNC:6776", "MAF"), None, "LA9634-2", {"t_14_16": False}),
        (_hgnc("HGNC:6408", "MAFB"), None, "LA9634-2", {"t_14_20": False}),
        (_hgnc("HGNC:11998", "TP53"), "deletion", "LA9634-2", {"del_17p": False}),
        (_hgnc("HGNC:19083", "CKS1B"), None, "LA9633-4", {"gain_1q": True}),
        (_hgnc("HGNC:1789", "CDKN2C"), None, "LA9634-2", {"del_1p32": "none"}),
    ],
)
def test_a_fish_probe_reads_as_the_abnormality_its_gene_tests(
    gene: dict[str, Any], change: str | None, answer: str, expected: dict[str, Any]
) -> None:
    res = bundle_to_record(make_bundle(_probe(gene, change, answer)))
    assert res.record["cytogenetics"] == expected
    assert "cytogenetics_from_variant" in _codes(res)


@pytest.mark.parametrize(
    ("gene", "change"),
    [
        (_hgnc("HGNC:3690", "FGFR3"), "missense_variant"),  # an FGFR3 point mutation is not t(4;14)
        (_hgnc("HGNC:19083", "CKS1B"), "copy number loss"),  # a loss of 1q21 is not gain(1q)
        ({"text": "MAFA"}, None),  # not MAF: whole gene names only
    ],
)
def test_a_studied_gene_with_another_kind_of_change_is_not_its_abnormality(
    gene: dict[str, Any], change: str | None
) -> None:
    res = bundle_to_record(make_bundle(_probe(gene, change, "LA9633-4")))
    assert "cytogenetics" not in res.record and "unknown_value" in _codes(res)


def _named_variant(name: str, **value: Any) -> dict[str, Any]:
    # A variant / FISH result with no components: the abnormality is named only in the code's text.
    r = obs("69548-6", "2025-01-12", value)
    r["code"]["text"] = name
    return r


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "t(14;16)(q32;q23) IGH/MAF fusion",
            {
                "valueCodeableConcept": {
                    "coding": [{"system": LOINC, "code": "LA9633-4", "display": "Present"}]
                }
            },
            {"t_14_16": True},
        ),
        (
            "del(17p13.1) TP53 deletion",
            {
                "valueCodeableConcept": {
                    "coding": [{"system": LOINC, "code": "LA9634-2", "display": "Absent"}]
                }
            },
            {"del_17p": False},
        ),
        ("1q21 (CKS1B) gain", {"interpretation": [{"text": "Positive"}]}, {"gain_1q": True}),
        ("IGH/FGFR3 FISH", {"interpretation": [{"text": "Negative"}]}, {"t_4_14": False}),
        ("FISH", {"valueString": "t(11;14) not detected"}, {"t_11_14": False}),
        ("FISH", {"note": [{"text": "del(17p) detected in 40% of cells"}]}, {"del_17p": True}),
    ],
)
def test_a_variant_named_only_in_its_text_reads_with_the_cytogenetics_table(
    name: str, value: dict[str, Any], expected: dict[str, Any]
) -> None:
    res = bundle_to_record(make_bundle(_named_variant(name, **value)))
    assert res.record["cytogenetics"] == expected
    assert "cytogenetics_from_variant" in _codes(res)


def test_a_variant_whose_text_names_no_abnormality_is_a_reason() -> None:
    res = bundle_to_record(make_bundle(_named_variant("Genetic variant assessment", valueString="KRAS G12D")))
    assert "cytogenetics" not in res.record and "unknown_value" in _codes(res)
