"""The composed mmemd.assessment/1 (clinical sections + work-up, prognosis, options) and `mmemd explain`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mmemd.advice import assess_with_advice
from mmemd.cli._app import build_app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


def record_phase(path: Path) -> str:
    return str(json.loads(path.read_text(encoding="utf-8"))["phase"])


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_every_example_gets_a_complete_document_whose_citations_resolve(kb, path):
    doc, _trace = assess_with_advice(json.loads(path.read_text(encoding="utf-8")), kb)
    out = json.loads(doc.model_dump_json(by_alias=True))
    assert out["schema"] == "mmemd.assessment/1"
    assert {"emd", "staging", "response", "workup", "prognosis", "options"} <= set(out)
    assert out["versions"]["knowledge_base"] == kb.version
    cited = [c for o in out["options"] for c in o["claims"]]
    cited += [c for o in out["options"] for caution in o["cautions"] for c in caution["claims"]]
    cited += [c for w in out["workup"] for c in w["claims"]] + [
        c for p in out["prognosis"] for c in p["claims"]
    ]
    for cid in cited:
        assert cid in kb, cid
    # ranked by tier (no major caution, a major caution, never first), then score (docs/advice.md)
    assert [o["rank"] for o in out["options"]] == list(range(1, len(out["options"]) + 1))
    # newly diagnosed: induction first and consolidation after it (docs/advice.md "Score and ranking")
    induction = (
        any(o["role"] == "induction" for o in out["options"]) and record_phase(path) == "newly_diagnosed"
    )
    seq = {"induction": 0, "consolidation": 2} if induction else {}
    keys = [(o["tier"], seq.get(o["role"], 1), -o["score"]) for o in out["options"]]
    if doc.patient_context is None or doc.patient_context.pathway not in (
        "plasma_cell_leukemia",
        "solitary_plasmacytoma",
    ):
        assert keys == sorted(keys)
    else:  # no evidence for these entities: the pathway's clinical order, within tiers
        assert [k[0] for k in keys] == sorted(k[0] for k in keys)


def test_extramedullary_relapse_example_gets_emd_prognosis_and_car_t_caution(kb):
    record = json.loads((EXAMPLES / "emd-liver-rrmm-pr.json").read_text(encoding="utf-8"))
    doc, _ = assess_with_advice(record, kb)
    assert doc.emd.category == "extramedullary"
    assert {"emd_vs_no_emd", "relapse_with_emd"} <= {p.id for p in doc.prognosis}
    car_t = next(o for o in doc.options if o.id == "bcma_car_t")
    assert any("emdtx-7-08" in c.claims for c in car_t.cautions)
    # line 2 (daratumumab, pomalidomide) was refractory: the plain daratumumab option must not be offered
    assert "daratumumab_based" not in {o.id for o in doc.options}
    assert "daratumumab_retreatment_new_class" in {o.id for o in doc.options}


def test_explain_lists_every_rule_with_its_outcome():
    from mmemd.advice import load_rules

    app = build_app()
    result = runner.invoke(app, ["explain", str(EXAMPLES / "emd-liver-rrmm-pr.json"), "--json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    rules = load_rules()
    assert {r["id"] for r in doc["rules"]} == {
        r.id for r in (*rules.options, *rules.workup, *rules.prognosis, *rules.statements)
    }
    assert {f["name"] for f in doc["context"]["facts"]} >= {
        "frail",
        "renal_insufficiency",
        "prior_bcma_car_t",
    }
    assert doc["context"]["egfr_ckd_epi_2021"] is not None
    assert all({"evidence", "applicability", "penalties"} <= set(r["score_parts"]) for r in doc["ranking"])
    outcomes = {r["id"]: r["outcome"] for r in doc["rules"]}
    assert outcomes["daratumumab_based"] == "not fired" and outcomes["bcma_car_t"] == "fired"
    why_not = next(r for r in doc["rules"] if r["id"] == "daratumumab_based")["conditions"]
    assert any(c["outcome"] == "not_met" and "refractory to daratumumab" in c["reason"] for c in why_not)


def test_explain_rejects_malformed_json_with_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = runner.invoke(build_app(), ["explain", str(bad)])
    assert result.exit_code == 2 and "malformed JSON" in result.stderr


def test_mmemd_assess_includes_decision_support_by_default_and_no_advice_drops_it():
    app = build_app()
    path = str(EXAMPLES / "emd-liver-rrmm-pr.json")
    full = runner.invoke(app, ["assess", path])
    bare = runner.invoke(app, ["assess", path, "--no-advice"])
    assert full.exit_code == 0 and bare.exit_code == 0, (full.stderr, bare.stderr)
    full_doc, bare_doc = json.loads(full.stdout), json.loads(bare.stdout)
    assert {"workup", "prognosis", "options"} <= set(full_doc)
    assert not {"workup", "prognosis", "options"} & set(bare_doc)
    # the clinical sections do not depend on whether advice was asked for
    for key in ("emd", "staging", "response", "versions"):
        assert full_doc[key] == bare_doc[key]


def test_batch_assessment_carries_options_per_line(tmp_path):
    lines = [
        json.dumps(json.loads((EXAMPLES / name).read_text(encoding="utf-8")))
        for name in ("emd-liver-rrmm-pr.json", "ndmm-mrd-negative-cr.json")
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(build_app(), ["assess", "--batch", str(src), "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    docs = [json.loads(x) for x in result.stdout.splitlines()]
    assert [d["patient_id"] for d in docs] == ["emd-liver-rrmm-pr", "ndmm-mrd-negative-cr"]
    assert docs[0]["options"]
    # ASCT already given in line 1: not offered again, listed as considered, not suitable
    assert "asct" in {n["id"] for n in docs[1]["considered_not_suitable"]}


def test_assessment_schema_describes_the_decision_support_sections():
    result = runner.invoke(build_app(), ["schema", "assessment"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert {"workup", "prognosis", "options"} <= set(schema["properties"])
    assert "TreatmentOption" in schema["$defs"]
    assert {"considered_not_suitable", "evidence_statements", "patient_context"} <= set(schema["properties"])
    option = schema["$defs"]["TreatmentOption"]["properties"]
    # the original fields are kept, the new ones documented
    assert {"id", "agents", "cautions", "score", "score_breakdown", "grade"} <= set(option)
    for name in ("rank", "tier", "role", "rank_reason", "applicability_note"):
        assert option[name].get("description"), name
    parts = schema["$defs"]["ScoreBreakdown"]["properties"]
    assert {"evidence", "applicability", "penalties"} <= set(parts)


def test_text_summary_lists_options_in_chinese():
    result = runner.invoke(
        build_app(), ["assess", str(EXAMPLES / "emd-liver-rrmm-pr.json"), "--format", "text", "--lang", "zh"]
    )
    assert result.exit_code == 0, result.stderr
    assert "治疗选项" in result.stdout and "CAR-T" in result.stdout


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json"))[:6], ids=lambda p: p.stem)
def test_assembled_document_holds_each_section_under_its_own_name(kb, path):
    """The document is assembled positionally from typed values (no per-call walk over the fields): each field must
    hold the section of that name — a field added out of order would shift them."""
    from mmemd.advice._assess import AdvisedAssessment, ContextFact, LineRow, context_section
    from mmemd.clinical.assessment import Assessment, assess

    record = json.loads(path.read_text(encoding="utf-8"))
    doc, advice = assess_with_advice(record, kb)
    base = assess(record)
    assert list(doc.__dict__) == list(AdvisedAssessment.model_fields)
    assert doc.model_fields_set == set(AdvisedAssessment.model_fields)
    for name in Assessment.model_fields:
        assert getattr(doc, name) == getattr(base, name), name
    assert doc.workup == advice.workup and doc.prognosis == advice.prognosis
    assert doc.options == advice.options and doc.considered_not_suitable == advice.not_suitable
    assert doc.evidence_statements == advice.statements
    ctx = context_section(advice.context)
    assert ctx is not None and doc.patient_context == ctx
    assert ctx.pathway == advice.context.pathway
    assert ctx.facts and all(isinstance(f, ContextFact) for f in ctx.facts)
    assert all(isinstance(ln, LineRow) for ln in ctx.lines)
    assert ctx.refractory_agents == sorted(advice.context.clinical.refractory_agents)
    assert doc.options, "the example should exercise the decision-support sections"
