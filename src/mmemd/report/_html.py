"""Self-contained HTML: one file, inline CSS, charts as data-URI SVG images, no external URL anywhere.

Rendered with Jinja2 (autoescaped) from ``templates/``; the CSS carries print rules (A4 pages, page one alone, no row
or figure split across pages) used by both browsers and WeasyPrint (:mod:`._pdf`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Final

from markupsafe import Markup, escape

from mmemd._version import __version__
from mmemd.report._charts import ChartFormat
from mmemd.report._document import Document, Figure, Table, build_document
from mmemd.report._i18n import Lang
from mmemd.report._model import Report
from mmemd.report._numbers import NUMBER_CITE, RANGE, expand

#: BCP 47 tags: Simplified Chinese script, so browsers and WeasyPrint pick Simplified glyph forms.
HTML_LANG = {"en": "en", "zh": "zh-Hans"}
QUOTE_LANG = "zh-Hans"  # the verbatim quotes are from the Chinese reviews, whatever the report's language
#: Tokens a line must never split: a number with its unit (6.1 mg/L).
_NOBR = re.compile(r"\d+(?:\.\d+)?\s?(?:mg/dL|mg/L|g/dL|g/L|mg/24h|mmol/L|µmol/L|U/L|cm²|mg/mL)(?![A-Za-z])")


@dataclass(frozen=True, slots=True)
class ChartImage:
    src: str
    alt: str
    width: int
    height: int
    note: str


@lru_cache(maxsize=1)
def _env() -> Any:
    import jinja2

    here = resources.files("mmemd.report") / "templates"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(here)),
        autoescape=True,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return env


@lru_cache(maxsize=1)
def report_css() -> str:
    """The report's stylesheet (screen and print)."""
    return (resources.files("mmemd.report") / "templates" / "report.css").read_text(encoding="utf-8")


def _linker(citations: tuple[str, ...], targets: frozenset[str]) -> Callable[[str], Markup]:
    """Text with each citation number linked to its evidence entry (``#claim-<id>``, the entry's anchor)."""

    def link(n: str) -> str:
        i = int(n)
        claim = citations[i - 1] if 0 < i <= len(citations) else None
        return f'<a class="cite" href="#claim-{claim}">{n}</a>' if claim in targets else n

    def one(m: re.Match[str]) -> str:
        # Only a bracket of numbers the document cites: "[2]" in a record's free text stays text.
        if any(not 0 < n <= len(citations) for n in expand(m.group(1))):
            return m.group(0)
        parts = [RANGE.join(link(x) for x in part.split(RANGE)) for part in m.group(1).split(", ")]
        return '<span class="nobr">[' + ", ".join(parts) + "]</span>"

    def cite(text: str) -> Markup:
        safe = str(escape(text))
        out, last = [], 0
        for m in NUMBER_CITE.finditer(safe):
            out += [_nobr(safe[last : m.start()]), one(m)]
            last = m.end()
        out.append(_nobr(safe[last:]))
        return Markup("".join(out))

    return cite


def _nobr(escaped: str) -> str:
    """Wrap unbreakable tokens (claim ids, value with unit) of already-escaped text in a no-wrap span."""
    return _NOBR.sub(lambda m: f'<span class="nobr">{m.group(0)}</span>', escaped)


def _row_targets(doc: Document) -> frozenset[str]:
    ids: set[str] = set()
    for sec in doc.sections:
        for b in sec.blocks:
            if isinstance(b, Table):
                ids.update(b.row_ids)
    return frozenset(ids)


#: The URL scheme of a chart handed to a renderer beside the HTML (``render_html(chart_store=...)``).
CHART_SCHEME: Final = "mmemd-chart"


def chart_image(
    report: Report,
    kind: str,
    lang: Lang,
    fmt: ChartFormat = "svg",
    store: dict[str, tuple[bytes, str]] | None = None,
    citations: tuple[str, ...] = (),
) -> ChartImage | None:
    """The chart as an image: a data URI, or with ``store`` a ``mmemd-chart:`` URL whose bytes and media type are
    put in ``store`` (named by their hash, so a URL never stands for another chart's bytes). ``citations``: the
    document's cited claims in number order, for the evidence chart's citation numbers."""
    from mmemd.report._charts import rates_chart, response_chart

    numbers = {c: i for i, c in enumerate(citations, 1)}
    out = response_chart(report, lang, fmt) if kind == "response" else rates_chart(report, lang, fmt, numbers)
    if out is None:
        return None
    note = "图表标签以英文显示：未找到中文字体。" if out.lang != lang else ""
    if store is None:
        src = f"data:{out.mime};base64," + base64.b64encode(out.data).decode("ascii")
    else:
        src = f"{CHART_SCHEME}:{kind}-{hashlib.sha256(out.data).hexdigest()[:32]}"
        store[src] = (out.data, out.mime)
    return ChartImage(src=src, alt=out.alt, width=out.width, height=out.height, note=note)


def render_html(
    report: Report,
    lang: Lang,
    *,
    charts: bool = True,
    chart_format: ChartFormat = "svg",
    inline_css: bool = True,
    chart_store: dict[str, tuple[bytes, str]] | None = None,
) -> str:
    """The report as one HTML document; ``chart_format="jpeg"`` is what the PDF uses (see :mod:`._pdf`).

    ``inline_css=False`` leaves out the ``<style>`` element, for a renderer given :func:`report_css` parsed once.
    ``chart_store`` leaves the charts' bytes out too: each ``<img>`` names a ``mmemd-chart:`` URL, and the bytes and
    media type are put in ``chart_store`` under it, for a renderer that fetches them from there (no base64 to
    write, parse and decode).
    """
    doc = build_document(report, lang)
    targets = _row_targets(doc)
    env = _env()
    seen: set[str] = set()

    def row_anchor(claim_id: str) -> str:
        # An id once per document: a claim listed under several options is anchored at its first table row.
        if claim_id in seen:
            return ""
        seen.add(claim_id)
        return f"claim-{claim_id}"

    def chart(kind: str) -> ChartImage | None:
        return chart_image(report, kind, lang, chart_format, chart_store, doc.citations) if charts else None

    tmpl = env.get_template("report.html.j2")
    return str(
        tmpl.render(
            doc=doc,
            html_lang=HTML_LANG[lang],
            quote_lang=QUOTE_LANG,
            css=Markup(report_css()) if inline_css else None,
            version=__version__,
            patient_id=report.assessment.patient_id,
            row_anchor=row_anchor,
            chart=chart,
            cite=_linker(doc.citations, targets),
        )
    )


__all__ = ["CHART_SCHEME", "ChartImage", "Figure", "render_html"]
