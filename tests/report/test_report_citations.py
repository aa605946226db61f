"""Clinician outputs cite publications by number, never by the knowledge base's claim ids, file names or keys.

Every example × language × format: the text a reader sees (for HTML the page's text and its charts' text, for PDF
the extracted text) holds no claim id, no data-file name and no internal key; every citation number leads to an
evidence entry that exists and names its publication; numbers are given in order of first citation, the same in
every format and language.
"""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from _report_helpers import EXAMPLES, GENERATED, example
from hypothesis import given
from hypothesis import strategies as st

from _system import cjk_font_installed, require_system
from mmemd.report import build_report
from mmemd.report._document import Table, build_document
from mmemd.report._html import render_html
from mmemd.report._i18n import key_label
from mmemd.report._markdown import render_markdown
from mmemd.report._numbers import NUMBER_CITE, Numbering, collapse, expand
from mmemd.report._text import render_text

NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))
CLAIM_ID = re.compile(r"emd(?:tx|rev)-")
FILE_NAME = re.compile(r"[\w-]+\.(?:ya?ml|json|txt|py|toml)\b")
#: an identifier as the record schema or the vocabulary spells it (snake_case, or a dotted record path)
KEY = re.compile(r"\b(?:(?:cytogenetics|labs|diagnosis)\.[a-z0-9_]+|[a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b")
#: how an evidence entry names its publication: a seed review by number, with its section
PUBLICATION = re.compile(r"(?:Review [12]|综述[一二])(?: §[\d.]+)?")


# ---- collapse / expand ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numbers", "text"),
    [
        ([], ""),
        ([3], "3"),
        ([5, 6], "5, 6"),
        ([7, 3, 5, 6], "3, 5–7"),
        ([1, 2, 3, 5, 6, 8, 9, 10, 11], "1–3, 5, 6, 8–11"),
        ([4, 4, 2], "2, 4"),
        ([10, 9, 8, 12], "8–10, 12"),
    ],
)
def test_collapse_writes_runs_of_three_or_more_as_ranges(numbers: list[int], text: str) -> None:
    assert collapse(numbers) == text


@given(st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=30))
def test_collapse_and_expand_round_trip(numbers: list[int]) -> None:
    text = collapse(numbers)
    assert expand(text) == sorted(set(numbers))
    assert NUMBER_CITE.fullmatch(f"[{text}]")


def test_numbering_is_first_sight_order_and_rewrites_only_claim_brackets() -> None:
    nb = Numbering()
    assert nb.cite("a [emdtx-7-05] b [emdrev-5-03, emdtx-7-05, emdtx-7-06]") == "a [1] b [1–3]"
    assert nb.cite("[Major] risk [2] [emdtx-1-01]") == "[Major] risk [2] [4]"
    assert nb.claims == ("emdtx-7-05", "emdrev-5-03", "emdtx-7-06", "emdtx-1-01")


# ---- every example × language × format -----------------------------------------------------------------------------


class _Visible(HTMLParser):
    """The text a reader sees: character data outside <style>/<script> and image alt text, and apart from them the
    text of SVG charts (matplotlib writes each label as a comment beside its glyph paths). Links are recorded with
    their text, and elements with an id with theirs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.charts: list[str] = []
        self.links: list[tuple[str, str]] = []
        self.anchors: dict[str, str] = {}
        self._skip = 0
        self._href: str | None = None
        self._open: list[tuple[str, str | None, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("style", "script"):
            self._skip += 1
        if tag == "a":
            self._href = a.get("href")
            self._link: list[str] = []
        if a.get("alt"):
            self.parts.append(a["alt"] or "")
        src = a.get("src") or ""
        if src.startswith("data:image/svg+xml;base64,"):
            svg = base64.b64decode(src.split(",", 1)[1]).decode("utf-8")
            self.charts.extend(re.findall(r"<!-- (.*?) -->", svg))
        self._open.append((tag, a.get("id"), []))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._link)))
            self._href = None
        while self._open:
            t, ident, text = self._open.pop()
            if ident:
                self.anchors[ident] = "".join(text)
            if self._open:
                self._open[-1][2].extend(text)
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.parts.append(data)
        if self._href is not None:
            self._link.append(data)
        if self._open:
            self._open[-1][2].append(data)


@pytest.fixture(scope="module")
def outputs(kb: Any) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for name in NAMES:
        report = build_report(example(name), kb, GENERATED)
        for lang in ("en", "zh"):
            doc = build_document(report, lang)  # type: ignore[arg-type]
            out[(name, lang)] = {
                "report": report,
                "doc": doc,
                "text": render_text(doc),
                "md": render_markdown(doc),
                "html": render_html(report, lang),  # type: ignore[arg-type]
            }
    return out


def _clean(visible: str) -> None:
    assert CLAIM_ID.findall(visible) == []
    assert FILE_NAME.findall(visible) == []
    keys = [k for k in KEY.findall(visible) if k != "e.g"]
    assert keys == [], [(k, key_label("en", k)) for k in keys]


def _without_quotes(visible: str, doc: Any) -> str:
    """The text without the verbatim quotes: a review's own reference marks ("荟萃分析发现[33]") are the review's,
    quoted as printed (each entry names them: "citing its ref. 33"), not the report's citations."""
    quotes = {
        row[i]
        for sec in doc.sections
        for b in sec.blocks
        if isinstance(b, Table)
        for row in b.rows
        for i in b.quote_cols
    }
    for quote in sorted(quotes, key=len, reverse=True):  # a quote may begin with a shorter one
        visible = visible.replace(quote, "")
    return visible


def _first_citation_order(visible: str) -> list[int]:
    """The citation numbers in reading order, checked to be given 1, 2, 3 … on first sight."""
    seen: list[int] = []
    for m in NUMBER_CITE.finditer(visible):
        for n in expand(m.group(1)):
            if n not in seen:
                assert n == len(seen) + 1, (n, seen[-5:])
                seen.append(n)
    return seen


def _entries(doc: Any) -> dict[str, list[tuple[str, str]]]:
    """Each evidence entry's number and publication, by claim id."""
    out: dict[str, list[tuple[str, str]]] = {}
    for sec in doc.sections:
        for b in sec.blocks:
            if isinstance(b, Table) and b.quote_cols:
                for rid, row in zip(b.row_ids, b.rows, strict=True):
                    out.setdefault(rid, []).append((row[0], row[1]))
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", NAMES)
def test_text_and_markdown_cite_numbered_publications(name: str, lang: str, outputs: Any) -> None:
    o = outputs[(name, lang)]
    doc = o["doc"]
    entries = _entries(doc)
    # every cited claim has an entry headed by its number, naming the publication
    assert set(doc.citations) == set(entries)
    for number, cid in enumerate(doc.citations, 1):
        for head, pub in entries[cid]:
            assert head == f"[{number}]"
            assert PUBLICATION.match(pub), pub
    for fmt in ("text", "md"):
        visible = o[fmt].replace("\\", "")  # Markdown escapes the brackets
        _clean(visible)
        visible = _without_quotes(visible, doc)
        order = _first_citation_order(visible)
        assert order == list(range(1, len(doc.citations) + 1))
        for number in order:
            pub = PUBLICATION.pattern
            head = rf"^\s*- \[{number}\] · \S+ {pub}" if fmt == "text" else rf"^\| \[{number}\] \| {pub}"
            assert re.search(head, visible, re.M), (fmt, number)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", NAMES)
def test_html_links_each_number_to_its_entry(name: str, lang: str, outputs: Any) -> None:
    o = outputs[(name, lang)]
    doc = o["doc"]
    page = _Visible()
    page.feed(o["html"])
    visible = "".join(page.parts)
    _clean(visible + "\n".join(page.charts))
    visible = _without_quotes(visible, doc)
    assert _first_citation_order(visible) == list(range(1, len(doc.citations) + 1))
    linked: set[int] = set()
    for href, text in page.links:
        assert href.startswith("#claim-")
        cid = href[len("#claim-") :]
        number = doc.citations.index(cid) + 1
        assert text == str(number)
        assert page.anchors[href[1:]] == f"[{number}]"  # the entry heading, headed by the same number
        linked.add(number)
    # every number cited (not an entry's own heading "[6] · Source …") is a link; a range links its two ends
    cited = re.sub(r"\[\d+\](?= · )", "", visible)
    shown = {n for m in NUMBER_CITE.finditer(cited) for n in expand(m.group(1))}
    ends = {int(x) for m in NUMBER_CITE.finditer(cited) for x in re.split(r", |–", m.group(1))}
    assert shown and ends == linked


def test_numbering_is_the_same_in_both_languages_and_every_run(outputs: Any, kb: Any) -> None:
    for name in NAMES:
        en, zh = outputs[(name, "en")]["doc"], outputs[(name, "zh")]["doc"]
        assert en.citations == zh.citations
        again = build_document(build_report(example(name), kb, GENERATED), "en")
        assert again.citations == en.citations


def test_a_claim_cited_in_the_summary_comes_first(outputs: Any) -> None:
    doc = outputs[("triple-class-refractory-emd", "en")]["doc"]
    top = doc.sections[0]
    assert top.id == "summary"
    a = outputs[("triple-class-refractory-emd", "en")]["report"].assessment
    # the first option's key result is the first citation of page one's options table
    assert doc.citations[0] == a.options[0].key_results[0].claim


def test_a_bracket_of_numbers_in_free_text_is_not_linked(outputs: Any) -> None:
    from mmemd.report._html import _linker

    cite = _linker(("emdtx-7-05", "emdtx-7-06"), frozenset({"emdtx-7-05", "emdtx-7-06"}))
    assert str(cite("site [1, 2]")) == (
        'site <span class="nobr">[<a class="cite" href="#claim-emdtx-7-05">1</a>, '
        '<a class="cite" href="#claim-emdtx-7-06">2</a>]</span>'
    )
    assert str(cite("lesion [7]")) == "lesion [7]"  # no entry 7: text, not a dead link


# The PDF is the HTML above laid out by WeasyPrint, which every example already passes; four examples of different
# pathways (refractory EMD, PCL, solitary plasmacytoma, newly diagnosed) check what the laid-out pages show, at a tenth
# of the CPU of all forty PDFs.
PDF_NAMES = [
    "triple-class-refractory-emd",
    "pcl-primary-pleural",
    "solitary-bone-plasmacytoma",
    "ndmm-mrd-negative-cr",
]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", PDF_NAMES)
def test_pdf_cites_numbers_not_ids(name: str, lang: str, outputs: Any) -> None:
    if lang == "zh":
        require_system("fonts-noto-cjk", cjk_font_installed, "Chinese glyphs in the PDF")
    from pypdf import PdfReader

    from mmemd.report._pdf import render_pdf

    o = outputs[(name, lang)]
    pdf = render_pdf(o["report"], lang)  # type: ignore[arg-type]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    _clean(text.replace("\n", ""))
    entries = _entries(o["doc"])
    for number, cid in enumerate(o["doc"].citations, 1):
        assert f"[{number}]" in text
        assert any(PUBLICATION.match(pub) for _, pub in entries[cid])


def test_examples_are_found() -> None:
    assert len(NAMES) >= 20 and all(Path(EXAMPLES / f"{n}.json").is_file() for n in NAMES)
    assert set(PDF_NAMES) <= set(NAMES)


# ---- the words in place of keys, the publication of an entry -------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "text", "plain"),
    [
        (
            "en",
            "refractory to bcma_car_t: progression",
            "refractory to anti-BCMA CAR-T cell therapy: progression",
        ),
        ("en", "LDH at diagnosis not recorded (labs.ldh)", "LDH at diagnosis not recorded (LDH)"),
        (
            "en",
            "myeloma-defining events: bone_lesions, anemia",
            "myeloma-defining events: bone lesions, anemia",
        ),
        ("zh", "L1 (soft_tissue)", "L1 (软组织)"),
        # not one of ours: left as written (a record's own identifier, a word with an underscore)
        ("en", "lesion my_lesion_7 in e.g. note", "lesion my_lesion_7 in e.g. note"),
    ],
)
def test_plain_keys_says_known_keys_in_words(lang: str, text: str, plain: str) -> None:
    from mmemd.report._i18n import plain_keys

    assert plain_keys(text, lang) == plain  # type: ignore[arg-type]


def test_publication_names_review_section_study_and_reference(kb: Any) -> None:
    from mmemd.report._document import publication
    from mmemd.report._model import evidence_row

    def pub(cid: str, lang: str) -> str:
        return publication(evidence_row(kb.get(cid), kb), lang)  # type: ignore[arg-type]

    # a study the review cites by its first author
    assert pub("emdtx-7-08", "en") == "Review 1 §7 CAR-T, citing Deng et al. (its ref. 34)"
    assert pub("emdtx-7-08", "zh") == "综述一 §7 CAR-T，所引Deng等（原文献34）"
    # a trial named by the review (not an author: no "et al.")
    assert pub("emdtx-4.2-02", "en").endswith(", citing IKEMA (its ref. 18)")
    # several references and no named study: the numbers alone, a run as a range
    assert pub("emdtx-7-10", "en") == "Review 1 §7 CAR-T, citing its refs 32–34"
    assert pub("emdtx-7-10", "zh") == "综述一 §7 CAR-T（原文献32–34）"
    # an unnumbered part of a review, citing nothing
    assert pub("emdtx-intro-09", "zh") == "综述一 引言"
