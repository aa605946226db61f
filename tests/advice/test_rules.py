"""Decision-support rules : each rule fires for a patient it was written for and not for a
near-miss; every option cites existing claims; every therapy with a treatment claim is reachable."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from msgspec.structs import replace

from mmemd import advice
from mmemd.advice import PatientContext
from mmemd.advice._context import TherapyExposure
from mmemd.advice._engine import advise_context, load_rules

# A newly diagnosed, transplant-eligible 55-year-old with one biopsy-proven, PET-staged liver lesion (true EMD).
BASE = PatientContext(
    patient_id="t",
    phase="newly_diagnosed",
    age=55,
    transplant_eligible=True,
    emd_category="extramedullary",
    emd_timing="primary",
    cns=False,
    sites=("liver",),
    high_risk=False,
    high_risk_features=(),
    t_11_14=False,
    del_17p=False,
    t_4_14=False,
    t_14_16=False,
    iss="II",
    r_iss="II",
    r2_iss="II",
    response_current=None,
    progressive_disease=False,
    lesions=(
        {
            "id": "L1",
            "site": "liver",
            "relation_to_bone": "none",
            "biopsy_proven": True,
            "modality": "PET-CT",
        },
    ),
    exposures=(),
    labs_missing=(),
)


def relapsed(*lines: tuple[list[str], bool], **kw: Any) -> PatientContext:
    """A relapsed patient with the given (agents, refractory) therapy lines."""
    from mmemd.knowledge import vocabulary

    v = vocabulary()
    exposures, exposed, refractory, because = [], set(), set(), {}
    for n, (agents, ref) in enumerate(lines, start=1):
        for a in agents:
            exposures.append(TherapyExposure(n, a, ref))
            ids = {a} | ({v.agent_class(a)} if v.agent_class(a) else set())
            exposed |= ids
            if ref:
                refractory |= ids
                for i in ids:
                    because.setdefault(i, f"refractory to {a} (line {n})")
    return replace(
        BASE,
        phase="relapsed_refractory",
        transplant_eligible=False,
        emd_timing="secondary",
        exposures=tuple(exposures),
        exposed=frozenset(exposed),
        refractory=frozenset(refractory),
        refractory_because=because,
        **kw,
    )


def from_record(**kw: Any) -> PatientContext:
    """A context derived from a full record (for rules on the shared clinical context: kidney, frailty, history)."""
    from mmemd.advice import build_context
    from mmemd.clinical.assessment import assess
    from mmemd.clinical.record import parse_record
    from mmemd.knowledge import vocabulary

    rec: dict[str, Any] = {
        "schema": "mmemd.patient/1",
        "id": "r",
        "age": 60,
        "sex": "male",
        "ecog": 1,
        "phase": "relapsed_refractory",
        "transplant_eligible": False,
        "diagnosis": {"date": "2022-01-10", "clonal_bone_marrow_plasma_cells_pct": 40},
        "labs": {"creatinine": {"value": 1.0, "unit": "mg/dL"}},
        "therapy_history": [{"line": 1, "agents": ["bortezomib", "lenalidomide", "dexamethasone"]}],
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
        **kw,
    }
    r = parse_record(rec)
    return build_context(r, assess(r), vocabulary())


# PACE-type regimen: inadequate response (here stable disease)
PACE = replace(BASE, response_current="SD")

# allogeneic SCT: young, fit, high-risk EMD after response
ALLO = replace(BASE, high_risk=True, response_current="PR")

RRMM = relapsed(
    (["bortezomib", "lenalidomide", "dexamethasone"], False), (["daratumumab", "dexamethasone"], True)
)


def fired(ctx: PatientContext, kb: Any) -> dict[str, Any]:
    result = advise_context(ctx, kb)
    return {
        **{o.id: o for o in result.options},
        **{w.id: w for w in result.workup},
        **{p.id: p for p in result.prognosis},
        **{s.id: s for s in result.statements},
    }


# (rule id, a patient that triggers it, a near-miss that does not — one fact changed)
CASES: list[tuple[str, PatientContext, PatientContext]] = [
    ("pi_based_induction", BASE, replace(BASE, phase="relapsed_refractory")),
    ("lymphoma_like_then_transplant", PACE, replace(PACE, transplant_eligible=False)),
    ("lymphoma_like_then_transplant", PACE, replace(PACE, emd_category="paraskeletal")),
    ("lymphoma_like_then_transplant", PACE, replace(PACE, response_current="PR")),  # inadequate response only
    ("asct", BASE, replace(BASE, transplant_eligible=False)),
    ("tandem_asct", replace(BASE, high_risk=True), BASE),
    ("allogeneic_sct", ALLO, replace(ALLO, age=65)),  # age_below 65 is strict: 64 yes, 65 no
    ("allogeneic_sct", ALLO, replace(ALLO, emd_category="none", sites=())),  # evidence is EMD cohorts only
    ("allogeneic_sct", ALLO, replace(ALLO, response_current="SD")),  # only after response
    ("allogeneic_sct", ALLO, replace(ALLO, high_risk=False)),  # only for high-risk disease
    (
        "solitary_plasmacytoma_local_therapy",
        replace(BASE, emd_category="solitary_bone_plasmacytoma"),
        BASE,
    ),
    ("pcl_induction", replace(BASE, emd_category="plasma_cell_leukemia"), BASE),
    (
        "pcl_transplant_consolidation",
        replace(BASE, emd_category="plasma_cell_leukemia", response_current="VGPR"),
        replace(BASE, emd_category="plasma_cell_leukemia"),  # no response yet: induction first
    ),
    ("ird", BASE, replace(BASE, emd_category="none", sites=())),
    ("carfilzomib_based", RRMM, BASE),
    ("isa_kd", RRMM, BASE),
    ("lenalidomide_based", BASE, replace(BASE, emd_category="none", sites=())),
    ("pomalidomide_based", RRMM, relapsed((["bortezomib", "dexamethasone"], True))),
    ("thalidomide_based", BASE, replace(BASE, emd_category="none", sites=())),
    ("selinexor_vd", RRMM, BASE),
    ("selinexor_car_t", RRMM, replace(RRMM, emd_category="none", sites=())),
    ("daratumumab_based", BASE, RRMM),  # daratumumab-refractory: not the plain daratumumab option ...
    (
        "daratumumab_retreatment_new_class",
        RRMM,
        relapsed((["daratumumab"], False)),
    ),  # ... but re-use with a new class
    ("elo_rd", RRMM, BASE),
    ("ven_vd", replace(RRMM, t_11_14=True), RRMM),
    ("bcma_car_t", RRMM, BASE),
    ("radiotherapy", BASE, replace(BASE, emd_category="solitary_extramedullary_plasmacytoma")),
    ("treat_as_high_risk", replace(BASE, emd_category="paraskeletal"), replace(BASE, emd_category="none")),
    ("clinical_trial", RRMM, replace(RRMM, emd_category="none", sites=())),
    # statements: where the reviews are silent or do not apply
    (
        "solitary_plasmacytoma_not_emd",
        replace(BASE, emd_category="solitary_extramedullary_plasmacytoma"),
        BASE,
    ),
    ("indeterminate_no_ranking", replace(BASE, emd_category="indeterminate"), BASE),
    ("pcl_not_emd", replace(BASE, emd_category="plasma_cell_leukemia"), BASE),
    ("no_emd_not_applicable", replace(BASE, emd_category="none", sites=()), BASE),
    ("no_evidence_cns", replace(BASE, cns=True), BASE),
    ("no_evidence_renal", from_record(labs={"creatinine": {"value": 2.5, "unit": "mg/dL"}}), from_record()),
    ("frail_no_intensive", from_record(age=76), from_record(age=74)),
    (
        "no_evidence_after_bcma_car_t",
        from_record(therapy_history=[{"line": 1, "agents": ["bcma_car_t"]}]),
        from_record(),
    ),
    # work-up
    ("pet_ct", replace(BASE, lesions=({"id": "L1", "modality": "CT", "biopsy_proven": True},)), BASE),
    ("pet_ct_indeterminate", replace(BASE, emd_category="indeterminate", lesions=()), BASE),
    ("marrow_examination", replace(BASE, emd_category="indeterminate"), BASE),
    ("monoclonal_protein_tests", replace(BASE, emd_category="indeterminate"), BASE),
    ("crab_labs", replace(BASE, emd_category="indeterminate"), BASE),
    (
        "mri_spine",
        replace(
            BASE,
            lesions=({"id": "L2", "site": "paravertebral", "modality": "PET-CT", "biopsy_proven": True},),
        ),
        BASE,
    ),
    (
        "mri_spine",
        replace(
            BASE,
            lesions=(
                {
                    "id": "L2",
                    "relation_to_bone": "arising_from_bone",
                    "modality": "PET-CT",
                    "biopsy_proven": True,
                },
            ),
        ),
        BASE,
    ),
    (
        "biopsy_ihc",
        replace(BASE, lesions=({"id": "L1", "modality": "PET-CT", "biopsy_proven": False},)),
        BASE,
    ),
    (
        "biopsy_ihc",
        replace(BASE, lesions=({"id": "L1", "modality": "PET-CT", "confirmed_by": "imaging_only"},)),
        replace(BASE, lesions=({"id": "L1", "modality": "PET-CT", "confirmed_by": "cytology"},)),
    ),
    ("ctdna", replace(BASE, lesions=({"id": "L1", "modality": "PET-CT"},)), BASE),
    ("cns_workup", replace(BASE, cns=True), BASE),
    ("fish", replace(BASE, del_17p=None), BASE),
    ("staging_labs", replace(BASE, labs_missing=("ldh",)), BASE),
    # prognosis
    ("emd_vs_no_emd", BASE, replace(BASE, emd_category="none", sites=())),
    ("emd_bone_related_os", replace(BASE, emd_category="paraskeletal"), BASE),
    ("cns_involvement", replace(BASE, cns=True), BASE),
    ("relapse_with_emd", RRMM, BASE),
    ("multiple_sites", replace(BASE, sites=("liver", "skin")), BASE),
    ("high_risk_cytogenetics", replace(BASE, high_risk=True), BASE),
    ("older_age", replace(BASE, age=65), replace(BASE, age=64)),  # age_at_least 65 is inclusive
    ("iss_i", replace(BASE, iss="I"), BASE),
    ("iss_ii", BASE, replace(BASE, iss="III")),
    ("iss_iii", replace(BASE, iss="III"), BASE),
    ("r_iss_i", replace(BASE, r_iss="I"), BASE),
    ("r_iss_ii", BASE, replace(BASE, r_iss=None)),
    ("r_iss_iii", replace(BASE, r_iss="III"), BASE),
    ("r2_iss_i", replace(BASE, r2_iss="I"), BASE),
    ("r2_iss_ii", BASE, replace(BASE, r2_iss="III")),
    ("r2_iss_iii", replace(BASE, r2_iss="III"), BASE),
    ("r2_iss_iv", replace(BASE, r2_iss="IV"), BASE),
]


@pytest.mark.parametrize(
    ("rule", "patient", "near_miss"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_rule_fires_for_its_patient_and_not_for_the_near_miss(kb, rule, patient, near_miss):
    assert rule in fired(patient, kb), f"{rule} should fire"
    assert rule not in fired(near_miss, kb), f"{rule} should not fire for the near-miss"


def test_every_rule_has_a_trigger_case():
    rules = load_rules()
    ids = {r.id for r in (*rules.options, *rules.workup, *rules.prognosis, *rules.statements)}
    assert ids == {c[0] for c in CASES}


def test_rule_files_are_consistent_with_the_knowledge_base(kb):
    assert advice.check_rules(load_rules(), kb) == []


def test_every_option_cites_at_least_one_existing_claim(kb):
    for opt in load_rules().options:
        assert opt.claims, opt.id
        for cid in opt.claims:
            kb.get(cid)


def test_every_therapy_with_a_treatment_claim_is_reachable_by_a_rule(kb):
    """Every agent, procedure or regimen named by a treatment claim appears in some option."""
    v = kb.vocabulary
    reachable: set[str] = set()
    for opt in load_rules().options:
        reachable |= set(opt.agents)
    needed: set[str] = set()
    for c in kb.claims():
        if c.category.value in ("treatment_outcome", "treatment_recommendation"):
            needed |= {i for i in c.interventions if i in v.therapy_ids}
            for r in (c.regimen,):
                if r:
                    needed |= set(v.regimens[r].components)
    assert needed - reachable == set()


def test_each_caution_of_the_issue_is_present_and_cited(kb):
    cns_transplant = advise_context(replace(BASE, cns=True), kb)
    asct = next(o for o in cns_transplant.options if o.id == "asct")
    assert any("emdtx-6-22" in c.claims for c in asct.cautions)
    thal = next(o for o in advise_context(BASE, kb).options if o.id == "thalidomide_based")
    assert any("emdrev-6.3-01" in c.claims and c.severity == "major" for c in thal.cautions)
    opts = {o.id: o for o in advise_context(RRMM, kb).options}
    assert any("emdtx-1.3-06" in c.claims for c in opts["carfilzomib_based"].cautions)
    assert any("emdtx-7-08" in c.claims for c in opts["bcma_car_t"].cautions)


def test_refractory_key_agent_is_not_offered_and_same_class_is_a_major_caution(kb):
    ctx = relapsed((["bortezomib", "dexamethasone"], False), (["lenalidomide", "dexamethasone"], True))
    result = advise_context(ctx, kb)
    opts = {o.id: o for o in result.options}
    # lenalidomide itself: considered, not suitable, naming the line — no new class added
    (len_ns,) = [n for n in result.not_suitable if n.id == "lenalidomide_based"]
    assert "line 2" in len_ns.reasons[0].en and "lenalidomide" in len_ns.reasons[0].en
    assert "lenalidomide_based" not in opts and "ird" not in opts
    # Elo-Rd adds a class never given (anti-SLAMF7): offered, with a major caution for lenalidomide
    elo = [c for c in opts["elo_rd"].cautions if c.because and "line 2" in c.because[0]]
    # ... and, re-using a refractory agent, it is never listed first
    assert elo and elo[0].severity == "major" and opts["elo_rd"].tier == 2
    pom = [c for c in opts["pomalidomide_based"].cautions if c.because]
    assert pom and pom[0].severity == "major"  # same class (IMiD) as a refractory agent
    # ... and such an option never ranks above an eligible option without a major caution
    ranks = {o.id: o.rank for o in result.options}
    clean = [o.rank for o in result.options if o.tier == 0]
    assert clean and max(clean) < ranks["pomalidomide_based"]
    # dexamethasone is in every line: refractoriness to it never produces a caution
    assert not any("dexamethasone" in c.en for o in opts.values() for c in o.cautions)


def test_options_are_ordered_by_tier_then_score_and_the_score_adds_up(kb):
    options = advise_context(RRMM, kb).options
    assert [(o.tier, -o.score) for o in options] == sorted((o.tier, -o.score) for o in options)
    for o in options:
        b = o.score_breakdown
        assert o.score == b.evidence + b.emd_specific + b.match + b.cautions
        assert o.score == b.evidence + b.applicability + b.penalties
        assert o.rank_reason is not None and f"#{o.rank} " in o.rank_reason.en
        assert b.evidence == advice.GRADE_POINTS[o.grade]


def test_an_unknown_fact_leaves_a_rule_undecided_not_fired(kb):
    ctx = replace(BASE, transplant_eligible=None)
    result = advise_context(ctx, kb)
    assert "asct" not in {o.id for o in result.options}
    (trace,) = [t for t in result.trace if t.id == "asct"]
    assert trace.outcome == "undecided"
    assert any("not recorded" in c.en for c in trace.checks)


def test_relapsed_patient_without_history_has_undecided_exposure_rules(kb):
    ctx = replace(RRMM, exposures=(), exposed=frozenset(), refractory=frozenset())
    (trace,) = [t for t in advise_context(ctx, kb).trace if t.id == "pomalidomide_based"]
    assert trace.outcome == "undecided"


def test_trial_is_not_offered_when_an_option_has_strong_emd_specific_evidence(kb):
    from mmemd.advice._engine import Rules
    from mmemd.advice._models import OptionRule

    rules = load_rules()
    # a synthetic option citing an EMD-specific grade-A claim (PET-CT meta-analysis stands in for one)
    strong = OptionRule(id="zz_strong", title_en="x", title_zh="x", agents=(), claims=("emdrev-4-02",))
    patched = Rules(options=(*rules.options, strong), workup=rules.workup, prognosis=rules.prognosis)
    assert "clinical_trial" not in {o.id for o in advise_context(RRMM, kb, patched).options}
    assert "clinical_trial" in {o.id for o in advise_context(RRMM, kb, rules).options}


def test_prognosis_items_carry_figure_population_and_claims(kb):
    items = {p.id: p for p in advise_context(replace(RRMM, cns=True), kb).prognosis}
    emd = items["emd_vs_no_emd"]
    assert (emd.value, emd.comparator_value, emd.unit) == (Decimal(58), Decimal("80.1"), "%")
    assert "emdrev-5-03" in emd.claims
    assert items["cns_involvement"].value == 12 and items["cns_involvement"].value_qualifier == "<"
    assert items["relapse_with_emd"].value == Decimal("11.4")
    assert items["iss_ii"].citations == ["GREIPP05"] and items["iss_ii"].value == 44


def test_key_results_are_bilingual_and_carry_the_numbers(kb):
    opt = next(o for o in advise_context(RRMM, kb).options if o.id == "selinexor_vd")
    grosicki = next(k for k in opt.key_results if k.claim == "emdtx-3-04")
    assert (
        "13.93" in grosicki.en and "9.46" in grosicki.en and "13.93" in grosicki.zh and "个月" in grosicki.zh
    )


def test_every_condition_is_documented():
    from pathlib import Path

    from mmemd.advice import CONDITIONS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "advice.md").read_text(encoding="utf-8")
    assert [c for c in CONDITIONS if f"`{c}`" not in doc] == []


def test_every_lenalidomide_option_has_the_renal_dose_caution(kb):
    renal = from_record(labs={"creatinine": {"value": 2.5, "unit": "mg/dL"}})
    for opt in load_rules().options:
        if "lenalidomide" in opt.agents:
            assert any("reduced_kidney_function" in c.when for c in opt.cautions), opt.id
    offered = [o for o in advise_context(renal, kb).options if "lenalidomide" in o.agents]
    assert offered and all(any("renal" in c.en for c in o.cautions) for o in offered)
