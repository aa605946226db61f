"""Therapy history from MedicationRequest / MedicationAdministration / MedicationStatement in US Core, Synthea-style
and Chinese-EHR conventions: product names, line grouping, relapse inferred from progression after a line."""

from __future__ import annotations

from typing import Any

import pytest

from mmemd.fhir import bundle_to_record

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"


def _request(rid: str, display: str, authored: str, **extra: Any) -> dict[str, Any]:
    """A US Core MedicationRequest as Synthea writes it: RxNorm coding with the clinical drug's display."""
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "completed",
        "intent": "order",
        # The RxNorm code is illustrative: the agent is read from the display's ingredient name.
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "0", "display": display}],
            "text": display,
        },
        "subject": {"reference": "urn:uuid:patient"},
        "authoredOn": authored,
        **extra,
    }


def _synthea_bundle(*resources: dict[str, Any], icd: str = "C90.00") -> dict[str, Any]:
    patient = {"resourceType": "Patient", "id": "patient", "gender": "male", "birthDate": "1955-02-11"}
    dx = {
        "resourceType": "Condition",
        "id": "dx",
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        "verificationStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}
            ]
        },
        "code": {"coding": [{"system": ICD10_CM, "code": icd}]},
        "subject": {"reference": "urn:uuid:patient"},
        "onsetDateTime": "2023-02-01T09:00:00+00:00",
    }
    entries = [patient, dx, *resources]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{r.get('id', i)}",
                "resource": r,
                "request": {"method": "POST", "url": r["resourceType"]},
            }
            for i, r in enumerate(entries)
        ],
    }


def _codes(res: Any) -> list[str]:
    return [r.code for r in res.reasons]


def test_vrd_cycles_form_one_line_and_pomalidomide_a_second() -> None:
    first = [
        _request(f"v{i}", "bortezomib 3.5 MG Injection", f"2023-0{2 + i}-10") for i in range(3)
    ]  # one order per cycle
    first += [
        _request("r1", "lenalidomide 25 MG Oral Capsule", "2023-02-10"),
        _request("d1", "Dexamethasone 4 MG Oral Tablet", "2023-02-12"),
    ]
    second = [
        _request("p1", "Pomalidomide 4 MG Oral Capsule", "2024-05-02"),
        _request("d2", "Dexamethasone 4 MG Oral Tablet", "2024-05-02"),
    ]
    res = bundle_to_record(_synthea_bundle(*first, *second))
    assert res.record["therapy_history"] == [
        {"line": 1, "agents": ["bortezomib", "lenalidomide", "dexamethasone"], "start": "2023-02-10"},
        {"line": 2, "agents": ["pomalidomide", "dexamethasone"], "start": "2024-05-02"},
    ]
    assert "agent_from_product_name" in _codes(res)


def test_cancelled_and_proposed_orders_are_not_therapy() -> None:
    res = bundle_to_record(
        _synthea_bundle(
            _request("x1", "Carfilzomib 60 MG Injection", "2023-03-01", status="cancelled"),
            _request("x2", "Selinexor 20 MG Oral Tablet", "2023-03-01", intent="proposal"),
        )
    )
    assert "therapy_history" not in res.record
    assert _codes(res).count("status_excluded") == 2


def test_administration_and_dosage_start() -> None:
    admin = {
        "resourceType": "MedicationAdministration",
        "status": "completed",
        "medicationCodeableConcept": {"text": "Daratumumab 20 MG/ML Injectable Solution"},
        "subject": {"reference": "urn:uuid:patient"},
        "effectiveDateTime": "2023-03-01T10:00:00+00:00",
    }
    req = _request("r", "Lenalidomide 10 MG Oral Capsule", "2023-02-20")
    req["dosageInstruction"] = [{"timing": {"repeat": {"boundsPeriod": {"start": "2023-03-01"}}}}]
    res = bundle_to_record(_synthea_bundle(admin, req))
    assert res.record["therapy_history"] == [
        {"line": 1, "agents": ["daratumumab", "lenalidomide"], "start": "2023-03-01"}
    ]


def test_chinese_product_names() -> None:
    meds = [
        {
            "resourceType": "MedicationStatement",
            "status": "completed",
            "medicationCodeableConcept": {"text": name},
            "subject": {"reference": "urn:uuid:patient"},
            "effectivePeriod": {"start": start},
        }
        for name, start in (
            ("注射用硼替佐米", "2023-02-05"),
            ("来那度胺胶囊", "2023-02-05"),
            ("地塞米松片", "2023-02-05"),
        )
    ]
    res = bundle_to_record(_synthea_bundle(*meds))
    (line,) = res.record["therapy_history"]
    assert line["agents"] == ["bortezomib", "lenalidomide", "dexamethasone"]


def test_progression_after_a_line_is_a_relapse_and_opens_a_new_line() -> None:
    status = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "97509-4"}]},
        "subject": {"reference": "urn:uuid:patient"},
        "effectiveDateTime": "2023-03-20",
        "valueCodeableConcept": {"coding": [{"system": SCT, "code": "271299001"}]},
    }
    res = bundle_to_record(
        _synthea_bundle(
            _request("v", "Bortezomib 3.5 MG Injection", "2023-02-10"),
            status,
            # Same agent again, but after progression: a new line (retreatment), within the join window.
            _request("v2", "Bortezomib 3.5 MG Injection", "2023-03-25"),
        )
    )
    assert res.record["phase"] == "relapsed_refractory"
    assert "relapse_inferred" in _codes(res)
    assert [ln["line"] for ln in res.record["therapy_history"]] == [1, 2]


def test_worsened_status_without_therapy_is_not_a_relapse() -> None:
    status = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "97509-4"}]},
        "subject": {"reference": "urn:uuid:patient"},
        "effectiveDateTime": "2023-03-20",
        "valueCodeableConcept": {"coding": [{"system": SCT, "code": "271299001"}]},
    }
    res = bundle_to_record(_synthea_bundle(status))
    assert res.record["phase"] == "newly_diagnosed"
    assert "phase_default" in _codes(res)


def test_progression_after_a_coded_remission_is_a_relapse() -> None:
    status = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "97509-4"}]},
        "subject": {"reference": "urn:uuid:patient"},
        "effectiveDateTime": "2024-06-20",
        "valueCodeableConcept": {"coding": [{"system": SCT, "code": "271299001"}]},
    }
    bundle = _synthea_bundle(
        status, icd="C90.01"
    )  # in remission, recorded at onset 2023-02-01; no therapy sent
    res = bundle_to_record(bundle)
    assert res.record["phase"] == "relapsed_refractory"
    assert "relapse_inferred" in _codes(res)
    # the same remission without later progression stays first-line
    assert bundle_to_record(_synthea_bundle(icd="C90.01")).record["phase"] == "newly_diagnosed"


def test_radiotherapy_course_by_its_snomed_code_joins_the_line() -> None:
    # mCODE Radiotherapy Course Summary: Procedure.code is fixed to SNOMED CT 1217123003, no text needed.
    course = {
        "resourceType": "Procedure",
        "id": "rt",
        "status": "completed",
        "code": {"coding": [{"system": SCT, "code": "1217123003"}]},
        "subject": {"reference": "urn:uuid:patient"},
        "performedPeriod": {"start": "2023-03-20", "end": "2023-04-07"},
    }
    res = bundle_to_record(
        _synthea_bundle(_request("o1", "Bortezomib 3.5 MG Injection", "2023-03-01"), course)
    )
    [line] = res.record["therapy_history"]
    assert line["agents"] == ["bortezomib", "radiotherapy"]
    assert "unknown_agent" not in _codes(res)


def test_an_unlisted_snomed_procedure_is_not_guessed() -> None:
    other = {
        "resourceType": "Procedure",
        "id": "x",
        "status": "completed",
        "code": {"coding": [{"system": SCT, "code": "77465005"}]},  # Transplantation: which one is not said
        "subject": {"reference": "urn:uuid:patient"},
        "performedDateTime": "2023-05-01",
    }
    res = bundle_to_record(
        _synthea_bundle(_request("o1", "Bortezomib 3.5 MG Injection", "2023-03-01"), other)
    )
    assert res.record["therapy_history"][0]["agents"] == ["bortezomib"]
    assert "unknown_agent" in _codes(res)


def test_rxnorm_ingredient_codes_name_the_agent_without_text() -> None:
    # Ingredient-level RxNorm codes (term type IN), as listed in the CIBMTR reporting IG's value sets.
    def coded(rid: str, rxcui: str, authored: str) -> dict[str, Any]:
        r = _request(rid, "x", authored)
        r["medicationCodeableConcept"] = {"coding": [{"system": RXNORM, "code": rxcui}]}
        return r

    res = bundle_to_record(
        _synthea_bundle(coded("o1", "358258", "2023-03-01"), coded("o2", "342369", "2023-03-01"))
    )
    assert res.record["therapy_history"][0]["agents"] == ["bortezomib", "lenalidomide"]
    assert "unknown_agent" not in _codes(res)
    # a product concept listed in the same value sets names its agent (bortezomib 3.5 MG Injection) ...
    res = bundle_to_record(_synthea_bundle(coded("o3", "402243", "2023-03-01")))
    assert res.record["therapy_history"][0]["agents"] == ["bortezomib"]
    # ... and a code the tables do not list is not guessed from the number
    res = bundle_to_record(_synthea_bundle(coded("o4", "197583", "2023-03-01")))
    assert "therapy_history" not in res.record and "unknown_agent" in _codes(res)


def test_a_regimen_started_on_one_day_opens_its_line_together() -> None:
    # Dexamethasone re-ordered on the day carfilzomib starts belongs to the new line (Kd), not to VRd.
    orders = [
        _request("v1", "bortezomib 3.5 MG Injection", "2023-02-10"),
        _request("r1", "lenalidomide 25 MG Oral Capsule", "2023-02-10"),
        _request("d1", "dexamethasone 4 MG Oral Tablet", "2023-02-10"),
        _request("d2", "dexamethasone 4 MG Oral Tablet", "2024-06-01"),
        _request("k1", "carfilzomib 60 MG Injection", "2024-06-01"),
    ]
    lines = bundle_to_record(_synthea_bundle(*orders)).record["therapy_history"]
    assert [sorted(ln["agents"]) for ln in lines] == [
        ["bortezomib", "dexamethasone", "lenalidomide"],
        ["carfilzomib", "dexamethasone"],
    ]


def test_repeat_orders_of_the_same_regimen_continue_the_line() -> None:
    orders = [
        _request("v1", "bortezomib 3.5 MG Injection", "2023-02-10"),
        _request("d1", "dexamethasone 4 MG Oral Tablet", "2023-02-10"),
        _request("v2", "bortezomib 3.5 MG Injection", "2023-05-10"),
        _request("d2", "dexamethasone 4 MG Oral Tablet", "2023-05-10"),
    ]
    lines = bundle_to_record(_synthea_bundle(*orders)).record["therapy_history"]
    assert len(lines) == 1


def test_autologous_transplant_named_in_full_joins_the_line() -> None:
    proc = {
        "resourceType": "Procedure",
        "id": "asct",
        "status": "completed",
        "code": {"text": "Autologous hematopoietic stem cell transplant"},
        "subject": {"reference": "urn:uuid:patient"},
        "performedDateTime": "2023-08-01",
    }
    orders = [_request("v1", "bortezomib 3.5 MG Injection", "2023-02-10")]
    (line,) = bundle_to_record(_synthea_bundle(*orders, proc)).record["therapy_history"]
    assert line["agents"] == ["bortezomib", "asct"]


def _m_protein(oid: str, day: str, g_dl: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "33358-3"}]},
        "subject": {"reference": "urn:uuid:patient"},
        "effectiveDateTime": day,
        "valueQuantity": {
            "value": float(g_dl),
            "unit": "g/dL",
            "system": "http://unitsofmeasure.org",
            "code": "g/dL",
        },
    }


_VRD = [
    _request("v1", "bortezomib 3.5 MG Injection", "2023-02-10"),
    _request("r1", "lenalidomide 25 MG Oral Capsule", "2023-02-10"),
]


@pytest.mark.parametrize(
    ("values", "phase"),
    [
        # nadir 0.3 -> 0.9 and 1.0: +0.6 g/dL and +200%, confirmed by the next value (IMWG PD)
        ((("2023-08-01", "0.3"), ("2024-03-01", "0.9"), ("2024-04-01", "1.0")), "relapsed_refractory"),
        # +0.4 g/dL (+133%): the absolute minimum 0.5 g/dL is not met
        ((("2023-08-01", "0.3"), ("2024-03-01", "0.7"), ("2024-04-01", "0.7")), "newly_diagnosed"),
        # exactly +0.5 g/dL and +25% from a 2.0 nadir: inclusive bounds meet it
        ((("2023-08-01", "2.0"), ("2024-03-01", "2.5"), ("2024-04-01", "2.5")), "relapsed_refractory"),
        # +0.5 g/dL but only +20% from a 2.5 nadir: not progression
        ((("2023-08-01", "2.5"), ("2024-03-01", "3.0"), ("2024-04-01", "3.0")), "newly_diagnosed"),
        # a single rise, neither confirmed nor followed by a new line: not yet progression
        ((("2023-08-01", "0.3"), ("2024-03-01", "0.9")), "newly_diagnosed"),
        # the rise falls back at the next value: not confirmed
        ((("2023-08-01", "0.3"), ("2024-03-01", "0.9"), ("2024-04-01", "0.4")), "newly_diagnosed"),
        # a value before the first line is not a nadir (0.4 before treatment; on treatment 1.0 then 1.1)
        ((("2023-02-01", "0.4"), ("2023-08-01", "1.0"), ("2024-03-01", "1.1")), "newly_diagnosed"),
    ],
)
def test_rising_m_protein_after_a_line_infers_relapse(
    values: tuple[tuple[str, str], ...], phase: str
) -> None:
    obs = [_m_protein(f"mp{i}", d, v) for i, (d, v) in enumerate(values)]
    res = bundle_to_record(_synthea_bundle(*_VRD, *obs))
    assert res.record["phase"] == phase
    assert ("m_protein_progression" in _codes(res)) is (phase == "relapsed_refractory")
    if phase == "relapsed_refractory":
        assert "relapse_inferred" in _codes(res)


def test_rise_followed_by_a_new_line_is_progression() -> None:
    obs = [_m_protein("mp0", "2023-08-01", "0.3"), _m_protein("mp1", "2024-03-01", "1.2")]
    kd = [_request("k1", "carfilzomib 60 MG Injection", "2024-03-20")]
    res = bundle_to_record(_synthea_bundle(*_VRD, *obs, *kd))
    assert res.record["phase"] == "relapsed_refractory"
    (why,) = [r for r in res.reasons if r.code == "m_protein_progression"]
    assert "a new therapy line" in why.message_en and "新的治疗线" in why.message_zh


def test_rising_m_protein_without_any_therapy_is_not_relapse() -> None:
    obs = [
        _m_protein(f"mp{i}", d, v)
        for i, (d, v) in enumerate((("2023-08-01", "0.3"), ("2024-03-01", "1.2"), ("2024-04-01", "1.3")))
    ]
    res = bundle_to_record(_synthea_bundle(*obs))
    assert res.record["phase"] == "newly_diagnosed"
