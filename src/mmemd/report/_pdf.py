"""PDF through WeasyPrint, from the same HTML as the HTML report (charts as JPEG: see :mod:`._charts`).

Chinese needs a CJK font known to fontconfig (Debian/Ubuntu ``fonts-noto-cjk``); the CSS font stack names Noto Sans
CJK SC first. WeasyPrint embeds a subset of each font used, so the PDF shows the same glyphs everywhere.
"""

from __future__ import annotations

import logging

from mmemd.report._html import render_html
from mmemd.report._i18n import Lang
from mmemd.report._model import Report


def render_pdf(report: Report, lang: Lang) -> bytes:
    import weasyprint

    html = render_html(report, lang, chart_format="jpeg")
    # WeasyPrint logs every CSS property it does not support at WARNING; the report's CSS is fixed and known.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    doc = weasyprint.HTML(string=html, base_url=None).render()
    out = doc.write_pdf()
    assert isinstance(out, bytes)
    return out
