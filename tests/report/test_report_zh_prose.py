"""A Chinese report has no English prose: every example rendered in zh (text, Markdown, HTML) is searched for
lower-case Latin words (tests/_zh_prose.py says what is allowed and why)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from _report_helpers import EXAMPLES, GENERATED, example

from _zh_prose import english_prose as _english_prose
from _zh_prose import record_identifiers
from mmemd.knowledge import load_glossary
from mmemd.report import render_report

NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))


def english_prose(text: str, kb: Any, record: dict[str, Any]) -> list[str]:
    return _english_prose(text, kb, record_identifiers(record))


def _visible_html(page: str) -> str:
    page = re.sub(r"(?is)<(style|script|svg)\b.*?</\1>", " ", page)
    page = re.sub(r"(?is)<!--.*?-->", " ", page)
    page = re.sub(r"(?s)<[^>]+>", " ", page)
    return html.unescape(page)


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
@pytest.mark.parametrize("name", NAMES)
def test_chinese_report_has_no_english_prose(kb: Any, name: str, fmt: str) -> None:
    record = example(name)
    out = render_report(record, lang="zh", fmt=fmt, kb=kb, generated=GENERATED)
    assert isinstance(out, str)
    text = _visible_html(out) if fmt == "html" else out
    words = english_prose(text, kb, record)
    assert words == [], f"{name} ({fmt}): English words in the Chinese report: {sorted(set(words))}"


def test_the_check_finds_english_prose(kb: Any) -> None:
    """The check can fail: an English phrase slipped into Chinese text is found, an abbreviation is not."""
    record = example(NAMES[0])
    assert english_prose("疾病对daratumumab耐药（refractory to daratumumab (line 2)）", kb, record) == [
        "daratumumab",
        "refractory",
        "to",
        "daratumumab",
        "line",
    ]
    assert (
        english_prose("ORR 85.2%，CAR-T，del(17p)，3.9个月 vs 9.3个月，β2微球蛋白 6.1 mg/L", kb, record) == []
    )


def test_glossary_has_one_wording_per_term() -> None:
    g = load_glossary()
    for key, term in g.terms.items():
        assert set(term) == {"en", "zh"}, key
    for key, template in g.templates.items():
        assert set(template) == {"en", "zh"}, key
        assert set(re.findall(r"{(\w+)}", template["en"])) == set(re.findall(r"{(\w+)}", template["zh"])), key
    assert Path(__file__).exists()


#: What a clinician must never see: file names, provenance tags, internal reference keys (GREIPP05, EMD-Tx).
INTERNALS = re.compile(r"\S*\.md\b|\[[MI]\]|［[MI]］|\b[A-Z]{3,}[0-9]{2}\b|EMD-Tx|\.\./shared")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", NAMES)
def test_report_cites_publications_not_internals(kb: Any, name: str, lang: str) -> None:
    out = render_report(example(name), lang=lang, fmt="md", kb=kb, generated=GENERATED)
    assert isinstance(out, str)
    assert INTERNALS.findall(out) == []
    assert "doi:10." in out  # the reference list gives DOIs


def test_every_prognosis_population_has_its_chinese_wording(kb: Any) -> None:
    """Held-out check beyond the examples: each prognosis rule's population, as any record would show it."""
    from mmemd.advice import load_rules

    g = load_glossary()
    for rule in load_rules().prognosis:
        if rule.figure_claim:
            c = kb.get(rule.figure_claim)
            parts = [p for p in (c.population.subgroup, c.arm, c.comparator_arm) if p]
            for part in parts:
                zh = g.phrase(part, "zh")
                assert english_prose(zh, kb, {"id": "-", "lesions": []}) == [], (
                    f"{rule.id}: no Chinese for {part!r}"
                )
        elif rule.figure is not None:
            zh = g.population(rule.figure.population, "zh")
            assert english_prose(zh, kb, {"id": "-", "lesions": []}) == [], (
                f"{rule.id}: {rule.figure.population!r}"
            )


def _variant(change: str) -> dict[str, Any]:
    import copy

    r = copy.deepcopy(example("emd-liver-rrmm-pr"))
    if change == "cns":
        r["lesions"][0].update(site="cns", cns=True, confirmed_by="csf_flow_cytometry")
    elif change == "lenalidomide_refractory":
        r["therapy_history"][1].update(agents=["lenalidomide", "carfilzomib", "dexamethasone"])
        r["therapy_history"][1]["refractory_agents"] = ["lenalidomide"]
    elif change == "cytogenetics":
        r["cytogenetics"].update(t_4_14=True, tp53_mutation=True, del_1p32="biallelic")
    elif change == "older_imaging_only":
        r["age"] = 72
        r["lesions"][0].update(site="kidney", biopsy_proven=False)
    elif change == "newly_diagnosed":
        r.update(phase="newly_diagnosed", transplant_eligible=True, age=50)
        r.pop("therapy_history")
    return r


@pytest.mark.parametrize(
    "change", ["cns", "lenalidomide_refractory", "cytogenetics", "older_imaging_only", "newly_diagnosed"]
)
def test_held_out_records_have_no_english_prose(kb: Any, change: str) -> None:
    """Records that are not among the examples: other sites, refractoriness, cytogenetics, age and phase."""
    record = _variant(change)
    out = render_report(record, lang="zh", fmt="text", kb=kb, generated=GENERATED)
    assert isinstance(out, str)
    assert english_prose(out, kb, record) == []
