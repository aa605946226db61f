"""The report's content, language-neutral: the advised assessment plus what the renderers need beside it — each
cited claim's evidence row, the serial measurements behind the response chart, and the reported response rates
behind the evidence chart. Pure: no I/O, no rendering."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mmemd.advice._assess import AdvisedAssessment, assess_with_advice
from mmemd.advice._models import TreatmentOption
from mmemd.clinical.assessment import Versions
from mmemd.clinical.record import PatientRecord, parse_record
from mmemd.clinical.risk import HighRiskFeature, high_risk
from mmemd.knowledge import Claim, KnowledgeBase, load_glossary
from mmemd.report._series import SeriesPoint, missing_fields, series_of

#: Endpoints drawn on the evidence chart: the vocabulary's response endpoints reported as a percentage.
RATE_KIND = "response"

_CLAIM_ID = re.compile(r"^[a-z]+-[a-z0-9.]+-\d{2}$")
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_BREAK_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s*\n\s*(?=[{_CJK}])")
_BREAK = re.compile(r"\s*\n\s*")


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    """One cited claim as the evidence table shows it."""

    claim: str
    study: str | None
    design: str
    n_total: int | None
    n_emd: int | None
    endpoint: str
    endpoint_en: str
    endpoint_zh: str
    value_en: str
    value_zh: str
    quote: str
    source: str  # the review's alias (emdtx, emdrev)
    section: str
    section_en: str
    section_zh: str
    grade: str
    emd_specific: bool
    statement_en: str
    statement_zh: str
    #: the review's own reference numbers the quote cites, and the first authors its reference list gives them
    references: tuple[int, ...] = ()
    authors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OptionEvidence:
    option: TreatmentOption
    #: the option's claims, then its cautions' claims not already listed
    rows: tuple[EvidenceRow, ...]


@dataclass(frozen=True, slots=True)
class RateBar:
    """A reported response rate of one option's claim (evidence chart)."""

    option: str
    option_en: str
    option_zh: str
    claim: str
    endpoint: str
    endpoint_en: str
    endpoint_zh: str
    value: Decimal
    study: str | None
    design: str
    n: int | None
    emd_specific: bool
    grade: str


@dataclass(frozen=True, slots=True)
class Report:
    record: PatientRecord
    assessment: AdvisedAssessment
    options: tuple[OptionEvidence, ...]
    #: claims cited by work-up and prognosis items and evidence statements that no option table lists (shown once,
    #: in their own table)
    other_claims: tuple[EvidenceRow, ...]
    series: tuple[SeriesPoint, ...]
    rates: tuple[RateBar, ...]
    missing_fields: tuple[str, ...]
    spec_citations: tuple[str, ...]
    thin_evidence: bool
    generated: _dt.datetime
    versions: Versions
    #: the high-risk features as structured facts (rendered in the report's language)
    high_risk_facts: tuple[HighRiskFeature, ...] = ()

    @property
    def cited_claims(self) -> frozenset[str]:
        """Every claim id the report cites (options, cautions, key results, work-up, prognosis, evidence notes)."""
        a = self.assessment
        ids: set[str] = set()
        for o in a.options:
            ids.update(o.claims)
            ids.update(k.claim for k in o.key_results)
            for c in o.cautions:
                ids.update(c.claims)
        for w in a.workup:
            ids.update(w.claims)
        for p in a.prognosis:
            ids.update(p.claims)
        for s in a.evidence_statements:
            ids.update(s.claims)
        return frozenset(ids)


def normalize_quote(text: str) -> str:
    """The verbatim quote on one line: the source's line breaks are layout (OCR of a two-column print), so a break
    between two Chinese characters is removed and any other becomes one space; no character is otherwise changed."""
    return _BREAK.sub(" ", _BREAK_BETWEEN_CJK.sub("", text.strip()))


def _claim_value(c: Claim) -> tuple[str, str]:
    """The evidence-table value: the claim's figure plus its timepoint and P value."""
    from mmemd.advice._engine import claim_value_text

    en, zh = claim_value_text(c)
    if c.value is None:
        return en, zh
    if c.timepoint:
        en += f" ({c.timepoint})"
        zh += f"（{load_glossary().timepoint(c.timepoint, 'zh')}）"
    if c.p:
        en += f"; P{c.p}"
        zh += f"；P{c.p}"
    return en, zh


def evidence_row(c: Claim, kb: KnowledgeBase) -> EvidenceRow:
    src = kb.source(c.source)
    sec = next((s for s in src.sections if s.number == c.section), None)
    ep = kb.vocabulary.endpoints.get(c.endpoint)
    v_en, v_zh = _claim_value(c)
    refs = [src.reference(n) for n in c.references]
    return EvidenceRow(
        claim=c.id,
        study=c.study,
        design=c.design.value,
        n_total=c.n_total,
        n_emd=c.n_emd,
        endpoint=c.endpoint,
        endpoint_en=ep.en if ep else c.endpoint.replace("_", " "),
        endpoint_zh=ep.zh if ep else c.endpoint,
        value_en=v_en,
        value_zh=v_zh,
        quote=normalize_quote(c.quote),
        source=src.alias,
        section=c.section,
        section_en=sec.title_en if sec else "",
        section_zh=sec.title_zh if sec else "",
        grade=c.grade,
        emd_specific=c.emd_specific,
        statement_en=c.statement_en,
        statement_zh=c.statement_zh,
        references=c.references,
        authors=tuple(dict.fromkeys(r.first_author for r in refs if r is not None and r.first_author)),
    )


def _rates(options: Iterable[TreatmentOption], kb: KnowledgeBase) -> tuple[RateBar, ...]:
    bars: list[RateBar] = []
    for o in options:
        key = [k.claim for k in o.key_results]
        for cid in [*key, *(c for c in o.claims if c not in key)]:
            c = kb.get(cid)
            ep = kb.vocabulary.endpoints.get(c.endpoint)
            if ep is None or ep.kind != RATE_KIND or c.unit != "%" or c.value is None:
                continue
            bars.append(
                RateBar(
                    option=o.id,
                    option_en=o.title_en,
                    option_zh=o.title_zh,
                    claim=c.id,
                    endpoint=c.endpoint,
                    endpoint_en=ep.en,
                    endpoint_zh=ep.zh,
                    value=c.value,
                    study=c.study,
                    design=c.design.value,
                    n=c.n_emd if (c.emd_specific and c.n_emd) else c.n_total,
                    emd_specific=c.emd_specific,
                    grade=c.grade,
                )
            )
    return tuple(bars)


def build_report(
    record: PatientRecord | Mapping[str, Any],
    kb: KnowledgeBase | None = None,
    generated: _dt.datetime | None = None,
) -> Report:
    """Assess the record (with decision support) and gather everything the report shows."""
    if kb is None:
        from mmemd.knowledge import load

        kb = load()
    rec = parse_record(record)
    a, _trace = assess_with_advice(rec, kb)
    rows_cache: dict[str, EvidenceRow] = {}

    def row(cid: str) -> EvidenceRow:
        r = rows_cache.get(cid)
        if r is None:
            r = rows_cache[cid] = evidence_row(kb.get(cid), kb)
        return r

    options: list[OptionEvidence] = []
    in_tables: set[str] = set()
    for o in a.options:
        ids = list(dict.fromkeys([*o.claims, *(c for caution in o.cautions for c in caution.claims)]))
        in_tables.update(ids)
        options.append(OptionEvidence(option=o, rows=tuple(row(c) for c in ids)))
    other = [
        c
        for c in dict.fromkeys(
            [
                *(c for s in a.evidence_statements for c in s.claims),
                *(c for w in a.workup for c in w.claims),
                *(c for p in a.prognosis for c in p.claims),
            ]
        )
    ]
    spec = dict.fromkeys(
        [
            *(k for o in a.options for k in o.citations),
            *(k for w in a.workup for k in w.citations),
            *(k for p in a.prognosis for k in p.citations),
        ]
    )
    thin = bool(a.options) and not any(
        o.emd_evidence_grade is not None and o.emd_evidence_grade in ("A", "B") for o in a.options
    )
    if generated is None:
        generated = _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    return Report(
        record=rec,
        assessment=a,
        options=tuple(options),
        other_claims=tuple(row(c) for c in other if c not in in_tables),
        series=series_of(rec, a),
        rates=_rates(a.options, kb),
        missing_fields=missing_fields(a),
        spec_citations=tuple(spec),
        thin_evidence=thin,
        generated=generated,
        versions=a.versions,
        high_risk_facts=high_risk(rec.cytogenetics, rec.labs).feature_facts,
    )


def is_claim_id(text: str) -> bool:
    return bool(_CLAIM_ID.match(text))
