"""Search in Chinese and English (泊马度胺, pomalidomide, CAR-T ORR, 中枢神经系统, 髓外, 预后)."""

from __future__ import annotations

import pytest

from mmemd.knowledge import UnknownTermError
from mmemd.knowledge._text import find_spans, index_text, mark, tokens


def _ids(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.claim.id for h in result.hits]


@pytest.mark.parametrize("query", ["泊马度胺", "pomalidomide", "Pomalyst", "POMALIDOMIDE"])
def test_drug_names_in_either_language_find_the_same_claims(kb, query):
    expected = {c.id for c in kb.claims(agent="pomalidomide")}
    found = set(_ids(kb.search(query, limit=100)))
    assert expected <= found, expected - found


def test_chinese_and_english_queries_for_one_agent_agree(kb):
    assert set(_ids(kb.search("泊马度胺", limit=100))) == set(_ids(kb.search("pomalidomide", limit=100)))


def test_car_t_orr_requires_both_terms_and_ranks_car_t_response_rates_first(kb):
    result = kb.search("CAR-T ORR", limit=5)
    assert result.matched == "all"
    top = result.hits[0].claim
    assert "bcma_car_t" in top.interventions or "car_t" in top.interventions
    assert top.endpoint == "ORR"


@pytest.mark.parametrize("term", ["髓外", "预后", "中枢神经系统", "肝"])
def test_short_chinese_terms_match_as_exact_substrings(kb, term):
    """Two-character (and one-character) terms work: a trigram index alone would miss them.

    Complete: every claim whose quote or Chinese statement contains the term (OCR line breaks ignored) is found.
    """
    found = set(_ids(kb.search(term, limit=1000)))
    expected = {
        c.id
        for c in kb.claims()
        if term in "".join(c.quote.split()) or term in "".join(c.statement_zh.split())
    }
    assert expected, term
    assert expected <= found, sorted(expected - found)


def test_cns_search_finds_the_cns_prognosis_claims(kb):
    hits = kb.search("中枢神经系统", limit=50).hits
    texts = " ".join(h.claim.statement_en.lower() for h in hits)
    assert "central nervous system" in texts or "cns" in texts
    # every hit shows the match in at least one field
    assert all(any(spans for spans in h.spans.values()) or "cns" in h.claim.subjects for h in hits)


def test_chinese_terms_match_across_the_ocr_line_breaks(kb):
    # emdtx prints "复发难治多发\n\n性骨髓瘤": a phrase query over characters ignores the break.
    result = kb.search("复发难治多发性骨髓瘤", limit=50)
    assert any("复发难治多发\n\n性骨髓瘤" in h.claim.quote for h in result.hits)


def test_latin_prefix_matches_a_word_typed_in_part(kb):
    assert set(_ids(kb.search("lenalid", limit=100))) >= {c.id for c in kb.claims(agent="lenalidomide")}


def test_falls_back_to_any_term_and_says_so(kb):
    result = kb.search("pomalidomide zzzqqq", limit=5)
    assert result.matched == "any"
    assert result.hits


def test_no_match_is_an_empty_result_not_an_error(kb):
    result = kb.search("zzzqqq")
    assert result.matched == "none" and result.hits == []


def test_empty_query_is_an_error(kb):
    with pytest.raises(ValueError, match="empty query"):
        kb.search("  ，。 ")


def test_results_are_ranked_best_first(kb):
    scores = [h.score for h in kb.search("daratumumab EMD", limit=20).hits]
    assert scores == sorted(scores, reverse=True)


def test_highlight_spans_point_at_the_matched_text():
    text = "抗 BCMA CAR-T 治疗的 RRMM\n\n患者 ORR为 81%"
    spans = find_spans(text, ["car-t", "orr"])
    assert [text[s:e] for s, e in spans] == ["CAR-T", "ORR"]
    assert mark(text, spans) == "抗 BCMA «CAR-T» 治疗的 RRMM\n\n患者 «ORR»为 81%"
    assert [text[s:e] for s, e in find_spans(text, ["RRMM患者"])] == ["RRMM\n\n患者"]


def test_index_tokens_split_chinese_into_characters_and_fold_full_width():
    assert tokens("泊马度胺 Ｐｏｍａ-lidomide") == ["泊", "马", "度", "胺", "poma", "lidomide"]
    assert index_text("NF-κB") == "nf κb"


def test_filters_combine_and_resolve_names(kb):
    dara_orr = kb.claims(agent="达雷妥尤单抗", endpoint="ORR")
    assert dara_orr and all(c.endpoint == "ORR" for c in dara_orr)
    assert all("daratumumab" in (*c.interventions, *c.comparator) for c in dara_orr)
    emd = kb.claims(emd_only=True)
    assert emd and all(c.emd_specific for c in emd)
    assert {c.source for c in kb.claims(source="emdrev")} == {"001_6783fd492135ebec"}


def test_a_class_filter_reaches_its_members(kb):
    imid = {c.id for c in kb.claims(agent="imid")}
    assert {c.id for c in kb.claims(agent="pomalidomide")} <= imid
    assert {c.id for c in kb.claims(agent="thalidomide")} <= imid


def test_a_regimen_component_is_found_by_agent(kb):
    # IRd claims name the regimen; asking for ixazomib finds them.
    ird = [c for c in kb.claims() if c.regimen == "ird"]
    assert ird
    assert {c.id for c in ird} <= {c.id for c in kb.claims(agent="ixazomib")}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"agent": "nodrug"}, "unknown agent"),
        ({"endpoint": "XYZ"}, "unknown endpoint"),
        ({"category": "x"}, "unknown category"),
        ({"source": "nope"}, "unknown source"),
    ],
)
def test_unknown_filter_values_are_errors_that_list_the_known_ones(kb, kwargs, message):
    with pytest.raises(UnknownTermError, match=message):
        kb.claims(**kwargs)


def test_python_api_of_the_issue(kb):
    from mmemd import knowledge

    claims = knowledge.load().claims(agent="pomalidomide", endpoint="ORR")
    assert claims and all(c.endpoint == "ORR" for c in claims)
    assert kb.version.startswith("kb-") and "+sha256:" in kb.version


def test_context_returns_the_quote_in_its_surroundings(kb):
    claim = kb.get("emdtx-1.1-02") if "emdtx-1.1-02" in kb else kb.claims()[0]
    before, quote, after = kb.context(claim, 30)
    assert quote == claim.quote
    text = kb.source_text(claim.source)
    assert text[claim.offset - len(before) : claim.offset + len(quote) + len(after)] == before + quote + after


def test_get_unknown_claim_raises_key_error(kb):
    with pytest.raises(KeyError):
        kb.get("emdtx-9.9-99")
