"""The report as a localized document: a title, sections of simple blocks (headings, paragraphs, lists, fact lists,
tables, figures) and a footer. Text, Markdown and HTML are thin serializers of this one structure, so the three
formats say the same things in the same order.

Page one (section ``summary``) is what a clinician reads in a minute; section ``details`` follows on a new page.
Every statement carries the numbers of the evidence entries it rests on in brackets (``[3, 5–7]``, see
:mod:`._numbers`) or the author and year of the publication (``Greipp 2005``), listed in full under "References". Each
evidence entry is headed by its number and names its publication (the review, its section, the study it quotes); no
claim id, file name or internal key reaches the reader. The document is built with claim ids in the brackets, then
numbered in reading order (:func:`build_document`); the ids stay in ``row_ids`` and ``citations`` for anchors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar, Final

from mmemd.advice._assess import AdvisedAssessment
from mmemd.advice._models import Caution, TreatmentOption
from mmemd.clinical.risk import feature_text
from mmemd.knowledge import load_glossary, vocabulary
from mmemd.report._basis import decision_basis
from mmemd.report._charts import short_title
from mmemd.report._citations import (
    REFERENCES,
    expand,
    reference_text,
    review_label,
    review_reference,
    short_cite,
)
from mmemd.report._i18n import FIELDS, Lang, label, pick, plain_keys, value
from mmemd.report._model import EvidenceRow, Report
from mmemd.report._numbers import Numbering, collapse
from mmemd.report._series import num

if TYPE_CHECKING:
    from mmemd.knowledge import KnowledgeBase

#: Options on page one; the rest are listed, with the same details, after it.
TOP_OPTIONS: Final = 3
#: Key numbers per option on page one (the rest are in the options section): one, so that page one keeps room for
#: the line history, the ranking reasons and the not-suitable list.
TOP_KEY_RESULTS: Final = 1


@dataclass(frozen=True, slots=True)
class Heading:
    kind: ClassVar[str] = "heading"
    level: int
    text: str
    anchor: str = ""


@dataclass(frozen=True, slots=True)
class Para:
    kind: ClassVar[str] = "para"
    text: str
    #: "" | "note" (muted) | "warn" (highlighted) | "small"
    style: str = ""


@dataclass(frozen=True, slots=True)
class Bullets:
    kind: ClassVar[str] = "bullets"
    items: tuple[str, ...]
    style: str = ""


@dataclass(frozen=True, slots=True)
class Facts:
    """Label/value pairs (a two-column table with the label as row header)."""

    kind: ClassVar[str] = "facts"
    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Table:
    kind: ClassVar[str] = "table"
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    #: claim id of each row (HTML anchors), empty when rows are not claims
    row_ids: tuple[str, ...] = ()
    #: column indexes holding verbatim Chinese quotes (HTML marks them lang="zh")
    quote_cols: tuple[int, ...] = ()
    #: column indexes of long text (layout hint for text output)
    wide_cols: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Figure:
    """A chart: HTML/PDF draw it (``chart`` names it for :mod:`._charts`); text and Markdown show its data table."""

    kind: ClassVar[str] = "figure"
    chart: str
    title: str
    caption: str
    data: Table | None
    omitted: tuple[str, ...] = ()


Block = Heading | Para | Bullets | Facts | Table | Figure


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    title: str
    blocks: tuple[Block, ...]
    page_break_before: bool = False


@dataclass(frozen=True, slots=True)
class Document:
    lang: Lang
    title: str
    subtitle: str
    meta: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    footer: tuple[str, ...]
    cited_claims: frozenset[str] = field(default_factory=frozenset)
    #: the claim ids cited, in citation-number order (the number of ``citations[i]`` is ``i + 1``)
    citations: tuple[str, ...] = ()


# ---- helpers -----------------------------------------------------------------------------------------------------


def paren(lang: Lang, text: str) -> str:
    """A parenthetical in the language's own punctuation (full-width in Chinese)."""
    return f"（{text}）" if lang == "zh" else f" ({text})"


def cite(ids: list[str] | tuple[str, ...]) -> str:
    ids = list(dict.fromkeys(ids))
    return f"[{', '.join(ids)}]" if ids else ""


def _join(lang: Lang, items: list[str]) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def _keys(lang: Lang, keys: list[str] | tuple[str, ...]) -> str:
    """Publication keys of a rule as author-year citations (the full references are listed under References)."""
    if not keys:
        return ""
    return paren(
        lang, ("；" if lang == "zh" else "; ").join(short_cite(k, lang) for k in dict.fromkeys(keys))
    ).strip()


def _sep(lang: Lang) -> str:
    """Between clauses: the Chinese semicolon in Chinese text."""
    return "；" if lang == "zh" else "; "


def _colon(lang: Lang) -> str:
    return "：" if lang == "zh" else ": "


def _with_cite(
    text: str, ids: list[str] | tuple[str, ...], keys: list[str] | tuple[str, ...] = (), lang: Lang = "en"
) -> str:
    tail = " ".join(x for x in (cite(ids), _keys(lang, keys)) if x)
    return f"{text} {tail}".strip()


def _stage(lang: Lang, v: str | None, possible: list[str]) -> str:
    if v is not None:
        return v
    poss = _join(lang, possible) if possible else "—"
    sep = "：" if lang == "zh" else ": "
    return label(lang, "indeterminate") + paren(lang, f"{label(lang, 'possible')}{sep}{poss}")


def _caution_text(lang: Lang, c: Caution) -> str:
    text = pick(lang, c.en, c.zh)
    because = (c.because_zh or c.because) if lang == "zh" else c.because
    if because:
        text += paren(lang, ("；" if lang == "zh" else "; ").join(because))
    sev = label(lang, c.severity)
    return _with_cite(f"[{sev}] {text}" if c.severity == "major" else text, c.claims)


def _missing_names(lang: Lang, fields: list[str]) -> str:
    return _join(lang, [pick(lang, *FIELDS[f]) if f in FIELDS else f for f in fields])


def _option_thin(lang: Lang, o: TreatmentOption) -> str:
    if not o.emd_specific_evidence or o.emd_evidence_grade is None:
        return label(lang, "thin_option_none")
    if o.emd_evidence_grade in ("C", "D"):
        return label(lang, "thin_option_grade").format(grade=o.emd_evidence_grade)
    return ""


def _emd_evidence(lang: Lang, o: TreatmentOption) -> str:
    if not o.emd_specific_evidence or o.emd_evidence_grade is None:
        return label(lang, "no")
    return label(lang, "yes") + paren(lang, f"{label(lang, 'grade')} {o.emd_evidence_grade}")


def _n(row: EvidenceRow, lang: Lang) -> str:
    if row.n_total is None and row.n_emd is None:
        return "—"
    if row.n_emd is not None and row.n_total is not None and row.n_emd != row.n_total:
        return f"{row.n_total} (EMD {row.n_emd})"
    return str(row.n_total if row.n_total is not None else row.n_emd)


def _source(row: EvidenceRow, lang: Lang) -> str:
    title = pick(lang, row.section_en, row.section_zh)
    # Unnumbered parts of a review (abstract, introduction, conclusion) are named by their title alone.
    number = f" §{row.section}" if row.section[:1].isdigit() else ""
    return f"{review_label(row.source, lang)}{number}" + (f" {title}" if title else "")


def publication(row: EvidenceRow, lang: Lang) -> str:
    """The publication an evidence entry is from: the review and its section, and the study the quote reports as
    the review cites it (first author, the review's reference numbers) — "Review 1 §7 CAR-T, citing Deng et al. (its
    ref. 34)". The reviews' reference lists are not shipped, so a cited study's year and journal are not known here;
    the reader finds them in the review under that reference number."""
    where = _source(row, lang)
    refs = collapse(row.references)
    # The study as the review names it: its first author ("et al."), else as printed (a trial's name: IKEMA).
    # Without a named study the reference numbers alone: a quote citing several references names no one author.
    study = row.study or ""
    if lang == "zh":
        refs = refs.replace(", ", "、")
        who = f"{study}等" if study in row.authors else study
        if who:
            return f"{where}，所引{who}（原文献{refs}）" if refs else f"{where}，{who}"
        return f"{where}（原文献{refs}）" if refs else where
    who = f"{study} et al." if study in row.authors else study
    ref = f"ref. {refs}" if len(row.references) == 1 else f"refs {refs}"
    if who:
        return f"{where}, citing {who} (its {ref})" if refs else f"{where}, {who}"
    return f"{where}, citing its {ref}" if refs else where


def publications(claim_ids: Sequence[str], kb: KnowledgeBase, lang: Lang) -> list[str]:
    """The publication of each claim (:func:`publication`), for outputs that cite by number and list the numbers'
    sources (the CDS card, ``mmemd assess --format text``), then each seed review cited, by number and title."""
    from mmemd.report._model import evidence_row

    rows = [evidence_row(kb.get(c), kb) for c in claim_ids]
    return [publication(r, lang) for r in rows] + [
        review_reference(alias, lang) for alias in dict.fromkeys(r.source for r in rows)
    ]


def _evidence_table(lang: Lang, rows: tuple[EvidenceRow, ...], caption: str) -> Table:
    """One entry per claim, headed by its citation (ids here; numbers once the document is numbered)."""
    header = tuple(
        label(lang, k) for k in ("cite_no", "source", "grade", "design", "n", "endpoint", "value", "quote")
    )
    body = tuple(
        (
            f"[{r.claim}]",
            publication(r, lang),
            r.grade + ("" if r.emd_specific else "*"),
            value(lang, r.design),
            _n(r, lang),
            pick(lang, r.endpoint_en, r.endpoint_zh),
            pick(lang, r.value_en, r.value_zh),
            r.quote,
        )
        for r in rows
    )
    return Table(
        header=header,
        rows=body,
        caption=caption,
        row_ids=tuple(r.claim for r in rows),
        quote_cols=(7,),
        wide_cols=(7,),
    )


def _general_note(lang: Lang) -> str:
    return (
        "* 一般MM证据（非EMD特异性），外推至EMD时证据等级已下调一级。"
        if lang == "zh"
        else "* general MM evidence (not EMD-specific), graded one level down for indirectness."
    )


# ---- sections ----------------------------------------------------------------------------------------------------


def _summary(r: Report, lang: Lang) -> Section:
    a = r.assessment
    vocab = vocabulary()
    e, s, resp = a.emd, a.staging, a.response
    blocks: list[Block] = []

    blocks.append(Heading(3, label(lang, "emd")))
    emd_rows = [(label(lang, "category"), value(lang, e.category))]
    if e.timing is not None:
        emd_rows.append((label(lang, "timing"), value(lang, e.timing)))
    emd_rows.append((label(lang, "cns"), value(lang, e.cns)))
    if e.sites:
        emd_rows.append((label(lang, "sites"), _join(lang, [vocab.label(x, lang) for x in e.sites])))
    # What the classification could not be decided without goes with it; the rest with staging and risk.
    emd_missing = [f for f in r.missing_fields if f.startswith("diagnosis.")]
    stage_missing = [f for f in r.missing_fields if not f.startswith("diagnosis.")]
    if emd_missing:
        emd_rows.append((label(lang, "missing"), _missing_names(lang, emd_missing)))
    blocks.append(Facts(tuple(emd_rows)))

    blocks.append(Heading(3, label(lang, "staging")))
    r2 = s.r2_iss
    if r2.group is not None:
        pts = f"{r2.points:g}" if r2.points is not None else f"{r2.points_min:g}–{r2.points_max:g}"
        r2_text = r2.group + paren(lang, f"{pts} {label(lang, 'points')}")
    else:
        r2_text = label(lang, "indeterminate") + paren(
            lang, f"{r2.points_min:g}–{r2.points_max:g} {label(lang, 'points')}"
        )
    st_rows = [
        (label(lang, "iss"), _stage(lang, s.iss, list(s.iss_possible))),
        (label(lang, "r_iss"), _stage(lang, s.r_iss, list(s.r_iss_possible))),
        (label(lang, "r2_iss"), r2_text),
        (
            label(lang, "high_risk"),
            value(lang, s.high_risk) if s.high_risk is not None else label(lang, "indeterminate"),
        ),
    ]
    if s.high_risk_features:
        features = (
            [feature_text(f, lang) for f in r.high_risk_facts]
            if len(r.high_risk_facts) == len(s.high_risk_features)
            else list(s.high_risk_features)
        )
        st_rows.append((label(lang, "high_risk_features"), ("；" if lang == "zh" else "; ").join(features)))
    if stage_missing:
        st_rows.append((label(lang, "missing"), _missing_names(lang, stage_missing)))
    blocks.append(Facts(tuple(st_rows)))

    blocks.append(Heading(3, label(lang, "response")))
    conf = label(lang, "confirmed") if resp.confirmed else label(lang, "unconfirmed")
    cur = value(lang, resp.current)
    if resp.current != "not_evaluable":
        cur += paren(lang, conf)
    rs_rows = [(label(lang, "current"), cur), (label(lang, "best"), value(lang, resp.best))]
    if resp.mrd is not None:
        rs_rows.append((label(lang, "mrd"), value(lang, resp.mrd)))
    if resp.timeline:
        rs_rows.append(
            (
                label(lang, "timeline"),
                " → ".join(
                    f"{t.date.isoformat()} {value(lang, t.category).split('（')[0]}" for t in resp.timeline
                ),
            )
        )
    blocks.append(Facts(tuple(rs_rows) + _line_history_rows(lang, a)))

    blocks += _statement_blocks(lang, a)
    blocks.append(Heading(3, label(lang, "top_options")))
    if not a.options:
        blocks.append(Para(label(lang, "no_options"), "warn"))
    else:
        rows = []
        for o in a.options[:TOP_OPTIONS]:
            keys = _sep(lang).join(
                _with_cite(f"{pick(lang, k.en, k.zh)} ({k.grade})", [k.claim])
                for k in o.key_results[:TOP_KEY_RESULTS]
            )
            if not keys:
                keys = _with_cite("—", o.claims[:2], o.citations, lang)
            rows.append(
                (
                    pick(lang, o.title_en, o.title_zh),
                    o.grade,
                    _emd_evidence(lang, o),
                    keys,
                    str(len(o.cautions)),
                )
            )
        blocks.append(
            Table(
                header=(
                    label(lang, "option"),
                    label(lang, "grade"),
                    label(lang, "emd_evidence"),
                    label(lang, "key_numbers"),
                    label(lang, "cautions"),
                ),
                rows=tuple(rows),
                wide_cols=(3,),
            )
        )
        blocks += _rank_reason_blocks(lang, a)
        # the banner explains why the trial option is listed: only when it is
        if r.thin_evidence and any(o.id == "clinical_trial" for o in a.options):
            blocks.append(Para(label(lang, "thin_all"), "warn"))
    blocks += _not_suitable_blocks(lang, a)

    blocks.append(Heading(3, label(lang, "workup")))
    if a.workup:
        blocks.append(
            Bullets(
                tuple(
                    _with_cite(pick(lang, w.title_en, w.title_zh), w.claims, w.citations, lang)
                    for w in a.workup
                )
            )
        )
    else:
        blocks.append(Para(label(lang, "no_workup")))

    cautions: dict[str, str] = {}
    for o in a.options[:TOP_OPTIONS]:
        for c in o.cautions:
            if c.severity == "major":
                text = _caution_text(lang, c)
                cautions.setdefault(text, f"{short(o, lang)}{_colon(lang)}{text}")
    if cautions:
        blocks.append(Heading(3, label(lang, "main_cautions")))
        blocks.append(Bullets(tuple(cautions.values()), "warn"))
    blocks.append(Para(label(lang, "grade_line"), "small"))
    return Section("summary", label(lang, "summary"), tuple(blocks))


def _line_history_rows(lang: Lang, a: AdvisedAssessment) -> tuple[tuple[str, str], ...]:
    """One row per therapy line: regimen, best response, refractoriness (recorded, or derived from progression on
    the line)."""
    ctx = a.patient_context
    if ctx is None or not ctx.lines:
        return ()
    v = vocabulary()
    sep = "；" if lang == "zh" else "; "
    rows = []
    for ln in ctx.lines:
        if ln.refractory is True:
            ref = label(
                lang,
                "refractory_derived" if "derived" in (ln.refractory_source or "") else "refractory_recorded",
            )
        else:
            ref = value(lang, ln.refractory)
        best = value(lang, ln.best_response) if ln.best_response else "—"
        text = sep.join(
            (
                " + ".join(v.label(x, lang) for x in ln.agents),
                f"{label(lang, 'best_response_col')} {best}",
                f"{label(lang, 'refractory_col')} {ref}",
            )
        )
        rows.append((label(lang, "line_n").format(n=ln.line), text))
    return tuple(rows)


def _rank_reason_blocks(lang: Lang, a: AdvisedAssessment) -> list[Block]:
    """One small line per top option on why it ranks there (tier, score parts, clinical order)."""
    colon = "：" if lang == "zh" else ": "
    items = tuple(
        f"{label(lang, 'why_rank')} {short(o, lang)}{colon}{pick(lang, o.rank_reason.en, o.rank_reason.zh)}"
        for o in a.options[:TOP_OPTIONS]
        if o.rank_reason is not None
    )
    return [Bullets(items, "small")] if items else []


def _not_suitable_blocks(lang: Lang, a: AdvisedAssessment) -> list[Block]:
    """One compact line after the options: the fired-but-not-offered options, grouped by their reason."""
    if not a.considered_not_suitable:
        return []
    groups: dict[str, list[str]] = {}
    for n in a.considered_not_suitable:
        reason = pick(lang, n.summary.en, n.summary.zh) if n.summary else ""
        groups.setdefault(reason, []).append(short_title(pick(lang, n.title_en, n.title_zh)))
    sep, comma, colon = ("；", "、", "：") if lang == "zh" else ("; ", ", ", ": ")
    text = sep.join(
        f"{comma.join(names)}{paren(lang, reason) if reason else ''}" for reason, names in groups.items()
    )
    return [Para(f"{label(lang, 'not_suitable')}{colon}{text}", "small")]


def _statement_blocks(lang: Lang, a: AdvisedAssessment) -> list[Block]:
    """Where the reviews are silent or do not apply, said out loud (one highlighted paragraph)."""
    if not a.evidence_statements:
        return []
    return [
        Para(
            " ".join(
                _with_cite(pick(lang, s.en, s.zh), s.claims, s.citations, lang) for s in a.evidence_statements
            ),
            "warn",
        )
    ]


def short(o: TreatmentOption, lang: Lang) -> str:
    # Text has room for the whole name (only the charts need a cut): no truncated headings or captions.
    return short_title(pick(lang, o.title_en, o.title_zh), limit=200)


def _options_detail(r: Report, lang: Lang) -> Section:
    blocks: list[Block] = []
    if not r.options:
        blocks.append(Para(label(lang, "no_options")))
    for i, oe in enumerate(r.options, 1):
        o = oe.option
        blocks.append(Heading(3, f"{i}. {pick(lang, o.title_en, o.title_zh)}", anchor=f"option-{o.id}"))
        sb = o.score_breakdown
        facts = [
            (label(lang, "grade"), o.grade),
            (label(lang, "emd_evidence"), _emd_evidence(lang, o)),
            (
                label(lang, "score"),
                f"{o.score} ("
                + label(lang, "score_parts").format(
                    evidence=sb.evidence, emd_specific=sb.emd_specific, match=sb.match, cautions=sb.cautions
                )
                + ")",
            ),
            (
                label(lang, "applies_because"),
                _sep(lang).join(pick(lang, b.en, b.zh) for b in o.applies_because) or "—",
            ),
        ]
        blocks.append(Facts(tuple(facts)))
        if o.key_results:
            blocks.append(
                Bullets(
                    tuple(
                        _with_cite(f"{pick(lang, k.en, k.zh)} ({k.grade})", [k.claim]) for k in o.key_results
                    )
                )
            )
        thin = _option_thin(lang, o)
        if thin:
            blocks.append(Para(thin, "note"))
        note = pick(lang, o.note_en, o.note_zh)
        if note:
            blocks.append(
                Para(_with_cite(f"{label(lang, 'note')}{_colon(lang)}{note}", [], o.citations, lang), "note")
            )
        elif o.citations:
            sep = "；" if lang == "zh" else "; "
            cites = sep.join(short_cite(k, lang) for k in dict.fromkeys(o.citations))
            blocks.append(Para(f"{label(lang, 'sources')}{_colon(lang)}{cites}", "note"))
        if o.cautions:
            blocks.append(Para(label(lang, "cautions") + ":"))
            blocks.append(Bullets(tuple(_caution_text(lang, c) for c in o.cautions), "warn"))
        blocks.append(
            _evidence_table(lang, oe.rows, f"{label(lang, 'evidence_table')}{_colon(lang)}{short(o, lang)}")
        )
    if r.options:
        blocks.append(Para(_general_note(lang), "small"))
    return Section("options", label(lang, "options_detail"), tuple(blocks), page_break_before=True)


def _fig_value(lang: Lang, unit: str | None, v: object) -> str:
    if v is None:
        return ""
    text = num(v) if not isinstance(v, str) else v  # type: ignore[arg-type]
    units = {
        "%": "%",
        "months": " months" if lang == "en" else "个月",
        "years": " years" if lang == "en" else "年",
    }
    return text + units.get(unit or "", "")


def _prognosis(r: Report, lang: Lang) -> Section:
    a = r.assessment
    blocks: list[Block] = []
    if not a.prognosis:
        blocks.append(Para(label(lang, "no_prognosis")))
    else:
        rows = []
        for p in a.prognosis:
            val = _fig_value(lang, p.unit, p.value)
            if p.value_max is not None:
                val += f"–{_fig_value(lang, p.unit, p.value_max)}"
            if p.comparator_value is not None:
                val += f" vs {_fig_value(lang, p.unit, p.comparator_value)}"
            rows.append(
                (
                    pick(lang, p.en, p.zh),
                    val or "—",
                    p.population_zh
                    if lang == "zh" and p.population_zh
                    else load_glossary().population(p.population, lang),
                    " ".join(x for x in (cite(p.claims), _keys(lang, p.citations)) if x) or "—",
                )
            )
        blocks.append(
            Table(
                header=(
                    label(lang, "figure"),
                    label(lang, "value"),
                    label(lang, "population"),
                    label(lang, "sources"),
                ),
                rows=tuple(rows),
                wide_cols=(0,),
            )
        )
    return Section("prognosis", label(lang, "prognosis"), tuple(blocks))


def _workup(r: Report, lang: Lang) -> Section:
    a = r.assessment
    blocks: list[Block] = []
    if not a.workup:
        blocks.append(Para(label(lang, "no_workup")))
    for w in a.workup:
        because = _sep(lang).join(pick(lang, b.en, b.zh) for b in w.because)
        detail = pick(lang, w.detail_en, w.detail_zh)
        text = _with_cite(pick(lang, w.title_en, w.title_zh), w.claims, w.citations, lang)
        items = [f"{label(lang, 'because')}{_colon(lang)}{because}"] if because else []
        if detail:
            items.append(detail)
        blocks.append(Para(text))
        if items:
            blocks.append(Bullets(tuple(items)))
    return Section("workup", label(lang, "workup_detail"), tuple(blocks))


def _fmt(v: object) -> str:
    return "—" if v is None else num(v)  # type: ignore[arg-type]


def _charts(r: Report, lang: Lang) -> Section:
    blocks: list[Block] = []
    pts = r.series
    if not pts:
        blocks.append(Figure("response", label(lang, "response_chart"), label(lang, "no_assessments"), None))
    else:
        omitted = []
        if not any(p.serum_m_g_dl is not None or p.flc_involved_mg_dl is not None for p in pts):
            omitted.append(label(lang, "no_mprotein"))
        if not any(p.spd_cm2 is not None for p in pts):
            omitted.append(label(lang, "no_spd"))
        data = Table(
            header=(
                label(lang, "date"),
                label(lang, "response_cat"),
                label(lang, "serum_m"),
                label(lang, "urine_m"),
                label(lang, "flc"),
                label(lang, "spd"),
            ),
            rows=tuple(
                (
                    p.date.isoformat(),
                    value(lang, p.category).split("（")[0] if p.category else "—",
                    _fmt(p.serum_m_g_dl),
                    _fmt(p.urine_m_mg_24h),
                    _fmt(p.flc_involved_mg_dl),
                    _fmt(p.spd_cm2),
                )
                for p in pts
            ),
            caption=label(lang, "chart_data"),
        )
        blocks.append(Figure("response", label(lang, "response_chart"), "", data, tuple(omitted)))
    if not r.rates:
        blocks.append(Figure("rates", label(lang, "evidence_chart"), label(lang, "no_rates"), None))
    else:
        nr = label(lang, "not_reported")
        data = Table(
            header=(
                label(lang, "option"),
                label(lang, "endpoint"),
                label(lang, "value"),
                label(lang, "study"),
                label(lang, "n"),
                label(lang, "grade"),
                label(lang, "cite_no"),
            ),
            rows=tuple(
                (
                    short_title(pick(lang, b.option_en, b.option_zh)),
                    pick(lang, b.endpoint_en, b.endpoint_zh),
                    f"{num(b.value)}%",
                    b.study or value(lang, b.design),
                    str(b.n) if b.n is not None else nr,
                    b.grade + ("" if b.emd_specific else "*"),
                    f"[{b.claim}]",
                )
                for b in r.rates
            ),
            caption=label(lang, "chart_data"),
        )
        blocks.append(
            Figure("rates", label(lang, "evidence_chart"), label(lang, "evidence_chart_note"), data)
        )
    return Section("charts", label(lang, "charts"), tuple(blocks), page_break_before=True)


def _reasons_and_sources(r: Report, lang: Lang) -> Section:
    a = r.assessment
    blocks: list[Block] = []
    if r.other_claims:
        blocks.append(Heading(3, label(lang, "cited_claims")))
        blocks.append(_evidence_table(lang, r.other_claims, ""))
    blocks.append(Heading(3, label(lang, "other_sources")))
    refs = [review_reference(alias, lang) for alias in ("emdtx", "emdrev")]
    refs += [reference_text(k) for k in expand(r.spec_citations) if k in REFERENCES]
    blocks.append(Bullets(tuple(refs), "references"))
    if lang == "zh":
        basis = decision_basis(r, lang)
    else:
        basis = [*a.emd.reasons, *a.staging.reasons, *a.response.reasons]
    if basis:
        blocks.append(Heading(3, label(lang, "engine_reasons")))
        blocks.append(Bullets(tuple(basis), "small"))
    title = "证据与依据" if lang == "zh" else "Evidence and reasons"
    return Section("sources", title, tuple(blocks))


def build_document(r: Report, lang: Lang) -> Document:
    """The report as a document in ``lang``, its claims cited by number (first citation first)."""
    return _numbered(_build(r, lang))


def _numbered(doc: Document) -> Document:
    """The document with each bracket of claim ids as citation numbers, given in reading order, and any internal key
    the engine's wording quotes in the reader's words (:func:`plain_keys`); the entries of an evidence table sorted
    by number (a cited entry is then found where its number says)."""
    nb = Numbering()
    lang = doc.lang

    def c(text: str) -> str:
        return nb.cite(plain_keys(text, lang))

    def table(t: Table) -> Table:
        # a verbatim quote is never changed
        rows = tuple(
            tuple(x if i in t.quote_cols else c(x) for i, x in enumerate(row)) for row in (t.header, *t.rows)
        )
        header, body = rows[0], rows[1:]
        row_ids = t.row_ids
        if t.quote_cols and row_ids:
            order = sorted(range(len(body)), key=lambda i: nb.number(row_ids[i]))
            body = tuple(body[i] for i in order)
            row_ids = tuple(row_ids[i] for i in order)
        return replace(t, header=header, rows=body, caption=c(t.caption), row_ids=row_ids)

    def block(b: Block) -> Block:
        if isinstance(b, Heading):
            return replace(b, text=c(b.text))
        if isinstance(b, Para):
            return replace(b, text=c(b.text))
        if isinstance(b, Bullets):
            return replace(b, items=tuple(c(x) for x in b.items))
        if isinstance(b, Facts):
            return replace(b, rows=tuple((c(k), c(v)) for k, v in b.rows))
        if isinstance(b, Table):
            return table(b)
        return replace(
            b,
            title=c(b.title),
            caption=c(b.caption),
            omitted=tuple(c(x) for x in b.omitted),
            data=table(b.data) if b.data is not None else None,
        )

    sections = tuple(
        replace(s, title=c(s.title), blocks=tuple(block(b) for b in s.blocks)) for s in doc.sections
    )
    return replace(doc, sections=sections, footer=tuple(c(x) for x in doc.footer), citations=nb.claims)


def _build(r: Report, lang: Lang) -> Document:
    a = r.assessment
    rec = r.record
    meta = [
        (label(lang, "patient"), a.patient_id),
        (label(lang, "age"), str(rec.age) if rec.age is not None else label(lang, "unknown")),
        (label(lang, "phase"), value(lang, rec.phase)),
        (label(lang, "transplant_eligible"), value(lang, rec.transplant_eligible)),
        (label(lang, "generated"), r.generated.isoformat()),
    ]
    v = r.versions
    footer = (
        f"{label(lang, 'versions')}: mmemd {v.mmemd} · {label(lang, 'knowledge_base')} {v.knowledge_base} · "
        f"{label(lang, 'criteria')} {v.response_criteria}, {v.high_risk_definition}, "
        f"ISS{_keys(lang, ['GREIPP05'])}, R-ISS{_keys(lang, ['PALUMBO15'])}, R2-ISS{_keys(lang, ['DAGOSTINO22'])}",
        label(lang, "cite_hint"),
        label(lang, "disclaimer"),
    )
    sections = (
        _summary(r, lang),
        _options_detail(r, lang),
        _prognosis(r, lang),
        _workup(r, lang),
        _charts(r, lang),
        _reasons_and_sources(r, lang),
    )
    return Document(
        lang=lang,
        title=label(lang, "title"),
        subtitle=label(lang, "subtitle"),
        meta=tuple(meta),
        sections=sections,
        footer=footer,
        cited_claims=r.cited_claims,
    )
