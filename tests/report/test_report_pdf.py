"""PDF through WeasyPrint: page one rendered to PNG is not blank, and the Chinese classification label is real text
in the PDF (so CJK glyphs are embedded with a ToUnicode map, not drawn as boxes)."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from _report_helpers import example

from _system import cjk_font_installed, has_executable, require_system
from mmemd.report import render_report


@pytest.fixture(scope="module")
def zh_pdf(kb, generated) -> bytes:  # type: ignore[no-untyped-def]
    out = render_report(example("emd-liver-rrmm-pr"), lang="zh", fmt="pdf", kb=kb, generated=generated)
    assert isinstance(out, bytes)
    return out


def test_pdf_is_a_pdf_with_text_in_chinese(zh_pdf: bytes) -> None:
    require_system("fonts-noto-cjk", cjk_font_installed, "Chinese glyphs embedded in the PDF")
    from pypdf import PdfReader

    assert zh_pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(zh_pdf))
    assert len(reader.pages) >= 2  # summary page, then details
    first = reader.pages[0].extract_text()
    assert "髓外（EM-E，不与骨相连）" in first  # classification label
    assert "多发性骨髓瘤髓外病变" in first  # title
    last = reader.pages[-1].extract_text()
    assert "不构成处方" in last  # disclaimer in the footer
    fonts: set[str] = set()
    for page in reader.pages[:1]:
        res = page["/Resources"]["/Font"]
        for ref in res.values():
            fonts.add(str(ref.get_object()["/BaseFont"]))
    assert any("CJK" in f for f in fonts), fonts


def test_pdf_page_one_renders_to_a_non_blank_png(zh_pdf: bytes, tmp_path: Path) -> None:
    require_system("poppler-utils", has_executable("pdftoppm"), "pdftoppm, to rasterise the PDF")
    exe = shutil.which("pdftoppm")
    assert exe is not None
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(zh_pdf)
    subprocess.run(
        [exe, "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True
    )
    pngs = sorted(tmp_path.glob("page*.png"))
    assert len(pngs) == 1
    from PIL import Image

    img = Image.open(pngs[0]).convert("L")
    w, h = img.size
    assert 400 < w < 600 and 600 < h < 800  # A4 at 60 dpi: 496 x 702
    dark = sum(img.histogram()[:128])
    # A blank page has none; a page of text has thousands of dark pixels at 60 dpi.
    assert dark > 5000, dark


def test_english_pdf(kb, generated) -> None:  # type: ignore[no-untyped-def]
    from pypdf import PdfReader

    out = render_report(
        example("emd-skin-new-lesion-progression"), lang="en", fmt="pdf", kb=kb, generated=generated
    )
    assert isinstance(out, bytes)
    text = PdfReader(io.BytesIO(out)).pages[0].extract_text()
    assert "extramedullary (EM-E, no bone contact)" in text
    assert "Open work-up" in text


def test_pdf_charts_are_handed_over_as_bytes_and_embedded_as_they_are(kb, generated) -> None:  # type: ignore[no-untyped-def]
    """The PDF's HTML names each chart by a mmemd-chart: URL (no base64 in it); the PDF holds the very JPEG bytes."""
    from pypdf import PdfReader

    from mmemd.report import build_report
    from mmemd.report._html import CHART_SCHEME, render_html

    report = build_report(example("emd-liver-rrmm-pr"), kb, generated)
    store: dict[str, tuple[bytes, str]] = {}
    html = render_html(report, "en", chart_format="jpeg", inline_css=False, chart_store=store)
    assert "data:" not in html and len(store) == 2
    for url, (data, mime) in store.items():
        assert f'src="{url}"' in html and url.startswith(f"{CHART_SCHEME}:")
        assert mime == "image/jpeg" and data.startswith(b"\xff\xd8")
    out = render_report(example("emd-liver-rrmm-pr"), lang="en", fmt="pdf", kb=kb, generated=generated)
    assert isinstance(out, bytes)
    embedded = set()
    for page in PdfReader(io.BytesIO(out)).pages:
        for ref in (page["/Resources"].get("/XObject") or {}).values():
            obj = ref.get_object()
            if obj["/Subtype"] == "/Image":
                assert obj["/Filter"] == "/DCTDecode"  # the JPEG as it is, not decoded and compressed again
                embedded.add(obj.get_data())
    assert embedded == {data for data, _ in store.values()}


def test_pdf_fetches_nothing_but_its_own_charts() -> None:
    from mmemd.report._pdf import _chart_fetcher

    fetch = _chart_fetcher({"mmemd-chart:response-ab": (b"\xff\xd8jpeg", "image/jpeg")})
    got = fetch.fetch("mmemd-chart:response-ab")
    assert got.read() == b"\xff\xd8jpeg" and got.content_type == "image/jpeg"
    for url in ("mmemd-chart:rates-ab", "file:///etc/passwd", "https://example.org/chart.jpeg"):
        with pytest.raises(ValueError, match="not a chart of this report"):
            fetch.fetch(url)


def test_chinese_pdf_embeds_no_oblique_copy_of_the_cjk_font(zh_pdf: bytes) -> None:
    """Chinese notes are upright: the CJK font has no italic face, and the upright one matched for italic was
    embedded a second time. The italic notes of the English report keep their real oblique face."""
    require_system("fonts-noto-cjk", cjk_font_installed, "Chinese glyphs embedded in the PDF")
    from pypdf import PdfReader

    fonts = {
        str(ref.get_object()["/BaseFont"])
        for page in PdfReader(io.BytesIO(zh_pdf)).pages
        for ref in (page["/Resources"].get("/Font") or {}).values()
    }
    assert any("CJK" in f for f in fonts), fonts
    assert not any("Oblique" in f or "Italic" in f for f in fonts), fonts
