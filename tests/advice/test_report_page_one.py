"""Page one of the report carries the decision-support additions: the line history with recorded or derived
refractoriness, one line per top option on why it ranks there, the "considered, not suitable" list, the evidence
statements — and the thin-evidence banner only when the trial option is listed."""

from __future__ import annotations

import datetime as dt

from mmemd.report import render_report

GENERATED = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)


def _page_one(kb, record, lang="en"):
    text = str(render_report(record, fmt="text", lang=lang, kb=kb, generated=GENERATED))
    return text.split("2. Treatment options")[0] if lang == "en" else text.split("2. 治疗选择")[0]


def test_line_history_with_derived_refractoriness_and_not_suitable_list(kb, example_record):
    page = _page_one(kb, example_record("emd-skin-new-lesion-progression"))
    assert "Line 3" in page and "yes (derived: progression on this line)" in page
    assert "Line 2" in page and "yes (as recorded)" in page
    assert (
        "Considered, not suitable:" in page
        and "Isa-Kd (refractory to carfilzomib)" not in page.split("Top")[0]
    )
    assert "refractory to carfilzomib" in page
    assert page.count("Why ") == 3  # one line per top-3 option


def test_thin_evidence_banner_only_with_the_trial_option(kb, example_record):
    assert "Evidence is thin" in _page_one(kb, example_record("emd-liver-rrmm-pr"))
    assert "Evidence is thin" not in _page_one(kb, example_record("ndmm-no-emd-deepening-vgpr"))


def test_chinese_page_one_states_where_the_reviews_are_silent(kb, example_record):
    page = _page_one(kb, example_record("pcl-primary-pleural"), "zh")
    assert "两篇综述将浆细胞白血病排除于髓外病变之外" in page
    assert "两篇综述无肾功能不全时治疗选择或剂量调整的证据" in page
    assert "排序依据" in page
