"""The PDF's HTML parser (mmemd.report._pdf.parse_report_html): for the report's own HTML it must build the very tree
WeasyPrint's HTML5 parser (tinyhtml5) builds, and give up (None, WeasyPrint's parser then) on anything else."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
import tinyhtml5  # type: ignore[import-untyped]  # a WeasyPrint dependency, untyped
from _report_helpers import example

from mmemd.report import build_report
from mmemd.report._html import render_html
from mmemd.report._pdf import parse_report_html

EXAMPLES = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "examples").glob("*.json"))


def _same_tree(html: str) -> bool:
    mine = parse_report_html(html)
    assert mine is not None
    theirs = tinyhtml5.parse(html, namespace_html_elements=False)
    return bool(
        ElementTree.tostring(mine, encoding="unicode") == ElementTree.tostring(theirs, encoding="unicode")
    )


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("patient", EXAMPLES)
def test_report_html_parses_to_weasyprints_tree(patient: str, lang: str, kb, generated) -> None:  # type: ignore[no-untyped-def]
    report = build_report(example(patient), kb, generated)
    charts = patient == "emd-liver-rrmm-pr"  # the chart images' markup once; drawing them all would be slow
    html = render_html(report, lang, charts=charts, chart_format="jpeg", inline_css=False, chart_store={})  # type: ignore[arg-type]
    assert _same_tree(html)


def test_html_with_inline_css_and_entities_parses_the_same() -> None:
    html = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<style>p { color: red }</style>\n'
        "</head>\n<body>\n<p>a &amp; b &lt;c&gt; &#8212; <br>x</p>\n<table><tbody>\n<tr><td>1</td></tr>\n"
        "</tbody></table>\n</body>\n</html>\n"
    )
    assert _same_tree(html)


@pytest.mark.parametrize(
    "html",
    [
        "<html><head></head><body><p>a<div>b</div></p></body></html>",  # a block in a paragraph
        "<html><head></head><body><!-- c --></body></html>",
        "<html><head></head><body><p>a</body></html>",  # an unclosed element
        "<html><head></head><body><table>x<tr><td>1</td></tr></table></body></html>",  # text in a table
        "<html><body><p>a</p></body></html>",  # no head
        "<p>a</p>",
        "<html><head></head><body></body></html><p>after</p>",
        "<html><head></head><body><ul><li>a<li>b</ul></body></html>",
    ],
)
def test_other_html_is_left_to_weasyprints_parser(html: str) -> None:
    assert parse_report_html(html) is None
