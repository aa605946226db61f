"""The clinician report: one patient's classification, stage and risk, response, work-up, prognosis and
evidence-graded treatment options, in English or Chinese, as text, Markdown, self-contained HTML or PDF.

>>> from mmemd.report import render_report
>>> html = render_report(record, lang="zh", fmt="html")  # doctest: +SKIP
>>> pdf = render_report(record, lang="en", fmt="pdf")    # bytes  # doctest: +SKIP

Decision support: the report lays out evidence and its strength and never prescribes. See docs/report.md.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from mmemd.report._i18n import LANGS, Lang

if TYPE_CHECKING:
    from mmemd.clinical.record import PatientRecord
    from mmemd.knowledge import KnowledgeBase
    from mmemd.report._model import Report

FORMATS: Final = ("text", "md", "html", "pdf")

__all__ = ["FORMATS", "LANGS", "build_report", "render_report"]


def _generated(value: _dt.datetime | None) -> _dt.datetime:
    """The report's one timestamp: given, else SOURCE_DATE_EPOCH (reproducible builds convention), else now (UTC)."""
    if value is not None:
        return value
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return _dt.datetime.fromtimestamp(int(epoch), _dt.UTC)
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0)


def build_report(
    record: PatientRecord | Mapping[str, Any],
    kb: KnowledgeBase | None = None,
    generated: _dt.datetime | None = None,
) -> Report:
    """The report's language-neutral content (assessment, evidence rows, chart data); raises RecordError."""
    from mmemd.report._model import build_report as _build

    return _build(record, kb, _generated(generated))


def render_report(
    record: PatientRecord | Mapping[str, Any],
    *,
    lang: str = "en",
    fmt: str = "html",
    kb: KnowledgeBase | None = None,
    generated: _dt.datetime | None = None,
) -> str | bytes:
    """The report for one ``mmemd.patient/1`` record: ``str`` for text, md and html, ``bytes`` for pdf.

    Raises :class:`mmemd.clinical.RecordError` for an invalid record and ``ValueError`` for an unknown lang or fmt.
    ``generated`` fixes the report's timestamp (default: ``SOURCE_DATE_EPOCH`` when set, else now).
    """
    if lang not in LANGS:
        raise ValueError(f"unknown report language {lang!r}: expected one of {', '.join(LANGS)}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}: expected one of {', '.join(FORMATS)}")
    language: Lang = "zh" if lang == "zh" else "en"
    report = build_report(record, kb, generated)
    if fmt == "pdf":
        from mmemd.report._pdf import render_pdf

        return render_pdf(report, language)
    if fmt == "html":
        from mmemd.report._html import render_html

        return render_html(report, language)
    from mmemd.report._document import build_document

    doc = build_document(report, language)
    if fmt == "md":
        from mmemd.report._markdown import render_markdown

        return render_markdown(doc)
    from mmemd.report._text import render_text

    return render_text(doc)
