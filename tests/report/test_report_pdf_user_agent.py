"""The PDF's cut-down user-agent stylesheet (mmemd.report._pdf): it may drop only rules that cannot match the report,
so the pages must be the same as with WeasyPrint's whole user-agent stylesheet, and the report's HTML must not use an
element the cut stylesheet does not know."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from _report_helpers import example

from _system import cjk_font_installed, has_executable, require_system
from mmemd.report import build_report, render_report
from mmemd.report._i18n import Lang
from mmemd.report._pdf import REPORT_TAGS, render_pdf, user_agent_css

PATIENTS = (
    "emd-liver-rrmm-pr",
    "emd-skin-new-lesion-progression",
    "single-lesion-unknown-marrow-indeterminate",
)
_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)[\s>/]")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("patient", PATIENTS)
def test_report_html_uses_only_elements_the_pdf_stylesheet_knows(
    patient: str, lang: str, kb, generated
) -> None:  # type: ignore[no-untyped-def]
    html = render_report(example(patient), lang=lang, fmt="html", kb=kb, generated=generated)
    assert isinstance(html, str)
    used = {t.lower() for t in _TAG.findall(html)}
    assert {"html", "div", "p", "span", "li"} <= used  # the pattern finds elements at all
    assert used <= REPORT_TAGS, sorted(used - REPORT_TAGS)


def test_cut_stylesheet_keeps_the_rules_for_report_elements_and_drops_the_others() -> None:
    css = user_agent_css()
    assert "td, th { padding: 1px }" in css
    assert "li { display: list-item }" in css
    assert "@page" in css and "@counter-style disc" in css
    assert "textarea" not in css and "input" not in css and "dd {" not in css
    # a selector list keeps its report elements: "h1, h2, h3" of the h1–h6 rule, not h4
    assert "h1, h2, h3 { bookmark-label: content(text) }" in css
    assert "h4" not in css
    # pseudo-elements: the list marker only on list items; none of the footnote and note ones (never made)
    assert "li::marker {" in css and "\n::marker" not in css
    assert "footnote-call" not in css and "note-callback" not in css
    assert "br::before" in css


def _page_texts(pdf: bytes, tmp: Path, name: str) -> list[str]:
    exe = shutil.which("pdftotext")
    assert exe is not None
    path = tmp / f"{name}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([exe, "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return out.split("\f")[:-1]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cut_stylesheet_gives_the_same_pages_as_the_whole_one(
    lang: Lang, kb, generated, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    require_system("poppler-utils", has_executable("pdftotext"), "pdftotext, to compare the pages' text")
    if lang == "zh":
        require_system("fonts-noto-cjk", cjk_font_installed, "Chinese glyphs in the PDF")
    report = build_report(example("emd-liver-rrmm-pr"), kb, generated)
    cut = _page_texts(render_pdf(report, lang), tmp_path, "cut")
    whole = _page_texts(render_pdf(report, lang, full_user_agent_css=True), tmp_path, "whole")
    assert len(cut) >= 10
    assert cut == whole
