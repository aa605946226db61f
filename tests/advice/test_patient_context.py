"""The patient context (clinical/context.py): CKD-EPI 2021 eGFR, IMWG renal insufficiency, frailty, line history
with recorded and derived refractoriness, class exposure, entity pathways."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmemd.clinical.assessment import assess
from mmemd.clinical.context import DEFAULT_FITNESS_SETTINGS, derive_context, egfr_ckd_epi_2021
from mmemd.clinical.record import parse_record
from mmemd.knowledge import vocabulary


# Reference values: the CKD-EPI 2021 creatinine equation as published (Inker LA et al., N Engl J Med
# 2021;385:1737-49; coefficients as printed by the National Kidney Foundation's "CKD-EPI Creatinine Equation (2021)"
# page), evaluated in R 4 (`142*min(s/k,1)^a*max(s/k,1)^-1.2*0.9938^age*1.012[female]`), not by the code under test.
# The first row is also the NKF-style worked example (55-year-old woman, 0.9 mg/dL: "about 76").
@pytest.mark.parametrize(
    ("creatinine", "age", "sex", "expected"),
    [
        ("0.9", 55, "female", "75.498805"),
        ("1.0", 60, "male", "86.162621"),
        ("2.6", 63, "female", "20.111988"),
        ("0.5", 40, "female", "121.519342"),  # below kappa: the alpha branch
        ("5.0", 70, "male", "11.736668"),
        ("1.4", 71, "male", "53.734619"),
    ],
)
def test_ckd_epi_2021_matches_reference_values(creatinine, age, sex, expected):
    got = egfr_ckd_epi_2021(Decimal(creatinine), age, sex)
    assert abs(got - Decimal(expected)) < Decimal("0.000001")


@settings(max_examples=300, deadline=None)
@given(
    st.decimals("0.2", "15", places=2),
    st.integers(18, 100),
    st.sampled_from(["female", "male"]),
)
def test_the_fast_egfr_agrees_with_the_decimal_equation(creatinine, age, sex):
    from mmemd.clinical.context import _egfr

    exact = egfr_ckd_epi_2021(creatinine, age, sex)
    fast = _egfr(creatinine, age, sex)
    assert abs(fast - exact) < Decimal("1e-9")
    for threshold in (40, 60):  # the comparisons the context makes never differ
        assert (fast < threshold) == (exact < threshold)


def test_ckd_epi_2021_rejects_what_it_does_not_cover():
    with pytest.raises(ValueError):
        egfr_ckd_epi_2021(Decimal("1"), 17, "male")
    with pytest.raises(ValueError):
        egfr_ckd_epi_2021(Decimal("1"), 50, "unknown")
    with pytest.raises(ValueError):
        egfr_ckd_epi_2021(Decimal("0"), 50, "male")


def _record(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schema": "mmemd.patient/1",
        "id": "ctx",
        "age": 60,
        "sex": "male",
        "ecog": 1,
        "phase": "relapsed_refractory",
        "transplant_eligible": True,
        "diagnosis": {"date": "2022-01-10", "clonal_bone_marrow_plasma_cells_pct": 40},
        "labs": {"creatinine": {"value": 1.0, "unit": "mg/dL"}},
        "lesions": [
            {
                "id": "L1",
                "site": "liver",
                "relation_to_bone": "none",
                "biopsy_proven": True,
                "detected_at": "relapse",
                "modality": "PET-CT",
            }
        ],
    }
    base.update(kw)
    return base


def _ctx(rec: dict[str, Any]):
    r = parse_record(rec)
    return derive_context(r, assess(r), vocabulary().agent_class)


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (2.0, "mg/dL", None),  # > 2 is strict: 2.0 alone is not the MDE (eGFR decides)
        (2.01, "mg/dL", True),
        (176.8, "µmol/L", None),  # exactly 2 mg/dL
        (176.9, "µmol/L", True),
    ],
)
def test_renal_insufficiency_creatinine_bound_is_strict(value, unit, expected):
    # age and sex removed so that only the creatinine criterion can decide
    ctx = _ctx(_record(age=None, sex=None, labs={"creatinine": {"value": value, "unit": unit}}))
    assert ctx.renal_insufficiency.value is expected


def test_renal_insufficiency_by_egfr_below_40():
    # 1.8 mg/dL, man of 80: eGFR 37.6 (< 40) although creatinine is not > 2
    ctx = _ctx(_record(age=80, labs={"creatinine": {"value": 1.8, "unit": "mg/dL"}}))
    assert ctx.egfr is not None and ctx.egfr < 40
    assert ctx.renal_insufficiency.value is True
    ok = _ctx(_record(age=50, labs={"creatinine": {"value": 1.0, "unit": "mg/dL"}}))
    assert ok.renal_insufficiency.value is False and ok.reduced_kidney_function.value is False


def test_current_labs_win_over_diagnosis_labs():
    ctx = _ctx(_record(current_labs={"creatinine": {"value": 3.0, "unit": "mg/dL"}}))
    assert ctx.creatinine_mg_dl == Decimal("3.0") and ctx.renal_insufficiency.value is True


@pytest.mark.parametrize(
    ("age", "ecog", "frail"),
    [(74, 1, False), (75, 0, True), (60, 2, True), (60, 1, False), (None, 1, None), (80, None, True)],
)
def test_frailty_setting_age_75_or_ecog_2(age, ecog, frail):
    assert DEFAULT_FITNESS_SETTINGS.frail_age_at_least == 75
    assert DEFAULT_FITNESS_SETTINGS.frail_ecog_at_least == 2
    assert _ctx(_record(age=age, ecog=ecog)).frail.value is frail


@pytest.mark.parametrize(
    ("age", "ecog", "eligible", "unsuitable"),
    [
        (74, 2, True, False),
        (75, 0, True, True),
        (60, 3, True, True),
        (60, 0, False, True),
        (60, 0, None, None),
    ],
)
def test_transplant_unsuitable_ineligible_or_age_75_or_ecog_3(age, ecog, eligible, unsuitable):
    assert DEFAULT_FITNESS_SETTINGS.transplant_age_at_least == 75
    assert DEFAULT_FITNESS_SETTINGS.transplant_ecog_at_least == 3
    ctx = _ctx(_record(age=age, ecog=ecog, transplant_eligible=eligible))
    assert ctx.transplant_unsuitable.value is unsuitable


def _pd_record(latest_start: str) -> dict[str, Any]:
    return _record(
        therapy_history=[
            {
                "line": 1,
                "agents": ["bortezomib", "lenalidomide", "dexamethasone"],
                "start": "2022-02-01",
                "refractory": False,
            },
            {"line": 2, "agents": ["carfilzomib", "pomalidomide", "dexamethasone"], "start": latest_start},
        ],
        assessments=[
            {
                "date": "2025-03-01",
                "serum_m_protein": {"value": 2.0, "unit": "g/dL"},
                "serum_ife": "positive",
            },
            {
                "date": "2025-05-01",
                "serum_m_protein": {"value": 2.6, "unit": "g/dL"},
                "serum_ife": "positive",
            },
            {
                "date": "2025-06-01",
                "serum_m_protein": {"value": 2.8, "unit": "g/dL"},
                "serum_ife": "positive",
            },
        ],
    )


def test_progression_during_the_latest_line_makes_its_agents_refractory():
    ctx = _ctx(_pd_record("2025-02-15"))
    assert {"carfilzomib", "pomalidomide"} <= ctx.refractory_agents
    assert "dexamethasone" not in ctx.refractory_agents  # not a key agent
    assert {"proteasome_inhibitor", "imid"} <= ctx.refractory_classes
    assert ctx.lines[-1].refractory_source == "derived"
    assert "progression on" in ctx.refractory_because["carfilzomib"]
    assert ctx.double_class_refractory.value is True
    assert ctx.triple_class_refractory.value is False  # no anti-CD38
    assert ctx.lines[0].refractory.value is False


def test_recorded_and_derived_refractoriness_on_one_line_keep_their_sources():
    """A line with a recorded refractory agent and progression on it: the recorded agent says 'recorded', the others
    'derived', in both languages (the Chinese 'because' of a caution names the right source per agent)."""
    from mmemd.advice import build_context

    rec = _pd_record("2025-02-15")
    rec["therapy_history"][-1]["refractory_agents"] = ["carfilzomib"]
    r = parse_record(rec)
    a = assess(r)
    clinical = derive_context(r, a, vocabulary().agent_class)
    assert clinical.lines[-1].refractory_source == "recorded and derived"
    assert clinical.lines[-1].derived_agents == ("pomalidomide",)
    ctx = build_context(r, a, vocabulary())
    assert "as recorded" in ctx.refractory_because["carfilzomib"]
    assert "progression on" in ctx.refractory_because["pomalidomide"]
    assert ctx.refractory_because_zh["carfilzomib"] == "卡非佐米难治（第2线，病历记录）"
    assert ctx.refractory_because_zh["pomalidomide"] == "泊马度胺难治（第2线，据治疗中进展推导）"


def test_progression_before_the_latest_line_started_is_not_derived():
    ctx = _ctx(_pd_record("2025-07-01"))
    assert ctx.refractory_agents == frozenset()
    assert ctx.lines[-1].refractory_source is None


def test_recorded_refractory_agents_and_prior_procedures():
    ctx = _ctx(
        _record(
            therapy_history=[
                {
                    "line": 1,
                    "agents": ["bortezomib", "lenalidomide", "dexamethasone", "asct"],
                    "start": "2022-02-01",
                },
                {
                    "line": 2,
                    "agents": ["daratumumab", "pomalidomide", "dexamethasone"],
                    "start": "2023-05-01",
                    "refractory": True,
                    "refractory_agents": ["daratumumab"],
                },
                {"line": 3, "agents": ["bcma_car_t"], "start": "2024-06-01"},
            ]
        )
    )
    assert ctx.refractory_agents == frozenset({"daratumumab"})
    assert ctx.lines[1].refractory_source == "recorded"
    assert ctx.prior_asct.value is True and ctx.prior_allogeneic_sct.value is False
    assert ctx.prior_bcma_car_t.value is True
    assert "bcma_directed" in ctx.exposed_classes
    assert ctx.triple_class_exposed.value is True
    assert ctx.current_line is not None and ctx.current_line.agents == ("bcma_car_t",)


def test_relapsed_without_history_leaves_exposure_unknown():
    ctx = _ctx(_record())
    assert ctx.prior_asct.value is None and ctx.triple_class_exposed.value is None


@pytest.mark.parametrize(
    ("example", "pathway"),
    [
        ("solitary-bone-plasmacytoma", "solitary_plasmacytoma"),
        ("solitary-extramedullary-plasmacytoma-minimal-marrow", "solitary_plasmacytoma"),
        ("pcl-primary-pleural", "plasma_cell_leukemia"),
        ("single-lesion-unknown-marrow-indeterminate", "indeterminate"),
        ("ndmm-mrd-negative-cr", "myeloma_without_emd"),
        ("paraskeletal-plasmacytoma-not-shrunk-sd", "myeloma_paraskeletal"),
        ("emd-liver-rrmm-pr", "myeloma_emd"),
    ],
)
def test_entity_pathway_of_each_example(example, pathway, example_record):
    assert _ctx(example_record(example)).pathway == pathway


def test_contexts_are_frozen_and_survive_pickling():
    """The patient and clinical contexts (frozen structs) refuse assignment and come back equal, field for field and
    type for type, from pickle (process workers may send them; a frozenset may list its members in another order) — for every example and the benchmark's dense record
    (plain dicts and validated models as input)."""
    import pickle
    import sys
    from pathlib import Path

    import msgspec.structs

    from mmemd import knowledge
    from mmemd.advice._context import PatientContext, build_context
    from mmemd.clinical.context import ClinicalContext

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from bench_assess import make_record

    examples = Path(__file__).resolve().parents[2] / "examples"
    vocab = knowledge.load().vocabulary
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(examples.glob("*.json"))]
    records.append(make_record())
    for raw in records:
        rec = parse_record(raw)
        for r, a in ((rec, assess(rec)), (raw, assess(rec).model_dump(mode="json"))):
            ctx = build_context(r, a, vocab)
            clinical = ctx.clinical
            assert isinstance(clinical, ClinicalContext)
            for obj, cls in ((ctx, PatientContext), (clinical, ClinicalContext)):
                names = [f.name for f in msgspec.structs.fields(cls)]
                again = pickle.loads(pickle.dumps(obj))
                assert again == obj
                assert [type(getattr(again, n)) for n in names] == [type(getattr(obj, n)) for n in names]
                with pytest.raises(AttributeError):
                    setattr(obj, names[0], None)


def test_lesion_dicts_are_the_models_json_dumps():
    """The context's lesions are read from each model's serialiser: the same dict, key order and value types as
    model_dump(mode="json"), for every lesion of every example."""
    from pathlib import Path

    from mmemd.advice._context import _lesion_dict

    seen = 0
    for p in sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.json")):
        rec = parse_record(json.loads(p.read_text(encoding="utf-8")))
        for les in rec.lesions or ():
            got, want = _lesion_dict(les), les.model_dump(mode="json")
            assert got == want and list(got) == list(want), p.name
            assert [type(v) for v in got.values()] == [type(v) for v in want.values()], p.name
            seen += 1
    assert seen >= 10


def test_facts_are_shared_by_their_fields():
    """A fact is made once for its fields and shared (it is frozen): equal to a fresh Fact, the same instance for the
    same fields, a distinct one when any field differs."""
    from mmemd.clinical.context import Fact, _fact

    a = _fact(True, "prior autologous transplant", "既往自体移植")
    assert a == Fact(True, "prior autologous transplant", "既往自体移植")
    assert _fact(True, "prior autologous transplant", "既往自体移植") is a
    assert _fact(False, "prior autologous transplant", "既往自体移植") is not a
    assert _fact(None, "prior autologous transplant", "既往自体移植").value is None
    assert _fact(True, "prior autologous transplant", "既往") is not a


def test_exposures_are_shared_by_their_fields():
    from mmemd.advice._context import _EXPOSURES, TherapyExposure
    from mmemd.clinical.context import shared

    a = shared(_EXPOSURES, TherapyExposure, 2, "pomalidomide", True)
    assert a == TherapyExposure(2, "pomalidomide", True)
    assert shared(_EXPOSURES, TherapyExposure, 2, "pomalidomide", True) is a
    assert shared(_EXPOSURES, TherapyExposure, 2, "pomalidomide", None) is not a
    assert shared(_EXPOSURES, TherapyExposure, 2, "pomalidomide", None).refractory is None
    assert shared(_EXPOSURES, TherapyExposure, 3, "pomalidomide", True) is not a
