"""A Chinese report has no English prose: every example rendered in zh (text, Markdown, HTML) is searched for
lower-case Latin words, which is what English prose is made of (a list of known English words would miss new ones).

Allowed, and removed before the search: the verbatim quotes of the claims (source text), claim ids, the reference
list's entries (titles of cited English publications), the record's own identifiers, version strings, and a short
list of abbreviations and units that Chinese clinical writing keeps in Latin letters (``ALLOWED``). Capitalised words
(trial and author names, CR, VGPR, ORR, CAR-T, Isa-Kd) are not prose by this test's definition.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from _report_helpers import EXAMPLES, GENERATED, example

from mmemd.knowledge import load_glossary, vocabulary
from mmemd.report import render_report
from mmemd.report._citations import REFERENCES, REVIEWS, reference_text
from mmemd.report._model import normalize_quote

#: Abbreviations and units kept in Latin letters in Chinese clinical text.
ALLOWED = frozenset({"vs", "del", "mg", "cm", "mmol", "kg", "mmemd"})
#: A lower-case Latin word, not part of a longer word (accented Latin letters count as letters: Rosiñol).
WORD = re.compile(r"(?<![A-Za-z0-9_\u00c0-\u024f])[a-z][a-z]+(?:[-_][a-z]+)*(?![A-Za-z0-9\u00c0-\u024f])")
CLAIM_ID = re.compile(r"\b(?:emdtx|emdrev)-[A-Za-z0-9.]+-\d+\b")
KB_VERSION = re.compile(r"kb-[0-9.]+\+sha256:[0-9a-f]+")
NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))


def _latin_terms() -> set[str]:
    """Names the vocabulary itself gives in Latin letters for Chinese (an INN without an NMPA name)."""
    vocab = vocabulary()
    out: set[str] = set()
    tables = (vocab.classes, vocab.agents, vocab.procedures, vocab.regimens, vocab.biomarkers, vocab.sites)
    for table in tables:
        for term in table.values():
            out.update(WORD.findall(getattr(term, "zh", "") or ""))
    return out


def english_prose(text: str, kb: Any, record: dict[str, Any]) -> list[str]:
    for c in kb.claims():
        quote = normalize_quote(c.quote)
        if quote:
            text = text.replace(quote, " ").replace(html.escape(quote, quote=False), " ")
    for key in REFERENCES:
        text = text.replace(reference_text(key), " ").replace(
            html.escape(reference_text(key), quote=False), " "
        )
    for review in REVIEWS.values():
        text = text.replace(review["en"], " ")
    for ident in [record["id"], *(les["id"] for les in record.get("lesions", []))]:
        text = text.replace(ident, " ")
    text = KB_VERSION.sub(" ", CLAIM_ID.sub(" ", text))
    allowed = ALLOWED | _latin_terms()
    return [w for w in WORD.findall(text) if w not in allowed]


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
