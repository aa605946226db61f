"""Cards: the spec's card model (summary < 140, no null/empty values, conditional fields), the indicator rules
(new EMD, progression, CNS → critical; high risk → warning; else info), and the Markdown detail."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from cds_support import example
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mmemd.advice import assess_with_advice
from mmemd.service._cards import (
    NEW_EMD_WINDOW_DAYS,
    ImportNote,
    assessment_card,
    decide_indicator,
    md,
    new_emd_lesions,
)
from mmemd.service._cds_models import Card, CdsResponse, Source, dump


def card_for(record: dict[str, Any], kb: Any, **kw: Any) -> Card:
    assessment, _ = assess_with_advice(record, kb)
    return assessment_card(record, assessment, card_uuid="4e0a3a1e-3283-4575-ab82-028d55fe2719", **kw)


# ---- the model ---------------------------------------------------------------------------------------------------
def test_summary_of_140_characters_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Card(summary="x" * 140, indicator="info", source=Source(label="s"))
    Card(summary="x" * 139, indicator="info", source=Source(label="s"))


@pytest.mark.parametrize(
    "card",
    [
        {"summary": "", "indicator": "info", "source": {"label": "s"}},
        {"summary": "s", "indicator": "info", "source": {"label": ""}},
        {"summary": "s", "indicator": "info", "source": {"label": "s"}, "links": []},
        {"summary": "s", "indicator": "info", "source": {"label": "s"}, "extension": {}},
        {"summary": "s", "indicator": "urgent", "source": {"label": "s"}},
        {"summary": "s", "indicator": "info"},
        {"summary": "s", "indicator": "info", "source": {"label": "s"}, "suggestions": [{"label": "do"}]},
        {"summary": "s", "indicator": "info", "source": {"label": "s"}, "overrideReasons": [{"code": "x"}]},
        {
            "summary": "s",
            "indicator": "info",
            "source": {"label": "s"},
            "links": [{"label": "l", "url": "https://x", "type": "absolute", "appContext": "a"}],
        },
        {"summary": "s", "indicator": "info", "source": {"label": "s"}, "colour": "red"},
    ],
)
def test_model_rejects_cards_that_break_the_spec(card: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Card.model_validate(card)


def test_dump_omits_absent_optional_fields_and_empty_cards_are_allowed() -> None:
    card = Card(summary="s", indicator="info", source=Source(label="s"))
    assert dump(card) == {"summary": "s", "indicator": "info", "source": {"label": "s"}}
    assert dump(CdsResponse(cards=[])) == {"cards": []}


# ---- indicator rules ---------------------------------------------------------------------------------------------
def _no_urgent(record: dict[str, Any]) -> dict[str, Any]:
    r = copy.deepcopy(record)
    for a in r.get("assessments") or []:
        a["new_lesion"] = False
    return r


def test_new_emd_is_critical(kb: Any) -> None:
    record = example("emd-liver-rrmm-pr")  # PR, not CNS; its lesion is 92 days old → not new
    assert decide_indicator(record, assess_with_advice(record, kb)[0]).indicator == "warning"
    recent = copy.deepcopy(record)
    recent["lesions"][0]["detected_on"] = "2025-08-15"
    assessment, _ = assess_with_advice(recent, kb)
    decision = decide_indicator(recent, assessment)
    assert assessment.response.progressive_disease is False and assessment.emd.cns is False
    assert decision.indicator == "critical"
    assert decision.new_lesions == ("L1",)
    assert decision.because_en == ("new extramedullary disease (L1)",)


def test_new_emd_window_boundary(kb: Any) -> None:
    record = copy.deepcopy(example("emd-liver-rrmm-pr"))  # latest date 2025-09-01
    record["lesions"][0]["detected_on"] = "2025-06-03"  # exactly 90 days before
    assert NEW_EMD_WINDOW_DAYS == 90
    assert new_emd_lesions(record, assess_with_advice(record, kb)[0]) == ("L1",)
    record["lesions"][0]["detected_on"] = "2025-06-02"  # 91 days
    assert new_emd_lesions(record, assess_with_advice(record, kb)[0]) == ()


def test_intraosseous_lesion_is_not_new_emd(kb: Any) -> None:
    record = example("solitary-bone-plasmacytoma")
    assessment, _ = assess_with_advice(record, kb)
    assert new_emd_lesions(record, assessment) == ()
    assert decide_indicator(record, assessment).indicator == "info"


def test_progression_is_critical(kb: Any) -> None:
    # the skin example progresses (new plasmacytoma at 2025-10-06); date its lesions long before so that only the
    # progression remains as a reason
    record = copy.deepcopy(example("emd-skin-new-lesion-progression"))
    for lesion in record["lesions"]:
        lesion["detected_on"] = "2024-01-10"
    assessment, _ = assess_with_advice(record, kb)
    decision = decide_indicator(record, assessment)
    assert assessment.response.progressive_disease is True
    assert decision.indicator == "critical"
    assert decision.because_en == ("progressive disease",)


def test_cns_involvement_is_critical(kb: Any) -> None:
    record = copy.deepcopy(example("emd-liver-rrmm-pr"))
    record["lesions"][0]["cns"] = True
    record["lesions"][0]["site"] = "leptomeninges"
    assessment, _ = assess_with_advice(record, kb)
    assert assessment.emd.cns is True
    decision = decide_indicator(record, assessment)
    assert decision.indicator == "critical" and decision.because_en == ("CNS involvement",)


def test_high_risk_is_warning_and_standard_risk_is_info(kb: Any) -> None:
    record = example("ndmm-no-emd-deepening-vgpr")
    assessment, _ = assess_with_advice(record, kb)
    assert assessment.staging.high_risk is not True
    assert decide_indicator(record, assessment).indicator == "info"
    hr = copy.deepcopy(record)
    hr.setdefault("cytogenetics", {})["del_17p"] = True
    hr["cytogenetics"]["del_17p_clonal_fraction_pct"] = 40
    assessment, _ = assess_with_advice(hr, kb)
    assert assessment.staging.high_risk is True
    assert decide_indicator(hr, assessment).indicator == "warning"


# ---- summary and detail --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(
    "name",
    [
        "emd-skin-new-lesion-progression",
        "emd-liver-rrmm-pr",
        "pcl-primary-pleural",
        "single-lesion-unknown-marrow-indeterminate",
    ],
)
def test_summary_and_detail(kb: Any, name: str, lang: str) -> None:
    card = card_for(example(name), kb, lang=lang)
    assert 0 < len(card.summary) < 140
    assert card.detail is not None
    assert "mmemd 0.1.0" in card.detail and "kb-" in card.detail
    assert card.extension is not None and card.extension["org.mmemd.versions"]["mmemd"] == "0.1.0"


def test_detail_lists_top_options_with_numbers_and_claims(kb: Any) -> None:
    record = example("emd-liver-rrmm-pr")
    assessment, _ = assess_with_advice(record, kb)
    card = assessment_card(record, assessment, card_uuid="u")
    assert card.detail is not None
    for option in assessment.options[:3]:
        assert option.title_en.split(" (")[0].replace("(", "") in card.detail.replace("\\", "")
        for claim in option.claims:
            # cited by number, never by the knowledge base's id
            assert claim not in card.detail
    assert "\\[1\\]" in card.detail and "Review 1" in card.detail
    assert assessment.options[3].title_en not in card.detail


@given(st.text(min_size=1, max_size=60))
@settings(max_examples=200)
def test_markdown_escaping_leaves_no_markup(text: str) -> None:
    out = md(text)
    for ch in "<>[]`*_|#":
        assert all(out[i - 1] == "\\" for i, c in enumerate(out) if c == ch and i > 0) or ch not in out


def test_hostile_site_name_is_escaped(kb: Any) -> None:
    record = copy.deepcopy(example("emd-liver-rrmm-pr"))
    record["lesions"][0]["site"] = "liver"
    card = card_for(
        record,
        kb,
        import_notes=[ImportNote("prefetch.observations Observation/x", "<img src=x onerror=alert(1)>", "x")],
    )
    assert card.detail is not None
    assert re.search(r"(?<!\\)<", card.detail) is None and "\\<img" in card.detail


def test_long_summary_drops_parts_rather_than_breaking(kb: Any) -> None:
    record = copy.deepcopy(example("emd-skin-new-lesion-progression"))
    for i in range(30):
        record["lesions"].append({**record["lesions"][1], "id": f"LESION-{i:03d}"})
    card = card_for(record, kb)
    assert len(card.summary) < 140 and card.indicator == "critical"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_detail_says_where_the_reviews_are_silent_and_what_was_not_suitable(kb: Any, lang: str) -> None:
    # After BCMA CAR-T the reviews hold no evidence on repeating BCMA-directed therapy: the card says so, as the
    # report does; the dara-refractory patient's pomalidomide option is listed as considered, not suitable.
    record = example("relapse-after-bcma-car-t")
    assessment, _ = assess_with_advice(record, kb)
    assert assessment.evidence_statements
    card = assessment_card(record, assessment, card_uuid="u", lang=lang)
    assert card.detail is not None
    for st_ in assessment.evidence_statements:
        assert md(st_.zh if lang == "zh" else st_.en) in card.detail
    record = example("emd-liver-rrmm-pr")
    assessment, _ = assess_with_advice(record, kb)
    card = assessment_card(record, assessment, card_uuid="u", lang=lang)
    assert card.detail is not None and assessment.considered_not_suitable
    label = "已考虑但不适合" if lang == "zh" else "Considered, not suitable"
    line = next(x for x in card.detail.splitlines() if label in x)
    for n in assessment.considered_not_suitable:
        assert md(n.title_zh if lang == "zh" else n.title_en) in line
