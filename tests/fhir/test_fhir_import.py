"""Bundle -> record: each mapping rule and each reason type, on small bundles and on an EHR-style searchset."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fhir_helpers import load_ehr_bundle, make_bundle, obs, qty

from mmemd.clinical import assess, parse_record
from mmemd.fhir import BundleError, bundle_to_record, bundle_to_record_from_parts

MM = "urn:mmemd:fhir:CodeSystem:mmemd"


def _codes(res: Any) -> list[str]:
    return [r.code for r in res.reasons]


# --- the EHR-style searchset ----------------------------------------------------------------------------------


def test_ehr_searchset_record() -> None:
    ehr_bundle = load_ehr_bundle()
    res = bundle_to_record(ehr_bundle)
    rec = res.record
    assert res.patient_id == "p-4711"
    assert rec["sex"] == "female" and rec["age"] == 62  # completed years at the diagnosis date 2025-04-02
    assert rec["phase"] == "newly_diagnosed"
    assert rec["diagnosis"] == {
        "date": "2025-04-02",
        "clonal_bone_marrow_plasma_cells_pct": Decimal(38),
        "myeloma_diagnosis_recorded": True,
    }
    assert rec["labs"]["ldh"] == {"value": Decimal(412), "unit": "U/L", "upper_limit_normal": Decimal(250)}
    assert rec["labs"]["creatinine"] == {"value": Decimal(97), "unit": "µmol/L"}
    assert "hemoglobin" not in rec["labs"]  # mmol/L refused
    assert rec["current_labs"] == {"creatinine": {"value": Decimal("0.9"), "unit": "mg/dL"}}
    assert rec["cytogenetics"] == {
        "del_17p": False,
        "t_4_14": True,
        "t_14_16": False,
        "t_11_14": False,
        "gain_1q": True,
        "del_1p32": "monoallelic",
    }
    assert rec["lesions"] == [
        {
            "id": "c-skin",
            "site": "skin",
            "relation_to_bone": "none",
            "biopsy_proven": True,
            "detected_on": "2025-04-05",
            "modality": "PET-CT",
        }
    ]
    assert [a["date"] for a in rec["assessments"]] == [
        "2025-04-08",
        "2025-07-15",
    ]  # entered-in-error left out
    assert rec["assessments"][0]["free_light_chains"]["involved"] == "lambda"
    assert rec["therapy_history"] == [
        {"line": 1, "agents": ["bortezomib", "lenalidomide", "dexamethasone"], "start": "2025-04-10"}
    ]
    parse_record(rec)  # a valid mmemd.patient/1
    a = assess(rec)
    assert a.emd.category == "extramedullary" and a.emd.timing == "primary" and a.emd.sites == ["skin"]
    # ISS III (β2M 6.2 mg/L >= 5.5), R-ISS III (t(4;14), LDH 412 > ULN 250), R2-ISS 1.5+1+1+0.5 = 4 -> IV.
    assert (a.staging.iss, a.staging.r_iss, a.staging.r2_iss.group) == ("III", "III", "IV")


def test_ehr_searchset_reasons() -> None:
    ehr_bundle = load_ehr_bundle()
    res = bundle_to_record(ehr_bundle)
    got = {(r.code, r.path) for r in res.reasons}
    e = "Bundle.entry[{}].resource"
    assert ("unmapped_resource", e.format(4)) in got  # Encounter
    assert ("out_of_scope_condition", e.format(2) + ".code") in got  # hypertension
    assert ("unknown_unit", e.format(9) + ".valueQuantity.code") in got  # Hb mmol/L
    assert ("unknown_code", e.format(11) + ".component[6].code") in got  # hyperdiploidy
    assert ("derived_value", e.format(16) + ".code") in got  # κ/λ ratio
    assert ("status_excluded", e.format(19) + ".status") in got
    # free text with a dose: the agent is read from the product name, with a reason
    assert ("agent_from_product_name", e.format(23) + ".medicationCodeableConcept") in got
    assert ("involved_chain_inferred", e.format(14)) in got
    assert (
        sum(1 for r in res.reasons if r.code == "therapy_line_inferred") == 4
    )  # one per medication of the line
    for r in res.reasons:
        assert r.message_en and r.message_zh


def test_every_entry_is_mapped_or_has_a_reason() -> None:
    ehr_bundle = load_ehr_bundle()
    # Remove one mapped entry at a time: the record changes or a reason appears — nothing is ignored silently.
    base = bundle_to_record(ehr_bundle)
    for i in range(len(ehr_bundle["entry"])):
        if ehr_bundle["entry"][i]["resource"]["resourceType"] == "Patient":
            continue
        smaller = {**ehr_bundle, "entry": [e for j, e in enumerate(ehr_bundle["entry"]) if j != i]}
        res = bundle_to_record(smaller)
        paths = {r.path.split(".resource")[0] for r in base.reasons}
        assert res.record != base.record or f"Bundle.entry[{i}]" in paths, i


# --- diagnosis and phase ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("icd", "status", "phase"),
    [
        ("C90.00", "active", "newly_diagnosed"),
        ("C90.02", "active", "relapsed_refractory"),  # ICD-10-CM "in relapse"
        ("C90.00", "relapse", "relapsed_refractory"),
        ("C90.0", "recurrence", "relapsed_refractory"),
        ("C90.10", "active", "newly_diagnosed"),
    ],
)
def test_phase(icd: str, status: str, phase: str) -> None:
    b = make_bundle(icd=icd)
    b["entry"][1]["resource"]["clinicalStatus"] = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]
    }
    res = bundle_to_record(b)
    assert res.record["phase"] == phase
    assert ("phase_default" in _codes(res)) == (phase == "newly_diagnosed")
    assert ("pcl_coded" in _codes(res)) == icd.startswith("C90.1")


def test_no_diagnosis() -> None:
    b = make_bundle()
    b["entry"][1]["resource"]["code"] = {
        "coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "C83.3"}]
    }
    res = bundle_to_record(b)
    assert "phase" not in res.record and "no_diagnosis" in _codes(res)
    with pytest.raises(Exception, match="phase"):
        parse_record(res.record)


def test_age_partial_birth_date() -> None:
    b = make_bundle()
    b["entry"][0]["resource"]["birthDate"] = "1960"
    res = bundle_to_record(b)
    assert "age" not in res.record and "no_birth_date" in _codes(res)
    b["entry"][0]["resource"]["birthDate"] = "1960-01-11"
    assert bundle_to_record(b).record["age"] == 64  # birthday the day after diagnosis 2025-01-10
    b["entry"][0]["resource"]["birthDate"] = "1960-01-10"
    assert bundle_to_record(b).record["age"] == 65


def test_gender_other() -> None:
    b = make_bundle()
    b["entry"][0]["resource"]["gender"] = "other"
    res = bundle_to_record(b)
    assert "sex" not in res.record and "gender_unmapped" in _codes(res)


# --- labs at diagnosis, current labs, serial values ------------------------------------------------------------


def test_labs_window_and_current() -> None:
    b = make_bundle(
        obs("1952-1", "2024-11-01", qty(2.0, "mg/L")),  # > 30 days before diagnosis
        obs("1952-1", "2025-01-08", qty(4.0, "mg/L")),  # closest to 2025-01-10
        obs("1952-1", "2025-02-01", qty(4.5, "mg/L")),  # in the window, not closest
        obs("1952-1", "2025-06-01", qty(3.0, "mg/L")),  # after the window, superseded
        obs("1952-1", "2025-09-01", qty(2.5, "mg/L")),  # latest -> current_labs
    )
    res = bundle_to_record(b)
    assert res.record["labs"]["beta2_microglobulin"]["value"] == Decimal("4.0")
    assert res.record["current_labs"]["beta2_microglobulin"]["value"] == Decimal("2.5")
    by_path = {r.path: r.code for r in res.reasons}
    assert by_path["Bundle.entry[2].resource"] == "outside_diagnosis_window"
    assert by_path["Bundle.entry[4].resource"] == "superseded"
    assert by_path["Bundle.entry[5].resource"] == "superseded"


def test_conflicting_values_same_day() -> None:
    b = make_bundle(obs("1751-7", "2025-01-10", qty(35, "g/L")), obs("1751-7", "2025-01-10", qty(30, "g/L")))
    res = bundle_to_record(b)
    assert "labs" not in res.record
    assert _codes(res).count("conflicting_values") == 2


def test_no_and_partial_dates() -> None:
    o1 = obs("1751-7", "2025-01", qty(35, "g/L"))
    o2 = obs("1751-7", "2025-01-10", qty(35, "g/L"))
    del o2["effectiveDateTime"]
    res = bundle_to_record(make_bundle(o1, o2))
    assert "labs" not in res.record
    assert {"partial_date", "no_date"} <= set(_codes(res))


def test_comparator_and_absent_value() -> None:
    o1 = obs("33358-3", "2025-02-10", {"valueQuantity": {"value": 0.1, "comparator": "<", "unit": "g/dL"}})
    o2 = obs(
        "33358-3",
        "2025-03-10",
        {
            "dataAbsentReason": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "error"}
                ]
            }
        },
    )
    res = bundle_to_record(make_bundle(o1, o2))
    assert "assessments" not in res.record
    assert {"comparator", "no_value"} <= set(_codes(res))


def test_rejected_loinc_codes() -> None:
    res = bundle_to_record(
        make_bundle(
            obs("33944-8", "2025-01-12", qty(5, "mg/L")), obs("32730-5", "2025-01-12", qty(300, "mg/(24.h)"))
        )
    )
    assert "assessments" not in res.record
    assert _codes(res).count("unverified_code") == 2


def test_other_patient() -> None:
    o = obs("1751-7", "2025-01-10", qty(35, "g/L"))
    o["subject"] = {"reference": "Patient/someone-else"}
    res = bundle_to_record(make_bundle(o))
    assert "labs" not in res.record and "other_patient" in _codes(res)


# --- assessments ----------------------------------------------------------------------------------------------


def test_response_fields() -> None:
    day = "2025-02-10"
    pos = {"valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "10828004"}]}}
    neg = {"valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "260385009"}]}}
    b = make_bundle(
        obs("33358-3", day, qty(0, "g/dL")),
        obs("serum_ife", day, pos, system=MM),
        obs("urine_ife", day, {"valueString": "negative"}, system=MM),
        obs("11118-7", day, qty(3, "%")),
        obs("new_lesion", day, {"valueBoolean": False}, system=MM),
        obs("circulating_plasma_cells_per_ul", day, qty(0.2, "10*9/L"), system=MM),
        obs(
            "mrd",
            day,
            neg,
            system=MM,
            method={"text": "next-generation flow (EuroFlow)"},
            component=[
                {
                    "code": {"coding": [{"system": MM, "code": "mrd_sensitivity"}]},
                    "valueQuantity": {"value": 1e-5, "unit": "1"},
                }
            ],
        ),
    )
    a = bundle_to_record(b).record["assessments"]
    assert a == [
        {
            "date": day,
            "serum_m_protein": {"value": Decimal(0), "unit": "g/dL"},
            "serum_ife": "positive",
            "urine_ife": "negative",
            "bone_marrow_plasma_cells_pct": Decimal(3),
            "circulating_plasma_cells_per_ul": Decimal("200.0"),
            "new_lesion": False,
            "mrd": {"method": "NGF", "negative": True, "sensitivity": Decimal("0.00001")},
        }
    ]


def test_marrow_at_diagnosis_forms_no_assessment() -> None:
    b = make_bundle(obs("11118-7", "2025-01-09", qty(45, "%")), obs("11118-7", "2025-06-01", qty(4, "%")))
    rec = bundle_to_record(b).record
    assert rec["diagnosis"]["clonal_bone_marrow_plasma_cells_pct"] == Decimal(45)
    assert rec["assessments"] == [{"date": "2025-06-01", "bone_marrow_plasma_cells_pct": Decimal(4)}]


def test_flc_involved_unknown_drops_chains() -> None:
    b = make_bundle(
        obs("36916-5", "2025-01-12", qty(1.2, "mg/dL")), obs("33944-0", "2025-01-12", qty(1.0, "mg/dL"))
    )
    res = bundle_to_record(b)
    assert "assessments" not in res.record  # ratio 1.2 is normal: the clone's chain is unknown
    assert _codes(res).count("involved_chain_unknown") == 2


def test_measurement_of_unknown_lesion() -> None:
    size = obs(
        "21889-1",
        "2025-01-12",
        {
            "component": [
                {"code": {"coding": [{"system": "http://loinc.org", "code": "33728-7"}]}, **qty(2, "cm")},
                {"code": {"coding": [{"system": "http://loinc.org", "code": "33729-5"}]}, **qty(1, "cm")},
            ]
        },
        focus=[{"reference": "Condition/nowhere"}],
    )
    res = bundle_to_record(make_bundle(size))
    assert "assessments" not in res.record and "unknown_lesion" in _codes(res)


# --- cytogenetics -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "field", "expected"),
    [
        ("t(4;14)", "Detected", "t_4_14", True),
        ("FISH t(14;16)", "not detected", "t_14_16", False),
        ("t(14;20)", "positive", "t_14_20", True),
        ("t(11;14) CCND1", "阳性", "t_11_14", True),
        ("del(17p)", "Detected", "del_17p", True),
        ("17p deletion", "negative", "del_17p", False),
        ("TP53 mutation", "detected", "tp53_mutation", True),
        ("gain(1q)", "detected", "gain_1q", True),
        ("1q21 amplification", "detected", "gain_1q", True),
        ("+1q", "detected", "gain_1q", True),
        ("del(1p32)", "biallelic", "del_1p32", "biallelic"),
        ("del(1p32)", "not detected", "del_1p32", "none"),
    ],
)
def test_cytogenetic_text_convention(text: str, value: str, field: str, expected: Any) -> None:
    o = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": text},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2025-01-15",
        "valueString": value,
    }
    res = bundle_to_record(make_bundle(o))
    assert res.record["cytogenetics"] == {field: expected}


def test_del_1p32_detected_without_allele_count_is_a_reason() -> None:
    o = obs("del_1p32", "2025-01-15", {"valueString": "detected"}, system=MM)
    res = bundle_to_record(make_bundle(o))
    assert "cytogenetics" not in res.record and "unknown_value" in _codes(res)


def test_del17p_fraction() -> None:
    det = {"valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "260373001"}]}}
    b = make_bundle(
        obs("del_17p", "2025-01-15", det, system=MM),
        obs("del_17p_clonal_fraction_pct", "2025-01-15", qty(20, "%"), system=MM),
    )
    rec = bundle_to_record(b).record
    assert rec["cytogenetics"] == {"del_17p": True, "del_17p_clonal_fraction_pct": Decimal(20)}
    assert assess(rec).staging.high_risk is True  # IMS/IMWG 2025: del(17p) in >= 20% (§2.4)


# --- therapy --------------------------------------------------------------------------------------------------


def _med(code: str, start: str, system: str = "http://www.whocc.no/atc", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "status": "completed",
        "medicationCodeableConcept": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": start,
        **extra,
    }


def test_therapy_lines_inferred_and_procedure_joins() -> None:
    asct = {
        "resourceType": "Procedure",
        "status": "completed",
        "code": {"text": "autologous stem cell transplantation (single)"},
        "subject": {"reference": "Patient/p1"},
        "performedDateTime": "2025-06-01",
    }
    b = make_bundle(
        _med("L01XG01", "2025-01-20"),
        _med("L04AX04", "2025-01-20"),
        _med("L01XX32", "2025-01-20"),  # legacy bortezomib code -> same agent, reported
        asct,
        _med("L01FC01", "2026-02-01"),
    )
    res = bundle_to_record(b)
    assert res.record["therapy_history"] == [
        {"line": 1, "agents": ["bortezomib", "lenalidomide", "asct"], "start": "2025-01-20"},
        {"line": 2, "agents": ["daratumumab"], "start": "2026-02-01"},
    ]
    assert "legacy_atc" in _codes(res)


def test_therapy_line_extension() -> None:
    ext = [
        {
            "url": "urn:mmemd:fhir:StructureDefinition:therapy-line",
            "extension": [
                {"url": "line", "valueInteger": 2},
                {"url": "best_response", "valueCode": "PR"},
                {"url": "refractory", "valueBoolean": True},
                {"url": "agent_refractory", "valueBoolean": True},
            ],
        }
    ]
    b = make_bundle(_med("L04AX06", "2025-03-01", extension=ext))
    res = bundle_to_record(b)
    assert res.record["therapy_history"] == [
        {
            "line": 2,
            "agents": ["pomalidomide"],
            "start": "2025-03-01",
            "best_response": "PR",
            "refractory": True,
            "refractory_agents": ["pomalidomide"],
        }
    ]
    assert "therapy_line_inferred" not in _codes(res)


def test_unknown_medication_and_reference() -> None:
    m1 = _med("B01AC06", "2025-01-20")  # aspirin: no mmemd agent
    m2 = {
        "resourceType": "MedicationStatement",
        "status": "completed",
        "medicationReference": {"reference": "Medication/missing"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2025-01-20",
    }
    res = bundle_to_record(make_bundle(m1, m2))
    assert "therapy_history" not in res.record
    assert {"unknown_agent", "unresolved_reference"} <= set(_codes(res))


def test_medication_reference_resolved() -> None:
    med = {
        "resourceType": "Medication",
        "id": "m1",
        "code": {"coding": [{"system": "http://www.whocc.no/atc", "code": "L01XX66"}]},
    }
    st = {
        "resourceType": "MedicationStatement",
        "status": "active",
        "medicationReference": {"reference": "Medication/m1"},
        "subject": {"reference": "Patient/p1"},
        "effectivePeriod": {"start": "2025-05-01"},
    }
    res = bundle_to_record(make_bundle(med, st))
    assert res.record["therapy_history"][0]["agents"] == ["selinexor"]
    assert "unmapped_resource" not in _codes(res)


# --- malformed input ------------------------------------------------------------------------------------------


def test_malformed_resource_is_a_reason_and_the_rest_imports() -> None:
    b = make_bundle(
        obs("1751-7", "2025-01-10", {"valueQuantity": {"value": "thirty", "unit": "g/L"}}),
        obs("1952-1", "2025-01-15 08:30", qty(6.1, "mg/L")),  # a space is not a FHIR dateTime
        obs("2160-0", "2025-01-10", qty(90, "umol/L")),
    )
    res = bundle_to_record(b)
    bad = [r for r in res.reasons if r.code == "invalid_resource"]
    assert {r.path for r in bad} == {
        "Bundle.entry[2].resource.valueQuantity.value",
        "Bundle.entry[3].resource.effectiveDateTime",
    }
    assert res.record["labs"] == {"creatinine": {"value": 90, "unit": "µmol/L"}}
    assert res.record["phase"] == "newly_diagnosed"
    assert all("thirty" not in r.message_en for r in bad)  # the message names the problem, not the value


def test_malformed_bundle_shell_names_the_path() -> None:
    b = make_bundle()
    b["total"] = "many"
    with pytest.raises(BundleError) as exc:
        bundle_to_record(b)
    assert [p.path for p in exc.value.problems] == ["Bundle.total"]
    report = exc.value.report()
    assert report["valid"] is False and report["problems"][0]["path"] == "Bundle.total"


@pytest.mark.parametrize(
    "bad",
    [[], "x", {"resourceType": "Patient"}, {"resourceType": "Bundle", "type": "collection", "entry": "x"}],
)
def test_not_a_bundle(bad: Any) -> None:
    with pytest.raises(BundleError):
        bundle_to_record(bad)


def test_from_parts_reason_path() -> None:
    res = bundle_to_record_from_parts(
        patient={"resourceType": "Patient", "id": "p1"},
        observations=[{"resourceType": "Observation", "status": "final"}],  # no code
    )
    assert res.patient_id == "p1"
    bad = [r for r in res.reasons if r.code == "invalid_resource"]
    assert bad and all(r.path.startswith("observations[0]") for r in bad)


def test_from_parts_malformed_bundle_shell_is_an_error() -> None:
    with pytest.raises(BundleError) as exc:
        bundle_to_record_from_parts(
            observations={"resourceType": "Bundle", "type": "searchset", "total": "x"}
        )
    assert exc.value.problems[0].path == "observations.total"
