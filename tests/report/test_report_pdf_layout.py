"""PDF tables break lines between words (or with a hyphen), never inside a word, a citation or a value with its unit.

The PDF's extracted text keeps the line breaks of the layout, so a word split as ``retrospe`` / ``ctive`` shows up as
``retrospe\\nctive``.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from _report_helpers import GENERATED, example

from _system import cjk_font_installed, require_system
from mmemd.report import render_report

WORDS = (
    "retrospective",
    "prospective",
    "indirect",
    "comparison",
    "randomised",
    "progression-free",
    "meta-analysis",
)
CLAIM_ID = re.compile(r"(?:emdtx|emdrev)-[a-z0-9.]+-\d{2}")
CITATION = re.compile(r"\[\d+(?:–\d+)?(?:, \d+(?:–\d+)?)*\]")


@pytest.fixture(scope="module")
def pdf_text(kb: Any) -> str:
    from pypdf import PdfReader

    out = render_report(example("emd-liver-rrmm-pr"), lang="en", fmt="pdf", kb=kb, generated=GENERATED)
    assert isinstance(out, bytes)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(out)).pages)


def test_no_word_is_split_without_a_hyphen(pdf_text: str) -> None:
    splits = [
        w[:k] + "|" + w[k:]
        for w in WORDS
        for k in range(2, len(w) - 1)
        if not w[:k].endswith("-") and f"{w[:k]}\n{w[k:]}" in pdf_text
    ]
    assert splits == []


def test_citations_are_numbers_never_split_nor_claim_ids(pdf_text: str) -> None:
    # Claims are cited by number ([3, 5–7]); a bracket of numbers is one unbreakable token, like a value with its unit.
    assert CLAIM_ID.findall(pdf_text.replace("\n", "")) == []
    assert len(CITATION.findall(pdf_text)) > 20
    assert re.findall(r"\[[\d, –]*\n", pdf_text) == []
    assert re.findall(r"\d\s*(?:m?g|mmol|U)/\s*\n", pdf_text) == []


def test_chinese_pdf_cites_numbers_not_claim_ids(kb: Any) -> None:
    require_system("fonts-noto-cjk", cjk_font_installed, "Chinese glyphs in the PDF")
    from pypdf import PdfReader

    out = render_report(
        example("emd-skin-new-lesion-progression"), lang="zh", fmt="pdf", kb=kb, generated=GENERATED
    )
    assert isinstance(out, bytes)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(out)).pages)
    assert CLAIM_ID.findall(text.replace("\n", "")) == []
    assert CITATION.findall(text) and re.findall(r"\[[\d, –]*\n", text) == []
