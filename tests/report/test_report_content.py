"""What the report says: the public function's contract, the content built from the knowledge base, honesty about
indeterminate results and thin evidence, the evidence chart's numbers, and the chart font fallback."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from decimal import Decimal

import pytest
from _report_helpers import example

from _system import cjk_font_installed, require_system
from mmemd.clinical import RecordError, parse_record
from mmemd.report import _charts, build_report, render_report
from mmemd.report._document import build_document
from mmemd.report._model import normalize_quote


def test_unknown_language_or_format_is_a_value_error(kb) -> None:  # type: ignore[no-untyped-def]
    rec = example("emd-liver-rrmm-pr")
    with pytest.raises(ValueError, match="language"):
        render_report(rec, lang="fr", kb=kb)
    with pytest.raises(ValueError, match="format"):
        render_report(rec, fmt="docx", kb=kb)


def test_invalid_record_is_a_record_error(kb) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RecordError):
        render_report({"schema": "mmemd.patient/1", "id": "x", "phase": "nope"}, kb=kb)


def test_accepts_a_parsed_record_and_returns_the_right_types(kb, generated) -> None:  # type: ignore[no-untyped-def]
    rec = parse_record(example("emd-liver-rrmm-pr"))
    for fmt in ("text", "md", "html"):
        assert isinstance(render_report(rec, fmt=fmt, kb=kb, generated=generated), str)


def test_generated_from_source_date_epoch(kb, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z
    out = render_report(example("emd-liver-rrmm-pr"), fmt="text", kb=kb)
    assert "2026-01-01T00:00:00+00:00" in str(out)


def test_versions_and_disclaimer_in_every_format(kb, generated) -> None:  # type: ignore[no-untyped-def]
    from mmemd._version import __version__

    for lang, words in (("en", "does not prescribe"), ("zh", "不构成处方")):
        for fmt in ("text", "md", "html"):
            out = str(
                render_report(example("emd-liver-rrmm-pr"), lang=lang, fmt=fmt, kb=kb, generated=generated)
            )
            assert kb.version in out and f"mmemd {__version__}" in out and "IMWG-2016" in out
            assert words in out


def test_summary_shows_top_options_with_grades_and_key_claims(kb, generated) -> None:  # type: ignore[no-untyped-def]
    rep = build_report(example("emd-liver-rrmm-pr"), kb, generated)
    text = str(render_report(example("emd-liver-rrmm-pr"), fmt="text", kb=kb, generated=generated))
    summary = text.split("2. Treatment options")[0]
    citations = build_document(rep, "en").citations
    top = rep.assessment.options[:3]
    for o in top:
        assert o.title_en in summary
        from mmemd.report._document import TOP_KEY_RESULTS

        for k in o.key_results[:TOP_KEY_RESULTS]:
            # cited by its number, never by the knowledge base's id
            assert f"[{citations.index(k.claim) + 1}]" in summary
            assert k.claim not in text
    # Thin evidence is said plainly when no option has EMD-specific evidence better than C.
    assert rep.thin_evidence
    assert "Evidence is thin" in summary


def test_indeterminate_is_shown_with_what_is_missing(kb, generated) -> None:  # type: ignore[no-untyped-def]
    text = str(
        render_report(
            example("single-lesion-unknown-marrow-indeterminate"), fmt="text", kb=kb, generated=generated
        )
    )
    summary = text.split("2. Treatment options")[0]
    assert re.search(r"Classification +indeterminate\n", summary)
    assert re.search(r"R-ISS +indeterminate \(possible: I, II\)", summary)
    assert re.search(r"High risk \(IMS/IMWG 2025\) +indeterminate", summary)
    assert "clonal bone-marrow plasma cells (%), myeloma-defining events" in summary
    assert "t(4;14), t(14;16)" in summary
    assert "No treatment-option rule fired" in summary


def test_evidence_rows_carry_the_knowledge_base_facts(kb, generated) -> None:  # type: ignore[no-untyped-def]
    rep = build_report(example("emd-liver-rrmm-pr"), kb, generated)
    rows = {r.claim: r for o in rep.options for r in o.rows}
    c = kb.get("emdtx-4.3-04")  # Danhof: elotuzumab in 15 EMD patients, ORR 40%
    row = rows["emdtx-4.3-04"]
    assert (row.study, row.n_total, row.grade, row.value_en) == ("Danhof", c.n_total, c.grade, "40%")
    assert row.source == "emdtx" and row.section == "4.3" and row.section_en == "Elotuzumab"
    assert row.quote == normalize_quote(c.quote)


def test_rates_chart_data_are_the_claims_numbers(kb, generated) -> None:  # type: ignore[no-untyped-def]
    rep = build_report(example("emd-liver-rrmm-pr"), kb, generated)
    bars = {b.claim: b for b in rep.rates}
    assert bars["emdtx-7-05"].value == Decimal("85.2") and bars["emdtx-7-05"].endpoint == "ORR"
    assert bars["emdtx-4.3-04"].n == 15 and bars["emdtx-4.3-04"].emd_specific
    for b in rep.rates:
        c = kb.get(b.claim)
        assert c.unit == "%" and c.value == b.value
        assert b.claim in next(o.claims for o in rep.assessment.options if o.id == b.option)


def test_response_series_in_canonical_units(kb, generated) -> None:  # type: ignore[no-untyped-def]
    rep = build_report(example("emd-liver-rrmm-pr"), kb, generated)
    first = rep.series[0]
    assert first.serum_m_g_dl == Decimal("3.0")
    assert first.flc_involved_mg_dl == Decimal("60")
    assert first.spd_cm2 == Decimal("12.00")  # 4.0 x 3.0 cm
    assert [p.category for p in rep.series] == ["baseline", "PR", "PR"]


def test_normalize_quote_joins_layout_breaks() -> None:
    assert normalize_quote("伊沙\n\n妥昔单抗") == "伊沙妥昔单抗"
    assert normalize_quote("RRMM\n\n患者 ORR为 81%") == "RRMM 患者 ORR为 81%"


def test_charts_are_deterministic(kb, generated) -> None:  # type: ignore[no-untyped-def]
    require_system("fonts-noto-cjk", cjk_font_installed, "Chinese chart labels")
    rep = build_report(example("emd-skin-new-lesion-progression"), kb, generated)
    a, b = _charts.rates_chart(rep, "zh"), _charts.rates_chart(rep, "zh")
    assert a is not None and b is not None and a.data == b.data


def test_chart_without_cjk_font_falls_back_to_english_with_a_warning(kb, generated, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rep = build_report(example("emd-skin-new-lesion-progression"), kb, generated)
    monkeypatch.setattr(_charts, "cjk_font", lambda: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = _charts.response_chart(rep, "zh")
    assert out is not None and out.lang == "en"
    assert any(issubclass(w.category, _charts.ChartFontWarning) for w in caught)
    assert "Response over time" in out.alt


def test_a_cjk_font_installed_after_matplotlib_cached_its_font_list_is_found(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """fonts-noto-cjk installed after matplotlib wrote its font cache: the stale list is completed, not trusted."""
    require_system("fonts-noto-cjk", cjk_font_installed, "the font-cache rebuild")
    import matplotlib
    from matplotlib import font_manager

    manager = font_manager.fontManager
    cjk_files = {f.fname for f in manager.ttflist if f.name in _charts.CJK_FAMILIES}
    stale = [f for f in manager.ttflist if f.fname not in cjk_files]
    assert len(stale) < len(manager.ttflist)
    monkeypatch.setattr(manager, "ttflist", stale)
    monkeypatch.setattr(matplotlib, "get_cachedir", lambda: str(tmp_path))
    _charts.cjk_font.cache_clear()
    try:
        assert _charts.cjk_font() in _charts.CJK_FAMILIES
        (written,) = tmp_path.glob("fontlist-v*.json")
        assert _charts.cjk_font() in written.read_text(encoding="utf-8")
    finally:
        _charts.cjk_font.cache_clear()


def test_short_titles() -> None:
    assert _charts.short_title("Isatuximab, carfilzomib and dexamethasone (Isa-Kd)") == "Isa-Kd"
    assert _charts.short_title("以卡非佐米为基础的治疗（如卡非佐米+地塞米松，Kd）") == "Kd"
    assert _charts.short_title("Anti-BCMA CAR-T cell therapy") == "Anti-BCMA CAR-T cell therapy"


def test_generated_is_the_only_clock(kb) -> None:  # type: ignore[no-untyped-def]
    t1 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    out = str(render_report(example("emd-liver-rrmm-pr"), fmt="md", kb=kb, generated=t1))
    assert "2026-03-01T00:00:00+00:00" in out


def test_charts_from_threads_match_serial_output(kb, generated) -> None:  # type: ignore[no-untyped-def]
    # The service renders reports in a thread pool; matplotlib's rcParams are process-global.
    from concurrent.futures import ThreadPoolExecutor

    rep = build_report(example("emd-skin-new-lesion-progression"), kb, generated)
    expected = {lang: _charts.response_chart(rep, lang) for lang in ("en", "zh")}
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda lang: (lang, _charts.response_chart(rep, lang)), ["en", "zh"] * 4))
    for lang, out in got:
        ref = expected[lang]
        assert out is not None and ref is not None and out.data == ref.data


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_evidence_sources_name_reviews_by_a_number_the_references_resolve(lang: str, kb, generated) -> None:  # type: ignore[no-untyped-def]
    # Source cells say "Review 1 §6 Treatment" / "综述一 §6 治疗"; each number used must be listed with its title.
    from mmemd.report._citations import REVIEW_NUMBERS, review_title

    md = render_report(example("emd-liver-rrmm-pr"), lang=lang, fmt="md", kb=kb, generated=generated)
    assert isinstance(md, str)
    used = 0
    for alias, numbers in REVIEW_NUMBERS.items():
        number = numbers[lang]
        if f"| {number} §" not in md:
            continue
        used += 1
        sep = "：" if lang == "zh" else ": "
        assert md.count(f"- {number}{sep}{review_title(alias, lang)}") == 1
        assert md.count(review_title(alias, lang)) == 1  # the title once, not on every row
    assert used == 2  # the example cites both reviews


def test_every_reference_names_its_authors() -> None:
    # The reference list is exempt from the Chinese report's English-prose check (titles of English publications), so
    # its author field must hold author names only — "Surname INITIALS" separated by commas, optionally "et al." —
    # never a note in English standing in for them.
    from mmemd.report._citations import REFERENCES

    author = r"[A-Z][A-Za-zÀ-ɏ'\-]*(?: [a-z]{1,3})?(?: [A-Z][A-Za-zÀ-ɏ'\-]*)* [A-Z]{1,4}"
    pattern = re.compile(rf"{author}(?:, {author})*(?:, et al)?\.")
    for key, ref in REFERENCES.items():
        assert pattern.fullmatch(ref.authors), (key, ref.authors)
        assert ref.short.split()[0] in ref.authors, (key, ref.short)
