"""`mmemd evidence … --lang zh`: Chinese around the Chinese content, English and JSON output unchanged.

What may stay in Latin letters in a Chinese table is written out here and derived from the data: claim ids (the
user passes them to `show`), source ids and aliases (`--source`), the knowledge-base version, publication titles and
author names, the verbatim quotes and their context (the reviews print some English), the Chinese statements' own
abbreviations, and the user's own query.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import pytest
from typer.testing import CliRunner

from mmemd.advice._engine import DIRECTION_ZH
from mmemd.cli._app import build_app
from mmemd.knowledge import load_glossary
from mmemd.knowledge._models import Category, Design, Direction, Flag, Population
from mmemd.report._i18n import LABELS, VALUES

runner = CliRunner()
app = build_app()
ENV = {"COLUMNS": "160"}
#: a lower-case Latin word of three letters or more (shorter ones: units such as "vs", "n")
WORD = re.compile(r"(?<![A-Za-z])[a-z]{3,}(?![A-Za-z])")
ZH = LABELS["zh"]


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), env=ENV)
    assert result.exit_code == 0, result.output
    return result.stdout


def _words(texts: Iterable[str | None]) -> set[str]:
    return {w for t in texts if t for w in WORD.findall(t)}


def _stray_english(out: str, allowed: set[str]) -> set[str]:
    return set(WORD.findall(out)) - allowed


def _always_allowed(kb) -> set[str]:
    srcs = [kb.source(s) for s in {c.source for c in kb.claims()}]
    return _words([kb.version, *(s.id for s in srcs), *(s.alias for s in srcs), *(s.title_en for s in srcs)])


def _claim_words(kb, claims) -> set[str]:
    """Claim ids, Chinese statements and verbatim quotes with their shown context, study and author names."""
    texts: list[str | None] = []
    for c in claims:
        before, quote, after = kb.context(c, 80)
        texts += [c.id, c.statement_zh, c.quote, before + quote + after, c.study, *c.conflicts_with]
        source = kb.source(c.source)
        texts += [ref.first_author if (ref := source.reference(n)) else None for n in c.references]
    return _words(texts)


@pytest.mark.parametrize("query", ["髓外", "预后", "泊马度胺", "pomalidomide", "CAR-T ORR", "泊马度胺 xyzzy"])
def test_search_zh_has_no_english_words_beyond_ids_quotes_and_the_query(kb, query):
    out = _run("evidence", "search", *query.split(), "--lang", "zh", "-n", "500")
    hits = kb.search(query, limit=500).hits
    allowed = _always_allowed(kb) | _claim_words(kb, [h.claim for h in hits]) | _words([query])
    assert hits and not _stray_english(out, allowed)


def test_search_zh_title_and_columns_are_the_shared_labels(kb):
    out = _run("evidence", "search", "髓外", "--lang", "zh", "-n", "3")
    g = load_glossary()
    assert "“髓外”的检索结果：3条" in out
    for header in (g.term("evidence.column.id", "zh"), g.term("explain.column.result", "zh"), ZH["grade"]):
        assert header in out
    assert f"{g.term('evidence.column.statement', 'zh')} / {ZH['quote']}" in out
    # nothing matches every term: the fallback note is Chinese too
    out = _run("evidence", "search", "泊马度胺", "xyzzy", "--lang", "zh")
    assert g.render("evidence.search.any_term", "zh") in out
    out = _run("evidence", "search", "xyzzy", "--lang", "zh")
    assert out.strip() == "没有与“xyzzy”匹配的证据。"


def test_list_zh_has_no_english_words_beyond_ids_and_statements(kb):
    out = _run("evidence", "list", "--lang", "zh")
    allowed = _always_allowed(kb) | _words(
        [c.id for c in kb.claims()] + [c.statement_zh for c in kb.claims()]
    )
    assert f"共{len(kb)}条证据" in out
    assert not _stray_english(out, allowed)


def test_list_zh_endpoints_are_the_vocabulary_names_and_emd_is_yes_no(kb):
    out = _run("evidence", "list", "--agent", "pomalidomide", "--endpoint", "PR", "--lang", "zh")
    assert kb.vocabulary.endpoints["PR"].zh in out  # 部分缓解率
    assert ZH["emd_specific"] in out and ZH["yes"] in out
    assert "3例" in out  # emdtx-2.2-04: 3 of 7 patients, counted in Chinese units


def test_result_words_zh_are_the_advice_direction_words(kb):
    # every direction a claim can state has its Chinese word, and `list` prints it
    assert set(DIRECTION_ZH) == {d.value for d in Direction}
    shown = {c.direction for c in kb.claims() if c.value is None and c.direction}
    assert shown
    out = _run("evidence", "list", "--lang", "zh")
    for d in shown:
        assert DIRECTION_ZH[d.value] in out
    worse = next(c for c in kb.claims() if c.value is None and c.direction is Direction.worse)
    out = _run("evidence", "show", worse.id, "--lang", "zh")
    assert "更差" in out and "worse" not in out


def test_category_flag_and_population_words_are_in_the_glossary_with_their_english():
    g = load_glossary()
    groups = {
        "evidence.category": [c.value for c in Category],
        "evidence.flag": [f.value for f in Flag],
        "evidence.population_emd": list(Population.model_fields["emd"].annotation.__args__),
    }
    for prefix, values in groups.items():
        for v in values:
            assert g.term(f"{prefix}.{v}", "en") == v
            assert re.search(r"[\u4e00-\u9fff]", g.term(f"{prefix}.{v}", "zh")), (prefix, v)


def test_design_words_zh_are_the_report_values():
    assert all(re.search(r"[\u4e00-\u9fff]", VALUES["zh"][d.value]) for d in Design)


def test_show_zh_fields_for_every_claim_have_no_english_words(kb):
    for claim in kb.claims():
        out = _run("evidence", "show", claim.id, "--lang", "zh")
        allowed = _always_allowed(kb) | _claim_words(kb, [claim])
        assert not _stray_english(out, allowed), claim.id


def test_show_zh_field_labels_and_values(kb):
    claim = kb.get("emdtx-1.1-02")  # bortezomib, ORR 57.1% vs 52.9%, flag ocr_restored
    out = _run("evidence", "show", claim.id, "--lang", "zh")
    g = load_glossary()
    for label in (
        g.term("evidence.column.statement", "zh"),
        g.term("evidence.field.category", "zh"),
        g.term("evidence.category.treatment_outcome", "zh"),
        ZH["endpoint"],
        kb.vocabulary.endpoints["ORR"].zh,
        g.term("evidence.field.interventions", "zh"),
        kb.vocabulary.agents["bortezomib"].zh,
        ZH["population"],
        g.term("evidence.population_emd.mixed", "zh"),
        g.term("evidence.flag.ocr_restored", "zh"),
        "57.1% vs 52.9%（P>0.05）",
        "共144例",
        "原文引文（第439个字符起）",
        ZH["source"],
        ZH["other_sources"],
    ):
        assert label in out, label
    assert claim.statement_en not in out.replace("\n", " ")


def test_stats_zh_names_are_vocabulary_and_glossary_words(kb):
    out = _run("evidence", "stats", "--lang", "zh")
    counts = kb.stats()
    assert f"共{len(kb)}条证据" in out
    for agent in counts["agent"]:
        assert kb.vocabulary.label(agent, "zh") in out
    for cat in counts["category"]:
        assert load_glossary().term(f"evidence.category.{cat}", "zh") in out
    assert not _stray_english(out, _always_allowed(kb))


@pytest.mark.parametrize(
    "args",
    [
        ("search", "髓外", "--json"),
        ("list", "--agent", "pomalidomide", "--json"),
        ("show", "emdtx-2.2-04", "--json"),
        ("stats", "--json"),
    ],
)
def test_json_does_not_depend_on_lang(args):
    en = json.loads(_run("evidence", *args))
    zh = json.loads(_run("evidence", *args, "--lang", "zh"))
    assert en == zh


def test_english_tables_keep_their_wording(kb):
    # the English tables as the command printed them before the Chinese labels were added
    out = _run("evidence", "search", "髓外", "-n", "3")
    assert "3 result(s) for '髓外'" in out
    assert all(h in out for h in ("id", "statement / quote", "result", "grade", "worse", "downregulated"))
    out = _run("evidence", "list", "--agent", "pomalidomide")
    assert "10 claim(s)" in out and "discontinuation_ae" in out and "effective" in out
    out = _run("evidence", "show", "emdtx-1.1-02")
    for text in (
        "statement (en)",
        "endpoint",
        "ORR",
        "Lakshman (unknown)",
        "D (EMD-specific)",
        "ocr_restored",
    ):
        assert text in out
    assert "quote at character 439" in out and "alias emdtx), §1.1" in out
    out = _run("evidence", "stats")
    assert f"{len(kb)} claims" in out and "treatment_outcome" in out


def test_show_unknown_id_zh_error_is_chinese_and_json_error_unchanged():
    result = runner.invoke(app, ["evidence", "show", "pomalidomide", "--lang", "zh"], env=ENV)
    assert result.exit_code == 2
    err = " ".join(result.stderr.split())
    assert err.startswith("错误： 没有编号为“pomalidomide”的证据；是否要查看")
    assert "emdtx-2.2-01" in err and not _stray_english(err, {"pomalidomide", "emdtx"})
    en = runner.invoke(app, ["evidence", "show", "pomalidomide", "--json"], env=ENV)
    zh = runner.invoke(app, ["evidence", "show", "pomalidomide", "--json", "--lang", "zh"], env=ENV)
    assert en.exit_code == zh.exit_code == 2 and en.stderr == zh.stderr
    assert json.loads(zh.stderr)["error"].startswith("no claim with id 'pomalidomide'; did you mean")


def test_every_arm_and_subgroup_has_its_chinese_wording_and_show_prints_it(kb):
    g = load_glossary()
    worded = [a for c in kb.claims() for a in (c.arm, c.comparator_arm, c.population.subgroup) if a]
    assert worded and not {a for a in worded if a.strip() not in g.phrases}
    claim = next(c for c in kb.claims() if c.arm == "IRd (n=351)" and c.comparator_arm == "Rd (n=354)")
    assert "IRd（n=351） vs Rd（n=354）" in _run("evidence", "show", claim.id, "--lang", "zh")
    claim = next(c for c in kb.claims() if c.population.subgroup == "transplant-eligible")
    assert "适合移植" in _run("evidence", "show", claim.id, "--lang", "zh")
