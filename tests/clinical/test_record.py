"""The ``mmemd.patient/1`` model and its validation — docs/record.md (the data contract).

Every invalid record is rejected as a whole, with ONE report listing every problem with its JSON path.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmemd.clinical.errors import RecordError, json_path
from mmemd.clinical.record import (
    PatientRecord,
    parse_record,
    parse_record_json,
    patient_json_schema,
    validate_record,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CONTRACT_EXAMPLE = (
    EXAMPLES / "emd-liver-rrmm-pr.json"
)  # the contract's example record, extended by two assessments


def contract() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CONTRACT_EXAMPLE.read_text(encoding="utf-8"))
    return data


def minimal(**extra: Any) -> dict[str, Any]:
    return {"schema": "mmemd.patient/1", "id": "p1", "phase": "newly_diagnosed", **extra}


def problems(data: Any) -> dict[str, str]:
    """path -> message of every problem (fails when the record is valid)."""
    with pytest.raises(RecordError) as info:
        parse_record(data) if not isinstance(data, (str, bytes)) else parse_record_json(data)
    return {p.path: p.message for p in info.value.problems}


# --- valid documents ------------------------------------------------------------------------------------------


def test_contract_example_is_valid_and_every_field_is_read() -> None:
    """docs/record.md: the contract's example record (with every field) validates, values as Decimal."""
    rec = parse_record(contract())
    assert rec.schema_ == "mmemd.patient/1"
    assert rec.phase == "relapsed_refractory"
    assert rec.therapy_history is not None and rec.therapy_history[1].refractory is True
    assert rec.labs is not None and rec.labs.albumin is not None
    assert rec.labs.albumin.value == Decimal("32") and rec.labs.albumin.unit == "g/L"
    assert rec.labs.albumin.canonical() == Decimal("3.2")
    assert rec.labs.ldh is not None and rec.labs.ldh.upper_limit_normal == Decimal("250")
    assert rec.cytogenetics is not None and rec.cytogenetics.del_1p32 == "monoallelic"
    assert rec.cytogenetics.tp53_mutation is None  # null = unknown, kept unknown
    assert rec.assessments is not None
    flc = rec.assessments[0].free_light_chains
    assert flc is not None and flc.lambda_ is not None and flc.lambda_.value == Decimal("1.0")
    mrd = rec.assessments[0].mrd
    assert mrd is not None and mrd.sensitivity == Decimal("0.00001")


def test_only_schema_id_phase_are_required() -> None:
    """docs/record.md: Required: schema, id, phase. Everything else is optional."""
    rec = parse_record(minimal())
    assert rec.labs is None and rec.lesions is None and rec.assessments is None
    assert set(problems({})) == {"$.schema", "$.id", "$.phase"}


def test_optional_contract_fields_are_accepted() -> None:
    """current_labs, refractory_agents, confirmed_by, baseline, circulating_plasma_cells_pct,
    bone_marrow_kappa_lambda_ratio_ihc and bone_marrow_plasma_cells_counted (docs/record.md field notes)."""
    rec = parse_record(
        minimal(
            current_labs={"hemoglobin": {"value": 9.1, "unit": "g/dL"}},
            therapy_history=[
                {
                    "line": 1,
                    "agents": ["bortezomib", "lenalidomide", "dexamethasone"],
                    "refractory": False,
                    "refractory_agents": ["lenalidomide"],
                }
            ],
            lesions=[{"id": "L1", "site": "cns", "confirmed_by": "csf_flow_cytometry", "cns": True}],
            assessments=[
                {"date": "2025-01-01"},
                {
                    "date": "2025-02-01",
                    "baseline": True,
                    "circulating_plasma_cells_pct": 2,
                    "bone_marrow_kappa_lambda_ratio_ihc": 3.5,
                    "bone_marrow_plasma_cells_counted": 150,
                },
            ],
        )
    )
    assert rec.current_labs is not None and rec.current_labs.hemoglobin is not None
    assert rec.baseline_index() == 1


def test_baseline_is_first_unless_marked() -> None:
    """docs/record.md: the first assessment is the baseline unless one is marked "baseline": true."""
    rec = parse_record(minimal(assessments=[{"date": "2025-01-01"}, {"date": "2025-02-01"}]))
    assert rec.baseline_index() == 0


def test_floats_become_exact_decimals() -> None:
    """docs/criteria.md §1.5: Decimal(str(x)) — 0.07 is Decimal('0.07'), not the binary expansion."""
    rec = parse_record_json(
        json.dumps(
            minimal(assessments=[{"date": "2025-01-01", "serum_m_protein": {"value": 0.07, "unit": "g/dL"}}])
        )
    )
    assert rec.assessments is not None and rec.assessments[0].serum_m_protein is not None
    assert rec.assessments[0].serum_m_protein.value == Decimal("0.07")


@settings(max_examples=300)
@given(
    values=st.lists(
        st.floats(min_value=0, max_value=20, allow_nan=False) | st.sampled_from([0.0, -0.0, 0.07, 1.1, 2.0]),
        min_size=1,
        max_size=8,
    )
)
def test_float_values_read_twice_give_the_same_exact_decimals(values: list[float]) -> None:
    """The Decimals of floats already read are kept for later records: a value read again (in this record or a
    later one) still reads as ``Decimal(repr(x))``, sign of zero included."""

    def read() -> list[Decimal]:
        rows = [
            {"date": f"2025-01-{i + 1:02d}", "serum_m_protein": {"value": v, "unit": "g/dL"}}
            for i, v in enumerate(values)
        ]
        rec = parse_record(minimal(assessments=rows))
        assert rec.assessments is not None
        return [a.serum_m_protein.value for a in rec.assessments if a.serum_m_protein is not None]

    expected = [Decimal(repr(v)) for v in values]
    for got in (read(), read()):
        assert [str(d) for d in got] == [str(d) for d in expected]


@settings(max_examples=200)
@given(
    values=st.lists(
        st.sampled_from([0, 0.0, -0.0, 1, 1.0, True, False, 50, 50.0, 100, 100.0, 100.5, -1, -1.0])
        | st.floats(min_value=-1, max_value=101, allow_nan=False),
        min_size=1,
        max_size=6,
    )
)
def test_a_number_checked_again_gives_the_same_verdict_and_digits(values: list[Any]) -> None:
    """Decimals of floats already read are kept: read again (as the same or an equal number of the other type: 1 and
    1.0, 0.0 and -0.0, True and 1), a number is still accepted or refused on its own and keeps its digits."""
    for v in values * 2:
        data = minimal(diagnosis={"clonal_bone_marrow_plasma_cells_pct": v})
        if type(v) in (int, float) and 0 <= v <= 100:
            diagnosis = parse_record(data).diagnosis
            assert diagnosis is not None and diagnosis.clonal_bone_marrow_plasma_cells_pct is not None
            got = diagnosis.clonal_bone_marrow_plasma_cells_pct
            assert str(got) == str(Decimal(repr(v)) if type(v) is float else Decimal(v))
        else:
            assert set(problems(data)) == {"$.diagnosis.clonal_bone_marrow_plasma_cells_pct"}, v


def test_unknown_site_is_accepted() -> None:
    """docs/record.md: an unknown site is accepted (and reported by the EMD classifier), sites are open-ended."""
    rec = parse_record(minimal(lesions=[{"id": "L1", "site": "orbit", "relation_to_bone": "none"}]))
    assert rec.lesions is not None and rec.lesions[0].site == "orbit"


def test_record_round_trips_through_json() -> None:
    rec = parse_record(contract())
    again = parse_record_json(rec.model_dump_json(by_alias=True, exclude_none=True))
    assert again == rec


# --- every problem, with its path ----------------------------------------------------------------------------


def test_one_report_lists_every_problem_with_its_path() -> None:
    """Each kind of problem of the brief, all in one record, all reported at once with their JSON paths."""
    data = contract()
    data["schema"] = "mmemd.patient/2"
    data["therapy_history"][0]["agents"].append("velcade")
    data["labs"]["albumin"] = {"value": 300, "unit": "g/dL"}
    data["labs"]["creatinine"]["unit"] = "mmol/L"
    data["cytogenetics"]["del_17p_clonal_fraction_pct"] = 120
    data["lesions"].append({"id": "L2", "site": "orbit"})
    data["assessments"][2]["serum_m_protein"]["unit"] = "mg/L"
    data["assessments"][1]["plasmacytomas"].append({"lesion": "L9", "longest_cm": 1, "perpendicular_cm": 1})
    data["assessments"][1]["free_light_chains"] = {"kappa": {"value": 12, "unit": "mg/dL"}}
    data["assessments"][1]["bone_marrow_plasma_cells_pct"] = -1
    data["assessments"][2]["date"] = "2025-08-01"
    found = problems(data)
    assert set(found) == {
        "$.schema",
        "$.therapy_history[0].agents[4]",
        "$.labs.albumin.value",
        "$.labs.creatinine.unit",
        "$.cytogenetics.del_17p_clonal_fraction_pct",
        "$.assessments[2].serum_m_protein.unit",
        "$.assessments[1].plasmacytomas[1].lesion",
        "$.assessments[1].free_light_chains.involved",
        "$.assessments[1].bone_marrow_plasma_cells_pct",
        "$.assessments[2].date",
    }
    assert "mmemd.patient/1" in found["$.schema"]
    assert "mg/dL" in found["$.labs.creatinine.unit"] and "µmol/L" in found["$.labs.creatinine.unit"]
    assert "g/dL, g/L" in found["$.assessments[2].serum_m_protein.unit"]
    assert "L1, L2" in found["$.assessments[1].plasmacytomas[1].lesion"]
    assert "duplicate" in found["$.assessments[2].date"]


def test_unknown_unit_message_names_field_and_accepted_units() -> None:
    data = minimal(labs={"beta2_microglobulin": {"value": 6.1, "unit": "ug/mL"}})
    with pytest.raises(RecordError) as info:
        parse_record(data)
    (p,) = info.value.problems
    assert p.path == "$.labs.beta2_microglobulin.unit"
    assert p.code == "unknown_unit"
    assert "beta2_microglobulin" in p.message and "'ug/mL'" in p.message
    assert p.accepted == ("mg/L", "mg/dL")


def test_unknown_agent_lists_known_ids() -> None:
    """docs/record.md: unknown agent ids are rejected with the list of known ones."""
    with pytest.raises(RecordError) as info:
        parse_record(minimal(therapy_history=[{"line": 1, "agents": ["Velcade"]}]))
    (p,) = info.value.problems
    assert p.code == "unknown_agent"
    assert "bortezomib" in p.accepted and "asct" in p.accepted and "bcma_car_t" in p.accepted


def test_refractory_agents_must_belong_to_the_line() -> None:
    found = problems(
        minimal(
            therapy_history=[{"line": 1, "agents": ["bortezomib"], "refractory_agents": ["lenalidomide"]}]
        )
    )
    assert set(found) == {"$.therapy_history[0].refractory_agents[0]"}


def test_unknown_value_in_a_value_set_lists_accepted_values() -> None:
    with pytest.raises(RecordError) as info:
        parse_record(minimal(sex="M", lesions=[{"id": "L1", "modality": "PET"}]))
    by_path = {p.path: p for p in info.value.problems}
    assert by_path["$.sex"].accepted == ("female", "male")
    assert by_path["$.lesions[0].modality"].accepted == ("PET-CT", "CT", "MRI", "ultrasound", "physical_exam")


def test_unknown_field_is_rejected_not_dropped() -> None:
    """A misspelt field would otherwise be silently dropped and its datum read as unknown."""
    found = problems(minimal(labs={"albumen": {"value": 3.5, "unit": "g/dL"}}))
    assert set(found) == {"$.labs.albumen"}


@pytest.mark.parametrize(
    ("dates", "bad_path", "word"),
    [
        (["2025-01-01", "2025-01-01"], "$.assessments[1].date", "duplicate"),
        (["2025-02-01", "2025-01-01"], "$.assessments[1].date", "ascending"),
        (["2025-01-01", "2025-03-01", "2025-02-01"], "$.assessments[2].date", "ascending"),
    ],
)
def test_assessment_dates_must_be_unique_and_ascending(dates: list[str], bad_path: str, word: str) -> None:
    """docs/record.md: assessments are processed in date order; duplicates or disorder are rejected."""
    found = problems(minimal(assessments=[{"date": d} for d in dates]))
    assert set(found) == {bad_path}
    assert word in found[bad_path]


def test_at_most_one_baseline() -> None:
    found = problems(
        minimal(
            assessments=[{"date": "2025-01-01", "baseline": True}, {"date": "2025-02-01", "baseline": True}]
        )
    )
    assert set(found) == {"$.assessments[1].baseline"}


def test_plasmacytoma_naming_unknown_lesion() -> None:
    found = problems(
        minimal(
            lesions=[{"id": "L1"}],
            assessments=[
                {
                    "date": "2025-01-01",
                    "plasmacytomas": [{"lesion": "L2", "longest_cm": 2, "perpendicular_cm": 1}],
                }
            ],
        )
    )
    assert set(found) == {"$.assessments[0].plasmacytomas[0].lesion"}


def test_plasmacytoma_diameters_must_be_consistent() -> None:
    """SPD uses longest × greatest perpendicular diameter (§1.3): the perpendicular cannot exceed the longest."""
    found = problems(
        minimal(
            lesions=[{"id": "L1"}],
            assessments=[
                {
                    "date": "2025-01-01",
                    "plasmacytomas": [{"lesion": "L1", "longest_cm": 2, "perpendicular_cm": 3}],
                }
            ],
        )
    )
    assert set(found) == {"$.assessments[0].plasmacytomas[0].perpendicular_cm"}
    ok = minimal(
        lesions=[{"id": "L1"}],
        assessments=[
            {
                "date": "2025-01-01",
                "plasmacytomas": [{"lesion": "L1", "longest_cm": 0, "perpendicular_cm": 0}],
            }
        ],
    )
    parse_record(ok)  # 0 x 0 = disappeared (docs/record.md)


def test_duplicate_lesion_ids() -> None:
    assert set(problems(minimal(lesions=[{"id": "L1"}, {"id": "L1"}]))) == {"$.lesions[1].id"}


def test_flc_without_involved_chain() -> None:
    found = problems(
        minimal(
            assessments=[
                {"date": "2025-01-01", "free_light_chains": {"lambda": {"value": 40, "unit": "mg/L"}}}
            ]
        )
    )
    assert set(found) == {"$.assessments[0].free_light_chains.involved"}


def test_del17p_fraction_contradicting_del17p() -> None:
    found = problems(minimal(cytogenetics={"del_17p": False, "del_17p_clonal_fraction_pct": 30}))
    assert set(found) == {"$.cytogenetics.del_17p"}


@pytest.mark.parametrize(
    ("value", "ok"),
    [(0, True), (100, True), (Decimal("99.99"), True), (-0.01, False), (100.01, False)],
)
def test_percentages_are_0_to_100_inclusive(value: Any, ok: bool) -> None:
    data = minimal(diagnosis={"clonal_bone_marrow_plasma_cells_pct": value})
    if ok:
        parse_record(data)
    else:
        assert set(problems(data)) == {"$.diagnosis.clonal_bone_marrow_plasma_cells_pct"}


# Plausibility bounds (units.py, documented in docs/clinical.md): the inclusive bound is accepted, just past it is not.
@pytest.mark.parametrize(
    ("field", "unit", "inside", "outside"),
    [
        ("albumin", "g/dL", [0.5, 10], [0.49, 10.01, 300]),
        ("albumin", "g/L", [5, 100], [4.9, 101, 3000]),
        ("beta2_microglobulin", "mg/L", [0, 200], [200.1, -0.1]),
        ("creatinine", "mg/dL", [0, 40], [40.1]),
        ("creatinine", "µmol/L", [3536], [3537]),
        ("calcium", "mg/dL", [2, 30], [1.99, 30.1]),
        ("calcium", "mmol/L", [Decimal("2.4")], [Decimal("0.4"), 8]),
        ("hemoglobin", "g/dL", [1, 25], [0.9, 25.1]),
        ("ldh", "U/L", [0, 100000], [100001, -1]),
    ],
)
def test_physiologically_impossible_lab_values(
    field: str, unit: str, inside: list[Any], outside: list[Any]
) -> None:
    for v in inside:
        parse_record(minimal(labs={field: {"value": v, "unit": unit}}))
    for v in outside:
        found = problems(minimal(labs={field: {"value": v, "unit": unit}}))
        assert set(found) == {f"$.labs.{field}.value"}, v


def test_negative_m_protein_is_rejected() -> None:
    found = problems(
        minimal(assessments=[{"date": "2025-01-01", "serum_m_protein": {"value": -0.1, "unit": "g/dL"}}])
    )
    assert "negative" in found["$.assessments[0].serum_m_protein.value"]


@pytest.mark.parametrize("sensitivity", [0, 1, 5, -1e-5])
def test_mrd_sensitivity_is_a_fraction(sensitivity: float) -> None:
    found = problems(minimal(assessments=[{"date": "2025-01-01", "mrd": {"sensitivity": sensitivity}}]))
    assert set(found) == {"$.assessments[0].mrd.sensitivity"}


@pytest.mark.parametrize(
    ("patch", "path"),
    [
        ({"transplant_eligible": "yes"}, "$.transplant_eligible"),  # no lax "yes"/"no" booleans
        ({"age": "58"}, "$.age"),  # no numeric strings
        ({"age": 58.5}, "$.age"),
        ({"labs": {"albumin": {"value": "3.5", "unit": "g/dL"}}}, "$.labs.albumin.value"),
        ({"labs": {"albumin": {"value": True, "unit": "g/dL"}}}, "$.labs.albumin.value"),
        ({"diagnosis": {"date": "15/01/2023"}}, "$.diagnosis.date"),
        ({"diagnosis": {"date": "2023-02-30"}}, "$.diagnosis.date"),
        ({"diagnosis": {"date": 1700000000}}, "$.diagnosis.date"),
        ({"ecog": 6}, "$.ecog"),
        ({"id": ""}, "$.id"),
    ],
)
def test_no_lax_coercion(patch: dict[str, Any], path: str) -> None:
    """Nothing is guessed: strings are not numbers or booleans, dates are ISO 8601 YYYY-MM-DD."""
    assert set(problems(minimal(**patch))) == {path}


def test_nan_and_infinity_are_not_numbers() -> None:
    found = problems(
        '{"schema": "mmemd.patient/1", "id": "p", "phase": "newly_diagnosed",'
        ' "diagnosis": {"clonal_bone_marrow_plasma_cells_pct": NaN},'
        ' "labs": {"albumin": {"value": Infinity, "unit": "g/dL"}}}'
    )
    assert set(found) == {"$.diagnosis.clonal_bone_marrow_plasma_cells_pct", "$.labs.albumin.value"}


def test_malformed_json() -> None:
    found = problems('{"schema": "mmemd.patient/1", "id": ')
    assert set(found) == {"$"}
    assert "malformed JSON" in found["$"] and "line 1" in found["$"]


def test_top_level_must_be_an_object() -> None:
    assert set(problems("[1, 2]")) == {"$"}


def test_duplicate_json_key_is_reported() -> None:
    """A repeated key would silently keep only the last value: reported at the object's path."""
    found = problems(
        '{"schema": "mmemd.patient/1", "id": "p", "phase": "newly_diagnosed",'
        ' "labs": {"albumin": {"value": 3.0, "unit": "g/dL"}, "albumin": {"value": 4.0, "unit": "g/dL"}}}'
    )
    assert set(found) == {"$.labs"}
    assert "'albumin'" in found["$.labs"]


def test_validate_record_returns_problems_and_model_validate_raises_record_error() -> None:
    assert validate_record(contract()) == []
    assert [p.path for p in validate_record(minimal(sex="x"))] == ["$.sex"]
    with pytest.raises(RecordError):
        PatientRecord.model_validate(minimal(sex="x"))


def test_json_paths() -> None:
    assert json_path(("assessments", 2, "serum_m_protein", "unit")) == "$.assessments[2].serum_m_protein.unit"
    assert json_path(()) == "$"
    assert json_path(("a b",)) == '$["a b"]'


def test_error_report_json_shape() -> None:
    with pytest.raises(RecordError) as info:
        parse_record(minimal(sex="x", labs={"albumin": {"value": 3, "unit": "x"}}))
    report = info.value.report()
    assert report["valid"] is False and report["problem_count"] == 2
    assert [p["path"] for p in report["problems"]] == ["$.labs.albumin.unit", "$.sex"]
    assert report["problems"][0]["accepted"] == ["g/dL", "g/L"]


# --- property: every injected problem is reported --------------------------------------------------------------

_MUTATIONS: dict[str, tuple[str, Any]] = {
    "$.sex": ("sex", "unknown"),
    "$.labs.albumin.unit": ("labs.albumin.unit", "mg/dL"),
    "$.labs.hemoglobin.value": ("labs.hemoglobin.value", -1),
    "$.cytogenetics.gain_1q": ("cytogenetics.gain_1q", "yes"),
    "$.diagnosis.clonal_bone_marrow_plasma_cells_pct": ("diagnosis.clonal_bone_marrow_plasma_cells_pct", 101),
    "$.lesions[0].relation_to_bone": ("lesions.0.relation_to_bone", "bony"),
    "$.assessments[0].urine_m_protein.unit": ("assessments.0.urine_m_protein.unit", "g/24h"),
    "$.assessments[1].date": ("assessments.1.date", "2025-06-01"),
    "$.assessments[1].plasmacytomas[0].lesion": ("assessments.1.plasmacytomas.0.lesion", "LX"),
    "$.therapy_history[1].agents[0]": ("therapy_history.1.agents.0", "dara"),
}


def _set(doc: Any, dotted: str, value: Any) -> None:
    keys: list[Any] = [int(k) if k.isdigit() else k for k in dotted.split(".")]
    for k in keys[:-1]:
        doc = doc[k]
    doc[keys[-1]] = value


@settings(max_examples=60, deadline=None)
@given(chosen=st.sets(st.sampled_from(sorted(_MUTATIONS)), min_size=1))
def test_every_injected_problem_is_reported(chosen: set[str]) -> None:
    """Whatever combination of problems a record has, the single report lists each one (and nothing else)."""
    data = copy.deepcopy(contract())
    for path in chosen:
        _set(data, *_MUTATIONS[path])
    assert set(problems(data)) == chosen


# --- JSON Schema ----------------------------------------------------------------------------------------------


def test_patient_json_schema_is_generated_from_the_models() -> None:
    schema = patient_json_schema()
    assert schema["title"] == "mmemd.patient/1"
    assert set(schema["required"]) == {"schema", "id", "phase"}
    assert schema["properties"]["schema"]["const"] == "mmemd.patient/1"
    assert schema["additionalProperties"] is False


def test_examples_validate_against_the_generated_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = patient_json_schema()
    files = sorted(EXAMPLES.glob("*.json"))
    assert files
    for f in files:
        jsonschema.validate(json.loads(f.read_text(encoding="utf-8")), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(minimal(labs={"albumin": {"value": 3, "unit": "mg/L"}}), schema)
