"""The HTML report's structure: a strict HTML5 parse, one h1, everything inline, no URL, language declared, every
cited claim present, in-page links resolve, tables with header scopes."""

from __future__ import annotations

import base64
import re
from typing import Any

import html5lib
import pytest
from _report_helpers import example

from mmemd.report import build_report, render_report
from mmemd.report._document import Table, build_document
from mmemd.report._html import render_html

NS = "{http://www.w3.org/1999/xhtml}"
PATIENTS = (
    "emd-liver-rrmm-pr",
    "emd-skin-new-lesion-progression",
    "single-lesion-unknown-marrow-indeterminate",
)


@pytest.fixture(scope="module")
def pages(kb, generated) -> dict[tuple[str, str], str]:  # type: ignore[no-untyped-def]
    return {
        (p, lang): str(render_report(example(p), lang=lang, fmt="html", kb=kb, generated=generated))
        for p in PATIENTS
        for lang in ("en", "zh")
    }


def _parse(html: str) -> Any:
    # strict=True raises on the first parse error (bad nesting, stray end tag, missing doctype ...).
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=True).parse(html)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("patient", PATIENTS)
def test_structure(patient: str, lang: str, pages, kb, generated) -> None:  # type: ignore[no-untyped-def]
    html = pages[(patient, lang)]
    root = _parse(html)
    assert root.get("lang") == {"en": "en", "zh": "zh-Hans"}[lang]
    assert len(root.findall(f".//{NS}h1")) == 1
    assert next(h.text for h in root.findall(f".//{NS}h2")).startswith("1. ")
    # Self-contained: no external reference of any kind.
    assert not re.search(r"https?://", html)
    assert not root.findall(f".//{NS}link") and not root.findall(f".//{NS}script")
    for img in root.findall(f".//{NS}img"):
        assert img.get("src", "").startswith("data:image/"), img.get("src", "")[:40]
        assert img.get("alt")
    for style in root.findall(".//*[@style]"):
        assert "url(" not in style.get("style", "")
    # Tables: every header cell scoped, column headers in thead.
    for th in root.findall(f".//{NS}th"):
        assert th.get("scope") in ("col", "row")
    # In-page links point at an element that exists; ids are unique.
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    for a in root.findall(f".//{NS}a"):
        href = a.get("href", "")
        assert href.startswith("#") and href[1:] in ids
    # Every claim the report cites appears in it, with a table row anchored on it when it has evidence.
    report = build_report(example(patient), kb, generated)
    for cid in report.cited_claims:
        assert cid in html
    rows = {o_row.claim for o in report.options for o_row in o.rows} | {r.claim for r in report.other_claims}
    for cid in rows:
        assert f'id="claim-{cid}"' in html


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_evidence_row_shows_every_field_with_its_label(lang: str, pages, kb, generated) -> None:  # type: ignore[no-untyped-def]
    """An evidence row is a block, not a table row: its labelled line must still carry every column (number,
    publication, grade, design, n, endpoint, value) and the verbatim quote, in the order the document lists them."""
    patient = "emd-liver-rrmm-pr"
    doc = build_document(build_report(example(patient), kb, generated), lang)  # type: ignore[arg-type]
    tables = [b for s in doc.sections for b in s.blocks if isinstance(b, Table) and b.quote_cols]
    expected = [
        (t.header, row, t.quote_cols, rid) for t in tables for row, rid in zip(t.rows, t.row_ids, strict=True)
    ]
    blocks = [
        d for d in _parse(pages[(patient, lang)]).iter(f"{NS}div") if "ev" in (d.get("class") or "").split()
    ]
    assert len(blocks) == len(expected) > 50
    for div, (header, row, quote_cols, rid) in zip(blocks, expected, strict=True):
        meta, *quotes = div.findall(f"{NS}p")
        line = "".join(meta.itertext())
        assert line.startswith(row[0])  # the entry's number first
        # the link target is the number, not the block (WeasyPrint styles an element with an id, and all inside
        # it, apart from its like elements)
        assert div.get("id") is None
        claim = meta.find(f"{NS}strong")
        assert claim is not None and "".join(claim.itertext()) == row[0]
        assert claim.get("id") in (None, f"claim-{rid}")
        for i, cell in enumerate(row):
            if i in quote_cols:
                continue
            if i:
                assert f"{header[i]} {cell}" in line, (header[i], cell, line)
        assert [("".join(q.itertext()), q.get("lang")) for q in quotes] == [
            (row[i], "zh-Hans") for i in quote_cols
        ]


def test_chinese_report_declares_a_cjk_font_stack(pages) -> None:  # type: ignore[no-untyped-def]
    html = pages[("emd-liver-rrmm-pr", "zh")]
    assert '<html lang="zh-Hans" class="zh">' in html
    assert '"Noto Sans CJK SC"' in html
    assert "髓外（EM-E，不与骨相连）" in html  # the classification, in Chinese
    assert "仅为" in html or "不构成处方" in html  # the disclaimer, in Chinese
    # The verbatim quotes are marked as Chinese in the English report too.
    assert 'class="quote" lang="zh-Hans"' in pages[("emd-liver-rrmm-pr", "en")]


def test_print_css_keeps_page_one_alone_and_rows_whole(pages) -> None:  # type: ignore[no-untyped-def]
    html = pages[("emd-liver-rrmm-pr", "en")]
    assert "@page" in html and "break-before: page" in html and "break-inside: avoid" in html
    root = _parse(html)
    sections = root.findall(f".//{NS}section")
    assert sections[0].get("id") == "summary" and "new-page" not in (sections[0].get("class") or "")
    assert "new-page" in (sections[1].get("class") or "")


def test_charts_are_inline_svg_without_external_references(pages) -> None:  # type: ignore[no-untyped-def]
    html = pages[("emd-liver-rrmm-pr", "zh")]
    svgs = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert len(svgs) == 2  # response over time, response rates
    for b64 in svgs:
        svg = base64.b64decode(b64).decode("utf-8")
        assert svg.startswith("<svg")
        # Only the SVG and XLink namespace names, which are identifiers, never fetched.
        assert set(re.findall(r"https?://[^\s\"<]+", svg)) <= {
            "http://www.w3.org/2000/svg",
            "http://www.w3.org/1999/xlink",
        }
        assert "<text" not in svg  # glyphs drawn as paths: no font needed wherever the file is opened


def test_evidence_chart_states_it_is_not_head_to_head(pages) -> None:  # type: ignore[no-untyped-def]
    html = pages[("emd-liver-rrmm-pr", "en")]
    assert "not a head-to-head comparison" in html
    assert "并非头对头比较" in pages[("emd-liver-rrmm-pr", "zh")]


def test_missing_chart_panels_are_explained(kb, generated) -> None:  # type: ignore[no-untyped-def]
    html = str(
        render_report(
            example("ndmm-no-emd-deepening-vgpr"), lang="en", fmt="html", kb=kb, generated=generated
        )
    )
    assert "Plasmacytoma panel omitted: no plasmacytoma measurement" in html
    none = render_html(
        build_report(example("single-lesion-unknown-marrow-indeterminate"), kb, generated), "en"
    )
    assert "Response chart omitted: the record has no serial response assessments." in none
    assert "<img" not in none
