"""``assess()`` and the ``mmemd.assessment/1`` document (docs/record.md), the record -> Snapshot interface, the
settings bundle, and the shipped examples (each with its key outcome hand-derived from docs/criteria.md)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import mmemd
from mmemd.clinical import DEFAULT_CRITERIA_SETTINGS, Assessment, CriteriaSettings, RecordError, assess
from mmemd.clinical.assessment import assessment_json_schema, baseline_lesions, to_snapshots
from mmemd.clinical.emd import DEFAULT_EMD_SETTINGS
from mmemd.clinical.record import parse_record
from mmemd.clinical.response import DEFAULT_RESPONSE_SETTINGS, RESPONSE_CRITERIA_VERSION
from mmemd.clinical.risk import DEFAULT_HIGH_RISK_SETTINGS
from mmemd.clinical.snapshot import Snapshot
from mmemd.clinical.staging import DEFAULT_STAGING_SETTINGS, StagingSettings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


# --- the document --------------------------------------------------------------------------------------------


def test_assessment_document_shape_and_versions() -> None:
    """docs/record.md: schema, patient_id, versions {mmemd, knowledge_base, response_criteria,
    high_risk_definition}, emd, staging, response."""
    from mmemd.knowledge import kb_version

    a = assess(example("emd-liver-rrmm-pr"))
    doc = json.loads(a.model_dump_json(by_alias=True))
    assert doc["schema"] == "mmemd.assessment/1"
    assert doc["patient_id"] == "emd-liver-rrmm-pr"
    assert doc["versions"] == {
        "mmemd": mmemd.__version__,
        "knowledge_base": kb_version(),
        "response_criteria": "IMWG-2016",
        "high_risk_definition": "IMS-IMWG-2025",
    }
    assert RESPONSE_CRITERIA_VERSION == "IMWG-2016"
    assert set(doc) >= {"schema", "patient_id", "versions", "emd", "staging", "response"}
    assert set(doc["emd"]) >= {
        "category",
        "timing",
        "cns",
        "sites",
        "also_paraskeletal",
        "minimal_marrow_involvement",
        "reasons",
    }
    assert set(doc["staging"]) >= {
        "iss",
        "r_iss",
        "r_iss_possible",
        "r2_iss",
        "high_risk",
        "high_risk_features",
        "reasons",
    }
    assert set(doc["staging"]["r2_iss"]) >= {"points", "group"}
    assert set(doc["response"]) >= {
        "criteria",
        "current",
        "confirmed",
        "best",
        "progressive_disease",
        "relapse_from_cr",
        "mrd",
        "timeline",
        "reasons",
    }
    assert doc["response"]["timeline"][0]["category"] == "baseline"


def test_mmemd_assess_is_the_same_function() -> None:
    assert mmemd.assess is assess


def test_assess_accepts_a_record_or_a_mapping() -> None:
    data = example("ndmm-no-emd-deepening-vgpr")
    assert assess(data) == assess(parse_record(data))


def test_invalid_record_gives_no_assessment() -> None:
    """No partial assessment is produced from an invalid record: RecordError with every problem instead."""
    data = example("emd-liver-rrmm-pr")
    data["labs"]["albumin"]["unit"] = "g/100mL"
    data["assessments"][1]["date"] = "2025-06-01"
    with pytest.raises(RecordError) as info:
        assess(data)
    assert {p.path for p in info.value.problems} == {"$.labs.albumin.unit", "$.assessments[1].date"}


def test_assessment_json_schema_is_generated() -> None:
    schema = assessment_json_schema()
    assert schema["title"] == "mmemd.assessment/1"
    for key in ("schema", "patient_id", "versions", "emd", "staging", "response"):
        assert key in schema["properties"]


def test_assessment_validates_against_its_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = assessment_json_schema()
    for f in sorted(EXAMPLES.glob("*.json")):
        doc = json.loads(assess(json.loads(f.read_text(encoding="utf-8"))).model_dump_json(by_alias=True))
        jsonschema.validate(doc, schema)


def test_assessment_round_trips() -> None:
    a = assess(example("ndmm-mrd-negative-cr"))
    assert Assessment.model_validate_json(a.model_dump_json(by_alias=True)) == a


# --- settings ------------------------------------------------------------------------------------------------


def test_criteria_settings_bundle_every_default() -> None:
    """One bundle: EMD (§2.6/§3.3), staging (§2.1-§2.3), high risk (§2.4), response (§1.3/§1.5, the response module)."""
    s = DEFAULT_CRITERIA_SETTINGS
    assert s.emd is DEFAULT_EMD_SETTINGS
    assert s.staging is DEFAULT_STAGING_SETTINGS
    assert s.high_risk is DEFAULT_HIGH_RISK_SETTINGS
    assert s.response is DEFAULT_RESPONSE_SETTINGS
    table = s.as_dict()
    assert set(table) == {"emd", "staging", "high_risk", "response"}
    assert table["staging"]["ldh_high_strictly_above_uln"] is True


def test_settings_change_the_result() -> None:
    """A non-default reading flows through assess(): LDH = ULN counted high (§2.2 [M] alternative)."""
    data = example("ndmm-no-emd-deepening-vgpr")
    data["labs"]["ldh"] = {"value": 246, "unit": "U/L", "upper_limit_normal": 246}
    assert assess(data).staging.r_iss == "I"
    alt = CriteriaSettings(staging=StagingSettings(ldh_high_strictly_above_uln=False))
    assert assess(data, alt).staging.r_iss == "II"


# --- record -> Snapshot (the interface with the response engine) ---------------------------------------------


def test_snapshot_fields_are_the_interface() -> None:
    """clinical_common.md interface: the Snapshot fields, in order (assessment.py builds them positionally)."""
    assert list(Snapshot._fields) == [
        "date", "baseline", "serum_m_protein_g_dl", "urine_m_protein_mg_24h", "serum_ife_positive", "urine_ife_positive",
        "flc_kappa_mg_dl", "flc_lambda_mg_dl", "flc_involved", "bone_marrow_plasma_cells_pct", "bone_marrow_clonal_by_ihc",
        "bone_marrow_kappa_lambda_ratio_ihc", "bone_marrow_plasma_cells_counted", "circulating_plasma_cells_per_ul",
        "circulating_plasma_cells_pct", "plasmacytomas", "new_lesion", "mrd_method", "mrd_negative", "mrd_sensitivity",
        "pet_negative",
    ]  # fmt: skip


def test_snapshots_equal_a_keyword_build_of_every_example_assessment() -> None:
    """assessment.py builds the snapshot tuples positionally (tuple.__new__, no argument check): each must equal the
    snapshot built by keyword from the assessment it comes from, field by field, for every example."""
    from mmemd.clinical.record import ResponseAssessment
    from mmemd.clinical.snapshot import PlasmacytomaMeasure

    ife = {"positive": True, "negative": False, None: None}
    # fields the snapshot takes over unchanged, under the same name (the baseline flag and the plasmacytomas are not)
    same_name = [
        f
        for f in Snapshot._fields
        if f in ResponseAssessment.model_fields and f not in ("baseline", "plasmacytomas")
    ]
    assert len(same_name) == 9
    seen = 0
    for path in sorted(EXAMPLES.glob("*.json")):
        rec = parse_record(json.loads(path.read_text(encoding="utf-8")))
        base = rec.baseline_index()
        bone = {les.id for les in rec.lesions or () if les.relation_to_bone == "intraosseous"}
        for i, (a, got) in enumerate(zip(rec.assessments or (), to_snapshots(rec), strict=True)):
            flc, mrd = a.free_light_chains, a.mrd
            want = Snapshot(
                baseline=i == base,
                serum_m_protein_g_dl=a.serum_m_protein.canonical() if a.serum_m_protein else None,
                urine_m_protein_mg_24h=a.urine_m_protein.canonical() if a.urine_m_protein else None,
                serum_ife_positive=ife[a.serum_ife],
                urine_ife_positive=ife[a.urine_ife],
                flc_kappa_mg_dl=flc.kappa.canonical() if flc else None,
                flc_lambda_mg_dl=flc.lambda_.canonical() if flc else None,
                flc_involved=flc.involved if flc else None,
                plasmacytomas=tuple(
                    PlasmacytomaMeasure(
                        lesion=p.lesion, longest_cm=p.longest_cm, perpendicular_cm=p.perpendicular_cm
                    )
                    for p in a.plasmacytomas or ()
                    if p.lesion not in bone
                ),
                mrd_method=mrd.method if mrd else None,
                mrd_negative=mrd.negative if mrd else None,
                mrd_sensitivity=mrd.sensitivity if mrd else None,
                **{name: getattr(a, name) for name in same_name},
            )
            assert type(got) is Snapshot and len(got) == len(Snapshot._fields), path.name
            assert got._asdict() == want._asdict(), path.name
            for m in got.plasmacytomas:
                assert type(m) is PlasmacytomaMeasure and len(m) == len(PlasmacytomaMeasure._fields)
            seen += 1
    assert seen >= 40


def test_snapshots_are_in_canonical_units() -> None:
    """docs/criteria.md §1.1: serum g/dL, urine mg/24 h, FLC mg/dL — converted exactly."""
    rec = parse_record(
        {
            "schema": "mmemd.patient/1",
            "id": "u",
            "phase": "relapsed_refractory",
            "lesions": [{"id": "L1", "relation_to_bone": "none"}],
            "assessments": [
                {
                    "date": "2025-01-01",
                    "serum_m_protein": {"value": 7, "unit": "g/L"},
                    "urine_m_protein": {"value": 250, "unit": "mg/24 h"},
                    "serum_ife": "positive",
                    "urine_ife": "negative",
                    "free_light_chains": {
                        "kappa": {"value": 12.3, "unit": "mg/L"},
                        "lambda": {"value": 450, "unit": "mg/L"},
                        "involved": "lambda",
                    },
                    "bone_marrow_plasma_cells_pct": 12.5,
                    "plasmacytomas": [{"lesion": "L1", "longest_cm": 3.2, "perpendicular_cm": 1.1}],
                    "mrd": {"method": "NGS", "negative": True, "sensitivity": 1e-6},
                    "circulating_plasma_cells_per_ul": 150,
                },
                {"date": "2025-02-01", "baseline": True},
            ],
        }
    )
    s0, s1 = to_snapshots(rec)
    assert s0.date == date(2025, 1, 1)
    assert (s0.baseline, s1.baseline) == (False, True)  # explicit "baseline": true wins over "the first"
    assert s0.serum_m_protein_g_dl == Decimal("0.7")
    assert s0.urine_m_protein_mg_24h == Decimal(250)
    assert (s0.serum_ife_positive, s0.urine_ife_positive) == (True, False)
    assert (s0.flc_kappa_mg_dl, s0.flc_lambda_mg_dl, s0.flc_involved) == (
        Decimal("1.23"),
        Decimal(45),
        "lambda",
    )
    assert s0.bone_marrow_plasma_cells_pct == Decimal("12.5")
    assert s0.plasmacytomas[0].lesion == "L1" and s0.plasmacytomas[0].perpendicular_cm == Decimal("1.1")
    assert (s0.mrd_method, s0.mrd_negative, s0.mrd_sensitivity) == ("NGS", True, Decimal("0.000001"))
    assert s0.circulating_plasma_cells_per_ul == Decimal(150)
    # Unknown stays unknown (None), never normal/negative:
    assert (s1.serum_m_protein_g_dl, s1.serum_ife_positive, s1.new_lesion, s1.plasmacytomas) == (
        None,
        None,
        None,
        (),
    )


def test_baseline_lesions_are_soft_tissue_lesions_known_at_baseline() -> None:
    rec = parse_record(
        {
            "schema": "mmemd.patient/1",
            "id": "b",
            "phase": "relapsed_refractory",
            "lesions": [
                {"id": "A", "relation_to_bone": "none", "detected_on": "2025-01-01"},  # before baseline
                {
                    "id": "B",
                    "relation_to_bone": "arising_from_bone",
                    "detected_on": "2025-03-01",
                },  # on baseline date
                {
                    "id": "C",
                    "relation_to_bone": "none",
                    "detected_on": "2025-05-01",
                },  # after: not at baseline
                {
                    "id": "D",
                    "relation_to_bone": "intraosseous",
                    "detected_on": "2025-01-01",
                },  # bone, not soft tissue
                {"id": "E"},  # no date: counts only if measured at baseline
                {"id": "F"},
            ],
            "assessments": [
                {
                    "date": "2025-03-01",
                    "plasmacytomas": [{"lesion": "E", "longest_cm": 2, "perpendicular_cm": 1}],
                },
                {"date": "2025-06-01"},
            ],
        }
    )
    assert baseline_lesions(rec) == ("A", "B", "E")


def test_intraosseous_lesions_never_enter_the_soft_tissue_plasmacytoma_rules() -> None:
    """§1.3: SPD, disappearance and new-plasmacytoma rules concern soft-tissue plasmacytomas. A bone lesion first
    measured after baseline must not read as a new lesion (PD), nor a persisting one block CR."""
    record = {
        "schema": "mmemd.patient/1",
        "id": "bone",
        "phase": "newly_diagnosed",
        "lesions": [{"id": "B1", "site": "bone", "relation_to_bone": "intraosseous"}],
        "assessments": [
            {"date": "2025-01-01", "serum_m_protein": {"value": 2.0, "unit": "g/dL"},
             "urine_m_protein": {"value": 0, "unit": "mg/24h"}, "serum_ife": "positive", "urine_ife": "negative"},
            {"date": "2025-03-01", "serum_m_protein": {"value": 0.8, "unit": "g/dL"},
             "urine_m_protein": {"value": 0, "unit": "mg/24h"}, "serum_ife": "positive", "urine_ife": "negative",
             "plasmacytomas": [{"lesion": "B1", "longest_cm": 3, "perpendicular_cm": 2}]},
            {"date": "2025-04-01", "serum_m_protein": {"value": 0.8, "unit": "g/dL"},
             "urine_m_protein": {"value": 0, "unit": "mg/24h"}, "serum_ife": "positive", "urine_ife": "negative",
             "plasmacytomas": [{"lesion": "B1", "longest_cm": 3, "perpendicular_cm": 2}]},
        ],
    }  # fmt: skip
    snaps = to_snapshots(parse_record(record))
    assert all(s.plasmacytomas == () for s in snaps)
    result = assess(record)
    assert result.response.progressive_disease is False
    assert result.response.current == "PR"


def test_no_assessments_gives_not_evaluable_response() -> None:
    a = assess(example("solitary-bone-plasmacytoma"))
    assert a.response.current == "not_evaluable"
    assert a.response.best == "not_evaluable"


def test_lesion_order_does_not_change_the_assessment() -> None:
    data = example("emd-skin-new-lesion-progression")
    flipped = json.loads(json.dumps(data))
    flipped["lesions"].reverse()
    a, b = assess(data), assess(flipped)
    assert (a.emd, a.staging, a.response.current, a.response.progressive_disease) == (
        b.emd,
        b.staging,
        b.response.current,
        b.response.progressive_disease,
    )


# --- the shipped examples: key outcomes, hand-derived from the criteria ---------------------------------------


def test_example_files_are_all_covered() -> None:
    assert {p.stem for p in EXAMPLES.glob("*.json")} == set(_EXPECTED)


_EXPECTED: dict[str, str] = {
    "emd-liver-rrmm-pr": "extramedullary liver relapse; ISS III / R-ISS III / R2-ISS IV (4.0); high risk; PR",
    "ndmm-no-emd-deepening-vgpr": "no EMD; ISS I / R-ISS I / R2-ISS I; not high risk; deepening PR -> VGPR",
    "paraskeletal-plasmacytoma-not-shrunk-sd": "paraskeletal; serum at PR level but SPD -19% -> SD",
    "solitary-bone-plasmacytoma": "solitary bone plasmacytoma, no marrow involvement",
    "solitary-extramedullary-plasmacytoma-minimal-marrow": "solitary EMP with minimal marrow involvement",
    "pcl-primary-pleural": "primary PCL (12% circulating PCs); pleural lesion as a feature",
    "emd-skin-new-lesion-progression": "extramedullary; PD by a new extramedullary lesion",
    "relapse-from-cr-ife-reappearance": "relapse from CR by IFE reappearance, not PD",
    "ndmm-mrd-negative-cr": "CR, flow MRD-negative",
    "single-lesion-unknown-marrow-indeterminate": "EMD indeterminate; R-ISS and R2-ISS undetermined; high risk unknown",
    # decision-support examples: their expected answers are in tests/advice/test_new_examples.py
    "cns-relapse-after-asct": "CNS relapse after ASCT",
    "relapse-after-bcma-car-t": "skin EMD progressing after BCMA CAR-T",
    "frail-elderly-paraskeletal": "newly diagnosed paraskeletal disease, age 79, ECOG 2",
    "secondary-pcl": "secondary PCL (9% circulating PCs at relapse)",
    "emd-renal-failure": "newly diagnosed liver EMD, creatinine 5 mg/dL",
    "light-chain-emd-flc": "light-chain-only myeloma with pleural EMD, response by FLC",
    "non-secretory-emd-marrow-pet": "non-secretory myeloma with a soft-tissue plasmacytoma",
    "young-ultra-high-risk-emd": "age 38, del(17p) and t(4;14), liver EMD, PR",
    "triple-class-refractory-emd": "triple-class refractory skin and liver EMD",
    "elderly-76-emd-relapse": "lymph-node EMD relapse at 76",
}


def test_example_emd_liver_rrmm_pr() -> None:
    """Liver lesion, no bone contact, detected at relapse -> extramedullary, secondary (§3.1, §3.3).
    β2M 6.1 ≥5.5 -> ISS III; + del(17p) -> R-ISS III; R2-ISS 1.5 + 1 (del17p) + 1 (LDH 310 > ULN 250) + 0.5 (1q)
    = 4.0 -> IV (§2.3); del(17p) 35% ≥20% -> high risk (§2.4). Serum 3.0 -> 1.2 / 1.1 g/dL (−60%/−63%), urine
    500 -> 150 / 120 mg/24 h (<200), SPD 12 -> 5.0 / 4.8 cm² (≥50% reduction) -> PR, confirmed (§1.3)."""
    a = assess(example("emd-liver-rrmm-pr"))
    assert (a.emd.category, a.emd.timing, a.emd.sites, a.emd.cns) == (
        "extramedullary",
        "secondary",
        ["liver"],
        False,
    )
    assert (a.staging.iss, a.staging.r_iss, a.staging.r2_iss.points, a.staging.r2_iss.group) == (
        "III",
        "III",
        4.0,
        "IV",
    )
    assert a.staging.high_risk is True
    assert "del(17p) in 35% of clonal cells" in a.staging.high_risk_features
    assert (a.response.current, a.response.confirmed, a.response.best) == ("PR", True, "PR")


def test_example_deepening_response() -> None:
    """Serum 4.0 -> 1.6 -> 1.5 (−60%, −62.5%) with urine <200 -> PR, PR; then 0.3 / 0.25 (−92.5%, −93.75%, ≥90%)
    with urine <100 -> VGPR, VGPR: best VGPR confirmed (§1.3). All FISH negative, β2M 2.4 <3.5, albumin 41 g/L ≥35,
    LDH 180 ≤ ULN -> ISS I, R-ISS I, R2-ISS 0 (I), not high risk (§2.1-§2.4). No lesions -> EMD none."""
    a = assess(example("ndmm-no-emd-deepening-vgpr"))
    assert a.emd.category == "none"
    assert (a.staging.iss, a.staging.r_iss, a.staging.r2_iss.group, a.staging.high_risk) == (
        "I",
        "I",
        "I",
        False,
    )
    assert [t.category for t in a.response.timeline] == ["baseline", "PR", "PR", "VGPR", "VGPR"]
    assert (a.response.current, a.response.confirmed, a.response.best) == ("VGPR", True, "VGPR")


def test_example_pr_blocked_by_plasmacytoma() -> None:
    """Paravertebral mass arising from bone -> paraskeletal, primary (§3.1). Serum −60%/−63% and urine <200 qualify
    for PR, but SPD 20 -> 16.2 cm² (−19%) misses the ≥50% plasmacytoma requirement -> SD (§1.5, lowest-level rule).
    t(4;14) with 1q gain, del(1p32) negative -> not high risk under IMS/IMWG 2025 (§2.4: isolated t(4;14));
    R2-ISS ISS II 1 + t(4;14) 1 = 2 -> III."""
    a = assess(example("paraskeletal-plasmacytoma-not-shrunk-sd"))
    assert (a.emd.category, a.emd.timing) == ("paraskeletal", "primary")
    assert a.response.current == "SD"
    assert a.response.best == "SD"
    assert a.staging.high_risk is False
    assert (a.staging.r2_iss.points, a.staging.r2_iss.group) == (2.0, "III")


def test_example_solitary_bone_plasmacytoma() -> None:
    """Single biopsy-proven intraosseous lesion, clonal BMPC 0%, no MDE -> solitary bone plasmacytoma (§2.6)."""
    a = assess(example("solitary-bone-plasmacytoma"))
    assert (a.emd.category, a.emd.minimal_marrow_involvement) == ("solitary_bone_plasmacytoma", False)


def test_example_solitary_extramedullary_minimal_marrow() -> None:
    """Single soft-tissue lesion, clonal BMPC 4% (0 < 4 < 10), no MDE -> solitary EMP with minimal marrow
    involvement (§2.6). β2M 0.21 mg/dL = 2.1 mg/L, albumin 43 g/L -> ISS I; no cytogenetics -> R-ISS I or II."""
    a = assess(example("solitary-extramedullary-plasmacytoma-minimal-marrow"))
    assert (a.emd.category, a.emd.minimal_marrow_involvement) == (
        "solitary_extramedullary_plasmacytoma",
        True,
    )
    assert (a.staging.iss, a.staging.r_iss, a.staging.r_iss_possible) == ("I", None, ["I", "II"])


def test_example_primary_pcl() -> None:
    """Circulating PCs 12% ≥5% at diagnosis -> plasma cell leukemia, primary (§2.6 PCL21); the pleural lesion is
    recorded as a feature (sites), not the class (§3.3)."""
    a = assess(example("pcl-primary-pleural"))
    assert (a.emd.category, a.emd.timing, a.emd.sites) == ("plasma_cell_leukemia", "primary", ["pleura"])


def test_example_progression_by_new_extramedullary_lesion() -> None:
    """A new liver plasmacytoma (new_lesion, not present at baseline) -> PD (§1.3 PD (b)), imaging PD needs no
    confirmation (§1.3 general rule 1). R2-ISS: ISS III 1.5 + t(4;14) 1 + 1q 0.5 = 3, LDH unknown (+0/+1): 3-4,
    group IV either way, exact points null (§2.3)."""
    a = assess(example("emd-skin-new-lesion-progression"))
    assert a.emd.category == "extramedullary" and a.emd.timing == "secondary"
    assert (a.response.current, a.response.progressive_disease) == ("PD", True)
    assert (a.staging.r2_iss.group, a.staging.r2_iss.points) == ("IV", None)


def test_example_relapse_from_cr() -> None:
    """CR (IFE negative serum and urine, BMPC 2% <5%) on two consecutive assessments, then serum IFE positive again
    -> relapse from CR (§1.3), but positive IFE alone after CR is not PD (§1.3 general rule 3)."""
    a = assess(example("relapse-from-cr-ife-reappearance"))
    assert a.response.best == "CR"
    assert (a.response.relapse_from_cr, a.response.progressive_disease) == (True, False)


def test_example_mrd_negative_cr() -> None:
    """Confirmed CR with NGF MRD negative at sensitivity 1e-5 (≤ 1 in 10^5) -> flow MRD-negative (§1.4).
    β2M 3.2 <3.5 but albumin 3.4 <3.5 -> ISS II; R2-ISS 1 + LDH 260 > 250 (1) + 1q (0.5) = 2.5 -> III; 1q gain alone
    is not high risk (§2.4)."""
    a = assess(example("ndmm-mrd-negative-cr"))
    assert (a.response.current, a.response.best, a.response.mrd) == ("CR", "CR", "flow_negative")
    assert (a.staging.iss, a.staging.r2_iss.points, a.staging.r2_iss.group, a.staging.high_risk) == (
        "II",
        2.5,
        "III",
        False,
    )


def test_example_indeterminate() -> None:
    """Single soft-tissue lesion with marrow and MDEs unknown -> EMD indeterminate (solitary EMP vs MM with EMD).
    ISS I (β2M 2.8, albumin 3.9); t(4;14), t(14;16) unknown -> R-ISS I or II; R2-ISS 0..1.5 (t(4;14), 1q unknown)
    spans groups I-III -> null; TP53 etc. unknown -> high risk null (§2.1-§2.4)."""
    a = assess(example("single-lesion-unknown-marrow-indeterminate"))
    assert a.emd.category == "indeterminate"
    assert (a.staging.iss, a.staging.r_iss, a.staging.r_iss_possible) == ("I", None, ["I", "II"])
    assert (a.staging.r2_iss.group, a.staging.r2_iss.points) == (None, None)
    assert a.staging.high_risk is None
    assert a.staging.reasons  # which data are missing


def _has_type(value: object, annotation: object) -> bool:
    """``value`` is exactly of the annotated type (a bool is not an int, an int not a Decimal)."""
    import types
    import typing

    from mmemd.clinical.snapshot import PlasmacytomaMeasure

    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_has_type(value, a) for a in typing.get_args(annotation))
    if origin is typing.Literal:
        return type(value) is str and value in typing.get_args(annotation)
    if origin is tuple:
        hints = typing.get_type_hints(PlasmacytomaMeasure)
        return type(value) is tuple and all(
            type(m) is PlasmacytomaMeasure and all(_has_type(getattr(m, f), t) for f, t in hints.items())
            for m in value
        )
    if annotation is type(None):
        return value is None
    return type(value) is annotation


def test_snapshot_values_have_their_annotated_types() -> None:
    """The response engine may run compiled (mypyc), which checks each value it reads against its annotation: a
    snapshot must hold a Decimal where it says Decimal even when the record wrote an integer, an int count, a bool
    flag, a date — for every example assessment and for integers in every numeric field."""
    import typing

    hints = typing.get_type_hints(Snapshot)
    integers = {
        "schema": "mmemd.patient/1",
        "id": "ints",
        "phase": "relapsed_refractory",
        "lesions": [{"id": "L1", "relation_to_bone": "none"}],
        "assessments": [
            {
                "date": "2025-01-01",
                "serum_m_protein": {"value": 3, "unit": "g/dL"},
                "urine_m_protein": {"value": 500, "unit": "mg/24h"},
                "free_light_chains": {
                    "kappa": {"value": 60, "unit": "mg/dL"},
                    "lambda": {"value": 1, "unit": "mg/dL"},
                    "involved": "kappa",
                },
                "bone_marrow_plasma_cells_pct": 40,
                "bone_marrow_clonal_by_ihc": True,
                "bone_marrow_kappa_lambda_ratio_ihc": 5,
                "bone_marrow_plasma_cells_counted": 150,
                "circulating_plasma_cells_per_ul": 150,
                "circulating_plasma_cells_pct": 1,
                "plasmacytomas": [{"lesion": "L1", "longest_cm": 4, "perpendicular_cm": 3}],
                "new_lesion": False,
                "mrd": {"method": "NGF", "negative": False, "sensitivity": 1e-5},
                "pet_negative": False,
            }
        ],
    }
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]
    checked = 0
    for data in [*records, integers]:
        for snap in to_snapshots(parse_record(data)):
            for field, annotation in hints.items():
                value = getattr(snap, field)
                assert _has_type(value, annotation), (data["id"], field, value)
                checked += value is not None
    assert checked > 300
