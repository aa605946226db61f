"""Regression tests from a specialist's reading of the example reports: each case is one situation in which the
options used to be unsafe or out of clinical order (the reviews' entity definitions, emdrev §1; refractoriness per
the IMWG; transplant and intensity limits)."""

from __future__ import annotations

from typing import Any

from mmemd.advice import assess_with_advice

TRANSPLANTS = {"asct", "tandem_asct", "allogeneic_sct"}


def _doc(kb: Any, example_record: Any, name: str, **changes: Any) -> Any:
    rec = example_record(name)
    rec.update(changes)
    doc, _ = assess_with_advice(rec, kb)
    return doc


def test_solitary_plasmacytomas_get_local_therapy_only_and_the_not_emd_statement(kb, example_record):
    for name in ("solitary-bone-plasmacytoma", "solitary-extramedullary-plasmacytoma-minimal-marrow"):
        doc = _doc(kb, example_record, name)
        assert [o.id for o in doc.options] == ["solitary_plasmacytoma_local_therapy"]
        assert not any(set(o.agents) & TRANSPLANTS for o in doc.options)
        st = {s.id: s for s in doc.evidence_statements}
        assert "emdrev-1-08" in st["solitary_plasmacytoma_not_emd"].claims
        assert doc.prognosis == []  # no myeloma or EMD survival figures for a solitary plasmacytoma


def test_pcl_gets_induction_first_no_upfront_transplant_and_the_no_pcl_evidence_statement(kb, example_record):
    doc = _doc(kb, example_record, "pcl-primary-pleural")
    assert doc.options[0].id == "pcl_induction"
    assert "clinical_trial" in {o.id for o in doc.options}
    assert not any(set(o.agents) & TRANSPLANTS for o in doc.options)  # no response yet
    assert "pcl_not_emd" in {s.id for s in doc.evidence_statements}
    # creatinine 2.6 mg/dL: lenalidomide dose caution and the reviews' silence on renal dosing
    assert any("renal" in c.en for c in doc.options[0].cautions)
    assert "no_evidence_renal" in {s.id for s in doc.evidence_statements}


def test_pcl_after_response_offers_transplant_as_consolidation(kb, example_record):
    rec = example_record("pcl-primary-pleural")
    rec["therapy_history"] = [
        {"line": 1, "agents": ["bortezomib", "lenalidomide", "dexamethasone"], "start": "2025-07-10"}
    ]
    rec["ecog"] = 1
    urine = {"value": 300, "unit": "mg/24h"}
    rec["assessments"] = [
        {"date": "2025-07-08", "serum_m_protein": {"value": 3.0, "unit": "g/dL"}, "urine_m_protein": urine},
        {
            "date": "2025-10-01",
            "serum_m_protein": {"value": 0.2, "unit": "g/dL"},
            "urine_m_protein": {"value": 50, "unit": "mg/24h"},
        },
        {
            "date": "2025-11-01",
            "serum_m_protein": {"value": 0.2, "unit": "g/dL"},
            "urine_m_protein": {"value": 50, "unit": "mg/24h"},
        },
    ]
    doc, _ = assess_with_advice(rec, kb)
    assert doc.response.current in ("PR", "VGPR"), doc.response.reasons
    ids = [o.id for o in doc.options]
    assert "pcl_transplant_consolidation" in ids and "pcl_induction" not in ids
    assert "pcl_induction" in {n.id for n in doc.considered_not_suitable}  # induction already under way


def test_indeterminate_gets_marrow_work_up_first_no_options_no_myeloma_prognosis(kb, example_record):
    doc = _doc(kb, example_record, "single-lesion-unknown-marrow-indeterminate")
    ids = [w.id for w in doc.workup]
    assert ids[:3] == ["marrow_examination", "monoclonal_protein_tests", "crab_labs"]
    assert "pet_ct_indeterminate" in ids
    assert doc.options == [] and doc.prognosis == []
    assert "indeterminate_no_ranking" in {s.id for s in doc.evidence_statements}


def test_daratumumab_refractory_liver_emd_does_not_get_anti_cd38_first(kb, example_record):
    doc = _doc(kb, example_record, "emd-liver-rrmm-pr")
    top = doc.options[0]
    assert not {"daratumumab", "isatuximab", "pomalidomide"} & set(top.agents)
    isa = next(o for o in doc.options if o.id == "isa_kd")
    same_class = [c for c in isa.cautions if "same class" in c.en]
    assert same_class and same_class[0].severity == "major"
    assert isa.rank > top.rank
    assert "pomalidomide_based" in {n.id for n in doc.considered_not_suitable}


def test_progression_on_carfilzomib_pomalidomide_excludes_carfilzomib_options(kb, example_record):
    doc = _doc(kb, example_record, "emd-skin-new-lesion-progression")
    line3 = doc.patient_context.lines[-1]
    assert line3.refractory is True and line3.refractory_source == "derived"
    assert {"carfilzomib", "pomalidomide"} <= set(line3.refractory_agents)
    assert doc.patient_context.refractory_classes == ["proteasome_inhibitor", "imid", "anti_cd38_antibody"]
    ns = {n.id for n in doc.considered_not_suitable}
    assert {"isa_kd", "carfilzomib_based", "pomalidomide_based"} <= ns
    assert not {"carfilzomib", "pomalidomide"} & set(doc.options[0].agents)


def test_asct_already_given_is_not_offered_again(kb, example_record):
    doc = _doc(kb, example_record, "ndmm-mrd-negative-cr")
    assert "asct" not in {o.id for o in doc.options}
    (asct,) = [n for n in doc.considered_not_suitable if n.id == "asct"]
    assert "already" in asct.reasons[0].en


def test_no_emd_gets_emd_evidence_marked_not_applicable(kb, example_record):
    doc = _doc(kb, example_record, "ndmm-no-emd-deepening-vgpr")
    asct = next(o for o in doc.options if o.id == "asct")
    assert asct.emd_specific_evidence is False and asct.score_breakdown.emd_specific == 0
    assert asct.applicability_note is not None and "not applicable" in asct.applicability_note.en
    assert not any("Gagelmann" in c.en for c in asct.cautions)  # EMD-cohort caution does not apply
    assert "no_emd_not_applicable" in {s.id for s in doc.evidence_statements}


def test_newly_diagnosed_emd_does_not_get_allogeneic_transplant_first(kb, example_record):
    rec = example_record("emd-liver-rrmm-pr")
    rec.update(phase="newly_diagnosed", transplant_eligible=True, age=50)
    rec.pop("therapy_history")
    doc, _ = assess_with_advice(rec, kb)
    assert doc.options[0].id != "allogeneic_sct"
    assert doc.options[0].id == "pi_based_induction"  # newly diagnosed: induction first (emdrev §6.2)


def test_paraskeletal_on_vrd_is_not_offered_vrd_again(kb, example_record):
    doc = _doc(kb, example_record, "paraskeletal-plasmacytoma-not-shrunk-sd")
    assert "pi_based_induction" not in {o.id for o in doc.options}
    (cur,) = [n for n in doc.considered_not_suitable if n.id == "pi_based_induction"]
    assert "current regimen" in cur.reasons[0].en
    # a mass not responding (SD): local radiotherapy comes first among equals
    assert doc.options[0].id == "radiotherapy"


def test_pace_only_for_inadequate_response_and_with_a_renal_caution(kb, example_record):
    # progression on the current line, creatinine 2.4 mg/dL: PACE-type regimen listed with a major cisplatin caution
    rec = example_record("emd-skin-new-lesion-progression")
    rec.update(transplant_eligible=True, current_labs={"creatinine": {"value": 2.4, "unit": "mg/dL"}})
    doc, _ = assess_with_advice(rec, kb)
    pace = next(o for o in doc.options if o.id == "lymphoma_like_then_transplant")
    assert any(c.severity == "major" and "cisplatin" in c.en for c in pace.cautions)
    assert doc.options[0].id != "lymphoma_like_then_transplant"
    # partial response or better (here PR): not offered
    liver = example_record("emd-liver-rrmm-pr")
    liver.update(transplant_eligible=True)
    doc2, _ = assess_with_advice(liver, kb)
    assert doc2.response.current == "PR"
    assert "lymphoma_like_then_transplant" not in {o.id for o in doc2.options}


def test_thin_evidence_trial_is_only_listed_with_its_reason(kb, example_record):
    doc = _doc(kb, example_record, "ndmm-no-emd-deepening-vgpr")
    assert "clinical_trial" not in {o.id for o in doc.options}
