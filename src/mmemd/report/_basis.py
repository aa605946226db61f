"""How the engine decided, rendered from structured facts (the record and the assessment's fields) through the
glossary, so the Chinese report says it in Chinese. The English report keeps the engine's own reason lines, which
are the same facts worded by the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mmemd.knowledge import load_glossary, vocabulary
from mmemd.report._i18n import FIELDS, Lang, label, pick, value
from mmemd.report._series import SeriesPoint, missing_fields, num, series_of

if TYPE_CHECKING:
    from mmemd.report._model import Report

#: What a Chinese line says when the record cannot be re-read into the facts its text is rendered from.
SEE_REPORT_ZH = "详见报告"


def _confirmation(lesion: object) -> str:
    confirmed_by = getattr(lesion, "confirmed_by", None)
    if confirmed_by is not None:
        return f"confirmation.{confirmed_by}"
    biopsy = getattr(lesion, "biopsy_proven", None)
    if biopsy is True:
        return "confirmation.biopsy"
    if biopsy is False:
        return "confirmation.imaging_only"
    return "confirmation.unknown"


def _pct_change(now: Decimal, base: Decimal) -> str:
    if base == 0:
        return "—"
    change = (now - base) / base * 100
    return ("+" if change > 0 else "") + num(change.quantize(Decimal("0.01")))


def decision_basis(r: Report, lang: Lang) -> list[str]:
    """One line per decided fact: marrow and myeloma-defining events, each lesion, the response and its markers."""
    return _basis(r.record, r.assessment, r.series, lang)


def _record(record: Any) -> Any:
    from mmemd.clinical.record import PatientRecord, parse_record

    return record if isinstance(record, PatientRecord) else parse_record(record)


def clinician_reasons(record: Any, assessment: Any, lang: Lang) -> list[str]:
    """How the engine decided, for a clinician outside the report (the text summary, the web page): the engine's
    own reason lines in English; in Chinese the report's lines (:func:`decision_basis`), rendered from the record
    (a :class:`PatientRecord` or its JSON) and the assessment it gave."""
    if lang == "en":
        return [*assessment.emd.reasons, *assessment.staging.reasons, *assessment.response.reasons]
    try:
        rec = _record(record)
    except Exception:  # the assessment came from this record; if it cannot be re-read, say so in Chinese
        return [SEE_REPORT_ZH]
    lines = _basis(rec, assessment, series_of(rec, assessment), lang)
    missing = missing_fields(assessment)
    if missing:
        # what the engine could not decide without, as the report's "missing data" rows name it
        names = [pick(lang, *FIELDS[f]) if f in FIELDS else f for f in missing]
        lines.append(label(lang, "missing") + "：" + "、".join(names))
    return lines


def high_risk_texts(record: Any, features: Sequence[object], lang: Lang) -> list[str]:
    """The high-risk features in ``lang``: the engine's own (English) texts ``features``, or in Chinese rendered from
    the record's structured facts (a :class:`PatientRecord` or its JSON), as the report renders them."""
    from mmemd.clinical.risk import feature_text, high_risk

    texts = [str(f) for f in features]
    if lang == "en" or not texts:
        return texts
    try:
        rec = _record(record)
    except Exception:  # as above: never the English text in a Chinese output
        return [SEE_REPORT_ZH]
    facts = high_risk(rec.cytogenetics, rec.labs).feature_facts
    if len(facts) != len(texts):
        return [SEE_REPORT_ZH]
    return [feature_text(f, lang) for f in facts]


def _basis(rec: Any, a: Any, series_points: tuple[SeriesPoint, ...], lang: Lang) -> list[str]:
    g = load_glossary()
    vocab = vocabulary()
    lines: list[str] = []
    dx = rec.diagnosis
    if dx is not None:
        facts = []
        if a.emd.category == "plasma_cell_leukemia" and dx.circulating_plasma_cells_pct is not None:
            facts.append(g.render("basis.cpc", lang, pct=num(dx.circulating_plasma_cells_pct)))
        if dx.clonal_bone_marrow_plasma_cells_pct is not None:
            facts.append(g.render("basis.marrow", lang, pct=num(dx.clonal_bone_marrow_plasma_cells_pct)))
        if dx.myeloma_defining_events is not None:
            events = [g.term(f"mde.{e}", lang) for e in dx.myeloma_defining_events]
            facts.append(
                g.render("basis.mde", lang, events=g.join(events, lang))
                if events
                else g.render("basis.no_mde", lang)
            )
        if facts:
            lines.append(g.term("fact_sep", lang).join(facts))
    for les in rec.lesions or ():
        relation = les.relation_to_bone or "unknown"
        lines.append(
            g.render(
                "basis.lesion",
                lang,
                lesion=les.id,
                site=vocab.label(les.site, lang) if les.site else "—",
                relation=g.term(f"relation.{relation}", lang),
                confirmation=g.term(_confirmation(les), lang),
                detected=g.term(f"detected.{les.detected_at or 'unknown'}", lang),
            )
        )
    resp = a.response
    after_baseline = [t for t in resp.timeline if t.category != "baseline"]
    if not after_baseline:
        lines.append(g.render("basis.no_assessment", lang))
    else:
        last = after_baseline[-1]
        line = g.render(
            "basis.response", lang, category=value(lang, last.category), date=last.date.isoformat()
        )
        confirmed_at = [t.date for t in after_baseline if t.confirmed and t.category == last.category]
        if resp.confirmed and confirmed_at and confirmed_at[0] != last.date:
            line += g.term("fact_sep", lang) + g.render(
                "basis.response_confirmed", lang, date=confirmed_at[0].isoformat()
            )
        lines.append(line)
        lines.append(g.render("basis.best", lang, category=value(lang, resp.best)))
    series = [p for p in series_points if p.category is not None]
    if len(series) >= 2:
        base, now = series[0], series[-1]
        markers = []
        for key, unit, b, n in (
            ("marker.serum_m", "g/dL", base.serum_m_g_dl, now.serum_m_g_dl),
            ("marker.urine_m", "mg/24h", base.urine_m_mg_24h, now.urine_m_mg_24h),
            ("marker.flc", "mg/dL", base.flc_involved_mg_dl, now.flc_involved_mg_dl),
            ("marker.spd", "cm²", base.spd_cm2, now.spd_cm2),
        ):
            if b is not None and n is not None:
                markers.append(
                    g.render(
                        "basis.marker",
                        lang,
                        marker=g.term(key, lang),
                        value=num(n),
                        unit=unit,
                        change=_pct_change(n, b),
                        base=num(b),
                    )
                )
        if markers:
            lines.append(g.term("fact_sep", lang).join(markers))
    return lines
