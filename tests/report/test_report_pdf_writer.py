"""How the PDF is written (mmemd.report._pdf._tune_pdf_writer): pydyf's streams at zlib level 6 instead of 9, and each
font file WeasyPrint copies before subsetting kept per process. Neither may change a page: the same PDF written with
WeasyPrint's and pydyf's own functions has the same text and the same pixels."""

from __future__ import annotations

import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from _report_helpers import example

from _system import cjk_font_installed, has_executable, require_system
from mmemd.report import _pdf as pdf_module
from mmemd.report import build_report
from mmemd.report._i18n import Lang
from mmemd.report._pdf import render_pdf


def _pages(pdf: bytes, tmp: Path, name: str) -> tuple[str, list[bytes]]:
    path = tmp / f"{name}.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        [str(shutil.which("pdftotext")), "-layout", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    subprocess.run(
        [str(shutil.which("pdftoppm")), "-r", "40", "-png", str(path), str(tmp / name)], check=True
    )
    return text, [p.read_bytes() for p in sorted(tmp.glob(f"{name}-*.png"))]


def test_the_writer_is_tuned() -> None:
    import pydyf  # type: ignore[import-untyped]
    import weasyprint.pdf.fonts as pdf_fonts

    assert pdf_module._tune_pdf_writer() is True
    assert pydyf.zlib is not zlib
    raw = b"stream " * 1000
    c = pydyf.zlib.compressobj(level=9)
    assert zlib.decompress(c.compress(raw) + c.flush()) == raw
    assert pydyf.zlib.crc32(raw) == zlib.crc32(raw)  # everything else is zlib's
    assert pdf_fonts.get_hb_object_data.__wrapped__ is not None


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tuned_writer_gives_the_same_pages(
    lang: Lang, kb, generated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    require_system("poppler-utils", has_executable("pdftoppm"), "pdftoppm, to compare the pages")
    if lang == "zh":
        require_system("fonts-noto-cjk", cjk_font_installed, "Chinese glyphs in the PDF")
    import pydyf
    import weasyprint.pdf.fonts as pdf_fonts

    report = build_report(example("emd-liver-rrmm-pr"), kb, generated)
    tuned = render_pdf(report, lang)
    again = render_pdf(report, lang)  # the font files now come from the per-process copies
    assert again == tuned
    monkeypatch.setattr(pydyf, "zlib", zlib)
    monkeypatch.setattr(pdf_fonts, "get_hb_object_data", pdf_fonts.get_hb_object_data.__wrapped__)
    plain = render_pdf(report, lang)
    assert plain != tuned  # level 9 against level 6
    text, pixels = _pages(tuned, tmp_path, "tuned")
    plain_text, plain_pixels = _pages(plain, tmp_path, "plain")
    assert len(pixels) >= 10
    assert text == plain_text
    assert pixels == plain_pixels
