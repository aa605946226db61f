"""How the engine decided, rendered from structured facts (the record and the assessment's fields) through the
glossary, so the Chinese report says it in Chinese. The English report keeps the engine's own reason lines, which
are the same facts worded by the engine.
"""

from __future__ import annotations

from decimal import Decimal

from mmemd.knowledge import load_glossary, vocabulary
from mmemd.report._i18n import Lang, value
from mmemd.report._model import Report, num


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
    g = load_glossary()
    vocab = vocabulary()
    a, rec = r.assessment, r.record
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
    series = [p for p in r.series if p.category is not None]
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
