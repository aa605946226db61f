"""An ``mmemd.assessment/1`` (with decision support) → one CDS Hooks card (docs/criteria.md §5).

Pure: no I/O. The card is built as the :class:`~._cds_models.Card` model, so a card that breaks the spec (summary
of 140 characters or more, a null or empty field, an unknown indicator) cannot be emitted.

Indicator: ``critical`` for new extramedullary disease, progression or CNS involvement; ``warning`` for
high-risk status (IMS/IMWG 2025, docs/criteria.md §2.4); ``info`` otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final, Literal

from mmemd.service._cds_models import Card, Coding, Indicator, Link, Source

Lang = Literal["en", "zh"]

#: [I] a soft-tissue lesion counts as *new* extramedullary disease when it was detected at most this many days before
#: the latest date in the record (assessment dates, lesion detection dates, diagnosis date). The issue asks for
#: "critical for new extramedullary disease" without a time bound; 90 days is about one treatment-response interval
#: (IMWG assessments are typically every 1-3 months) and is documented in docs/cds-hooks.md.
NEW_EMD_WINDOW_DAYS: Final = 90
#: how many treatment options the card's detail lists (the full report has all of them)
TOP_OPTIONS: Final = 3
#: spec: "One-sentence, <140-character summary"
SUMMARY_MAX: Final = 139

OVERRIDE_REASON_SYSTEM: Final = "urn:mmemd:cds:override-reason"
OVERRIDE_REASONS: Final = (
    ("not-relevant", "Not relevant to this patient", "与该患者无关"),
    ("data-outdated", "Patient data incomplete or outdated", "患者数据不完整或已过时"),
    ("already-considered", "Already considered", "已考虑"),
)

_MD_SPECIAL: Final = re.compile(r"([\\`*_{}\[\]<>#|~])")


def md(text: str) -> str:
    """Escape text for GitHub-Flavored Markdown (knowledge-base and patient text must not become markup or HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _say(text: object, lang: Lang) -> str:
    """The engine's wording for the card: the internal keys it quotes ("refractory to bcma_car_t") in the reader's
    words, as the report shows them, then escaped."""
    from mmemd.report._i18n import plain_keys

    return md(plain_keys(str(text), lang))


@dataclass(frozen=True, slots=True)
class ImportNote:
    """A FHIR element that could not be mapped (listed in the detail, never dropped silently)."""

    where: str
    message_en: str
    message_zh: str


@dataclass(frozen=True, slots=True)
class IndicatorDecision:
    indicator: Indicator
    #: why (English and Chinese), in the order new EMD, progression, CNS, high risk
    because_en: tuple[str, ...]
    because_zh: tuple[str, ...]
    new_lesions: tuple[str, ...]


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if obj is None:
            return None
        obj = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
    return getattr(obj, "value", obj)


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def new_emd_lesions(record: Any, assessment: Any, window_days: int = NEW_EMD_WINDOW_DAYS) -> tuple[str, ...]:
    """Ids of soft-tissue lesions detected within ``window_days`` of the record's latest date (see the constant).

    Only when the assessment classifies extramedullary disease (``extramedullary`` or ``paraskeletal``, §3.3);
    intraosseous lesions are bone disease, not EMD. A lesion without ``detected_on`` but ``detected_at`` diagnosis is
    dated by the diagnosis date; a lesion with no usable date is not called new.
    """
    if _get(assessment, "emd", "category") not in ("extramedullary", "paraskeletal"):
        return ()
    dx = _as_date(_get(record, "diagnosis", "date"))
    dated: list[tuple[str, date]] = []
    for lesion in _get(record, "lesions") or ():
        if _get(lesion, "relation_to_bone") == "intraosseous":
            continue
        when = _as_date(_get(lesion, "detected_on"))
        if when is None and _get(lesion, "detected_at") == "diagnosis":
            when = dx
        if when is not None:
            dated.append((str(_get(lesion, "id")), when))
    dates = [d for _, d in dated]
    dates += [d for a in _get(record, "assessments") or () if (d := _as_date(_get(a, "date"))) is not None]
    if dx is not None:
        dates.append(dx)
    if not dated or not dates:
        return ()
    cutoff = max(dates) - timedelta(days=window_days)
    return tuple(sorted(lid for lid, when in dated if when >= cutoff))


def decide_indicator(record: Any, assessment: Any) -> IndicatorDecision:
    en: list[str] = []
    zh: list[str] = []
    new = new_emd_lesions(record, assessment)
    if new:
        en.append(f"new extramedullary disease ({', '.join(new)})")
        zh.append(f"新发髓外病变（{', '.join(new)}）")
    if (
        _get(assessment, "response", "progressive_disease") is True
        or _get(assessment, "response", "current") == "PD"
    ):
        en.append("progressive disease")
        zh.append("疾病进展")
    if _get(assessment, "emd", "cns") is True:
        en.append("CNS involvement")
        zh.append("中枢神经系统受累")
    if en:
        return IndicatorDecision("critical", tuple(en), tuple(zh), new)
    if _get(assessment, "staging", "high_risk") is True:
        return IndicatorDecision("warning", ("high-risk disease",), ("高危",), new)
    return IndicatorDecision("info", (), (), new)


_CATEGORY: Final[dict[str, tuple[str, str]]] = {
    "extramedullary": ("extramedullary disease", "髓外病变"),
    "paraskeletal": ("paraskeletal plasmacytoma", "骨旁浆细胞瘤"),
    "none": ("no EMD", "无髓外病变"),
    "solitary_bone_plasmacytoma": ("solitary bone plasmacytoma", "孤立性骨浆细胞瘤"),
    "solitary_extramedullary_plasmacytoma": ("solitary extramedullary plasmacytoma", "孤立性髓外浆细胞瘤"),
    "plasma_cell_leukemia": ("plasma cell leukemia", "浆细胞白血病"),
    "indeterminate": ("EMD indeterminate", "髓外病变无法判定"),
}
_TIMING: Final[dict[str, tuple[str, str]]] = {
    "primary": ("primary", "原发"),
    "secondary": ("secondary", "继发"),
}


def _t(lang: Lang, en: str, zh: str) -> str:
    return zh if lang == "zh" else en


def _category(assessment: Any, lang: Lang) -> str:
    cat = str(_get(assessment, "emd", "category"))
    en, zh = _CATEGORY.get(cat, (cat, cat))
    timing = _get(assessment, "emd", "timing")
    if timing in _TIMING:
        ten, tzh = _TIMING[timing]
        return _t(lang, f"{en} ({ten})", f"{tzh}{zh}")
    return _t(lang, en, zh)


def _site(site: str, lang: Lang) -> str:
    from mmemd.knowledge import vocabulary

    return vocabulary().label(site, lang)


def _response(category: Any, lang: Lang) -> str:
    text = str(category)
    if text in ("not_evaluable", "None"):
        return _t(lang, "not evaluable", "不可评估")
    return text


def _high_risk_features(record: Any, assessment: Any, lang: Lang) -> list[str]:
    """The high-risk features in the card's language, rendered as the report and the text summary render them."""
    from mmemd.report._basis import high_risk_texts

    return high_risk_texts(record, _get(assessment, "staging", "high_risk_features") or (), lang)


def _stage(assessment: Any) -> str | None:
    for name, key in (("R-ISS", ("staging", "r_iss")), ("ISS", ("staging", "iss"))):
        value = _get(assessment, *key)
        if value is not None:
            return f"{name} {value}"
    return None


def summary(record: Any, assessment: Any, decision: IndicatorDecision, lang: Lang) -> str:
    """One sentence under 140 characters: the urgent findings first, then class, stage/risk, response, options."""
    parts: list[str] = []
    because = decision.because_zh if lang == "zh" else decision.because_en
    if decision.indicator == "critical":
        parts.extend(because)
    parts.append(_category(assessment, lang))
    stage = _stage(assessment)
    if stage:
        parts.append(stage)
    if _get(assessment, "staging", "high_risk") is True:
        parts.append(_t(lang, "high risk", "高危"))
    current = _get(assessment, "response", "current")
    if (
        current
        and current not in ("not_evaluable", "baseline")
        and "progressive disease" not in decision.because_en
    ):
        parts.append(_t(lang, f"response {current}", f"疗效 {current}"))
    options = list(_get(assessment, "options") or ())
    if options:
        parts.append(_t(lang, f"{len(options)} evidence-graded options", f"{len(options)}项循证方案"))
    head = "mmemd: "
    sep = _t(lang, "; ", "；")
    out = head + parts[0]
    for part in parts[1:]:
        candidate = out + sep + part
        if len(candidate) > SUMMARY_MAX:
            break
        out = candidate
    if len(out) > SUMMARY_MAX:
        out = out[: SUMMARY_MAX - 1] + "…"
    return out


def _key_result_line(kr: Any, lang: Lang, cite: Callable[[Sequence[str]], str]) -> str:
    text = _get(kr, "zh") if lang == "zh" else _get(kr, "en")
    emd = _t(lang, ", EMD-specific", "，EMD特异性") if _get(kr, "emd_specific") else ""
    grade = f"{_t(lang, 'grade', '证据等级')} {_get(kr, 'grade')}{emd}"
    return f"{_say(text, lang)} " + _t(lang, f"({grade})", f"（{grade}）") + cite([str(_get(kr, "claim"))])


class _Citations:
    """The card cites claims by number, in order of first citation, and lists each number's publication at the end
    (as the report does): a clinician cannot look up a knowledge-base id."""

    def __init__(self) -> None:
        from mmemd.report._numbers import Numbering

        self.numbering = Numbering()

    def __call__(self, claim_ids: Sequence[str]) -> str:
        from mmemd.report._numbers import collapse

        if not claim_ids:
            return ""
        return f" \\[{collapse(self.numbering.number(c) for c in claim_ids)}\\]"

    def sources(self, kb: Any, lang: Lang) -> list[str]:
        """One line per number: the publication its claim is from (the review, section and the study it cites),
        then the reviews by title."""
        from mmemd.report._document import publications

        claims = self.numbering.claims
        if not claims:
            return []
        if kb is None:
            from mmemd.knowledge import load

            kb = load()
        pubs = publications(claims, kb, lang)
        lines = ["", f"### {_t(lang, 'Sources', '出处')}"]
        lines += [f"- \\[{n}\\] {md(pub)}" for n, pub in enumerate(pubs[: len(claims)], 1)]
        lines += [f"- {md(pub)}" for pub in pubs[len(claims) :]]
        return lines


def detail(
    record: Any,
    assessment: Any,
    decision: IndicatorDecision,
    lang: Lang,
    import_notes: Sequence[ImportNote] = (),
    text_lesions: Sequence[str] = (),
    kb: Any = None,
) -> str:
    """GitHub-Flavored Markdown: findings, the top options with key numbers and their numbered citations, open
    work-up, data notes, and the cited publications by number (``kb``: the knowledge base the claims are read from,
    loaded when not given).

    ``text_lesions``: ids of the lesions read from an imaging report's text, named as such (to be confirmed)."""
    cite = _Citations()
    lines: list[str] = []
    if decision.indicator != "info":
        because = decision.because_zh if lang == "zh" else decision.because_en
        level = _t(lang, decision.indicator, {"critical": "紧急", "warning": "警示"}[decision.indicator])
        label = _t(lang, f"Why this card is {level}", f"提示级别：{level}")
        lines += [f"**{label}:** {md(', '.join(because))}", ""]
    sites = [_site(str(s), lang) for s in _get(assessment, "emd", "sites") or ()]
    emd_line = f"**{_t(lang, 'EMD', '髓外病变')}:** {md(_category(assessment, lang))}"
    if sites:
        emd_line += (
            f"{_t(lang, '; ', '；')}{_t(lang, 'sites', '部位')}: {md(_t(lang, ', ', '、').join(sites))}"
        )
    cns = _get(assessment, "emd", "cns")
    if cns is not None:
        emd_line += f"; CNS: {_t(lang, 'yes', '是') if cns else _t(lang, 'no', '否')}"
    lines.append(emd_line + "  ")
    if text_lesions:
        lines.append(text_lesions_line(record, text_lesions, lang) + "  ")
    staging = [
        f"ISS {_get(assessment, 'staging', 'iss') or '?'}",
        f"R-ISS {_get(assessment, 'staging', 'r_iss') or '?'}",
    ]
    r2 = _get(assessment, "staging", "r2_iss", "group")
    staging.append(f"R2-ISS {r2 or '?'}")
    hr = _get(assessment, "staging", "high_risk")
    hr_text = {True: _t(lang, "high risk", "高危"), False: _t(lang, "not high risk", "非高危")}.get(
        hr, _t(lang, "risk unknown", "风险未知")
    )
    features = _high_risk_features(record, assessment, lang)
    if features:
        hr_text += _t(lang, f" ({md(', '.join(features))})", f"（{md('；'.join(features))}）")
    lines.append(f"**{_t(lang, 'Stage and risk', '分期与风险')}:** {' · '.join(staging)} · {hr_text}  ")
    resp = _response(_get(assessment, "response", "current"), lang)
    best = _response(_get(assessment, "response", "best"), lang)
    confirmed = _get(assessment, "response", "confirmed")
    conf = _t(lang, " (confirmed)", "（已确认）") if confirmed else ""
    lines.append(
        f"**{_t(lang, 'Response', '疗效')} (IMWG-2016):** {resp}{conf}; {_t(lang, 'best', '最佳')} {best}"
    )

    options = list(_get(assessment, "options") or ())[:TOP_OPTIONS]
    if options:
        lines += [
            "",
            f"### {_t(lang, 'Top treatment options (evidence, not a prescription)', '主要治疗方案（证据，非处方）')}",
        ]
        for i, opt in enumerate(options, 1):
            title = _get(opt, "title_zh") if lang == "zh" else _get(opt, "title_en")
            emd = (
                _t(lang, "EMD-specific evidence", "有EMD特异性证据")
                if _get(opt, "emd_specific_evidence")
                else ""
            )
            head = f"{i}. **{md(str(title))}** — {_t(lang, 'grade', '证据等级')} {_get(opt, 'grade')}"
            head += f", {_t(lang, 'score', '评分')} {_get(opt, 'score')}" + (f", {emd}" if emd else "")
            lines.append(head)
            for kr in list(_get(opt, "key_results") or ())[:3]:
                lines.append(f"   - {_key_result_line(kr, lang, cite)}")
            for caution in _get(opt, "cautions") or ():
                if _get(caution, "severity") != "major":
                    continue
                text = _get(caution, "zh") if lang == "zh" else _get(caution, "en")
                lines.append(f"   - ⚠ {_say(text, lang)}" + cite(list(_get(caution, "claims") or ())))
            lines.append(f"   - {_t(lang, 'Evidence', '证据')}:" + cite(list(_get(opt, "claims") or ())))

    not_suitable = list(_get(assessment, "considered_not_suitable") or ())
    if not_suitable:
        items = []
        for n in not_suitable:
            title = _get(n, "title_zh") if lang == "zh" else _get(n, "title_en")
            why = _get(n, "summary") or next(iter(_get(n, "reasons") or ()), None)
            reason = (_get(why, "zh") if lang == "zh" else _get(why, "en")) if why is not None else None
            items.append(
                md(str(title))
                + (_t(lang, f" ({_say(reason, lang)})", f"（{_say(reason, lang)}）") if reason else "")
            )
        label = _t(lang, "Considered, not suitable", "已考虑但不适合")
        lines += ["", f"**{label}:** " + _t(lang, "; ", "；").join(items)]

    # Where the reviews are silent on this patient's situation the card says so, as the report does, rather than
    # leaving the reader to assume evidence exists.
    def cited_list(heading: str, items: list[Any], zh_key: str, en_key: str) -> None:
        """A heading and one bullet per item in the card's language, each with the claims it rests on."""
        if not items:
            return
        lines.extend(["", f"### {heading}"])
        for item in items:
            text = _get(item, zh_key) if lang == "zh" else _get(item, en_key)
            lines.append(f"- {_say(text, lang)}" + cite(list(_get(item, "claims") or ())))

    statements = list(_get(assessment, "evidence_statements") or ())
    cited_list(_t(lang, "Evidence notes", "证据说明"), statements, "zh", "en")
    workup = list(_get(assessment, "workup") or ())
    cited_list(_t(lang, "Work-up still needed", "尚需完善的检查"), workup, "title_zh", "title_en")

    if import_notes:
        lines += ["", f"### {_t(lang, 'EHR data that could not be used', '未能使用的电子病历数据')}"]
        for note in import_notes:
            msg = note.message_zh if lang == "zh" else note.message_en
            lines.append(f"- `{note.where.replace('`', '')}`: {md(msg)}")

    lines += cite.sources(kb, lang)
    versions = _get(assessment, "versions")
    lines += [
        "",
        "---",
        md(
            _t(
                lang,
                "Decision support: evidence and its strength, not a prescription.",
                "决策支持：展示证据及其强度，不构成处方。",
            )
        )
        + f" mmemd {_get(versions, 'mmemd')} · {_get(versions, 'knowledge_base')} · "
        f"{_get(versions, 'response_criteria')} · {_get(versions, 'high_risk_definition')}",
    ]
    return "\n".join(lines)


def text_lesions_line(record: Any, lesion_ids: Sequence[str], lang: Lang) -> str:
    """Which lesions came from report text, by site name in the reader's language (the vocabulary's names), with
    their size when the latest assessment measured them: a clinician confirms each before relying on it."""
    from mmemd.knowledge import vocabulary

    sites = vocabulary().sites
    lesions = {str(_get(les, "id")): les for les in _get(record, "lesions") or ()}
    sizes: dict[str, str] = {}
    for a in _get(record, "assessments") or ():
        for p in _get(a, "plasmacytomas") or ():
            sizes[str(_get(p, "lesion"))] = f"{_get(p, 'longest_cm')} × {_get(p, 'perpendicular_cm')} cm"
    names: list[str] = []
    for lid in lesion_ids:
        site = str(_get(lesions.get(lid), "site"))
        term = sites.get(site)
        name = (term.zh if lang == "zh" else term.en) if term is not None else site
        size = sizes.get(lid)
        names.append(md(name) + (_t(lang, f" ({size})", f"（{size}）") if size else ""))
    label = _t(
        lang,
        "Read from imaging report text — confirm before use",
        "由影像报告文本提取，使用前须经医生确认",
    )
    return f"**{label}:** {_t(lang, ', ', '、').join(names)}"


def versions_dict(assessment: Any) -> dict[str, str]:
    versions = _get(assessment, "versions")
    names = ("mmemd", "knowledge_base", "response_criteria", "high_risk_definition")
    return {n: str(_get(versions, n)) for n in names if _get(versions, n)}


def assessment_card(
    record: Any,
    assessment: Any,
    *,
    card_uuid: str,
    lang: Lang = "en",
    source_url: str | None = None,
    report_links: Sequence[tuple[str, str]] = (),
    import_notes: Sequence[ImportNote] = (),
    text_lesions: Sequence[str] = (),
    kb: Any = None,
) -> Card:
    """The card for one assessed patient; ``report_links`` are ``(label, absolute url)`` pairs; ``text_lesions`` the
    ids of lesions read from imaging report text (the detail names them as such); ``kb`` the knowledge base the
    cited claims' publications are read from (loaded when not given)."""
    decision = decide_indicator(record, assessment)
    label = _t(
        lang, "mmemd — MM-EMD evidence (decision support)", "mmemd — 多发性骨髓瘤髓外病变证据（决策支持）"
    )
    return Card(
        uuid=card_uuid,
        summary=summary(record, assessment, decision, lang),
        detail=detail(record, assessment, decision, lang, import_notes, text_lesions, kb),
        indicator=decision.indicator,
        source=Source(
            label=label,
            url=source_url,
            topic=Coding(
                system="urn:mmemd:cds:topic",
                code="mm-emd",
                display="Multiple myeloma with extramedullary disease",
            ),
        ),
        links=[Link(label=text, url=url, type="absolute") for text, url in report_links] or None,
        override_reasons=[
            Coding(system=OVERRIDE_REASON_SYSTEM, code=code, display=zh if lang == "zh" else en)
            for code, en, zh in OVERRIDE_REASONS
        ],
        extension={"org.mmemd.versions": versions_dict(assessment)},
    )


#: Why a record could not be assessed, by problem code (``mmemd.errors/1``), for a Chinese card: the problem's own
#: message is English. A code not listed here is said in general words (``invalid``).
PROBLEM_ZH: Final[dict[str, str]] = {
    "missing": "缺少必填项",
    "unknown_field": "无法识别的字段",
    "unknown_unit": "单位不在允许范围内",
    "unknown_value": "取值不在允许范围内",
    "unknown_schema": "记录格式版本无法识别",
    "number_type": "应为数值",
    "number_not_finite": "数值无效（非有限数）",
    "negative_value": "数值不应为负",
    "out_of_range": "数值超出允许范围",
    "duplicate_key": "字段重复",
    "duplicate_id": "编号重复",
    "duplicate_line": "治疗线重复",
    "duplicate_date": "日期重复",
    "duplicate_baseline": "基线评估重复",
    "duplicate_measurement": "测量重复",
    "unordered_dates": "日期顺序有误",
    "unknown_lesion": "引用了未记录的病灶",
    "missing_involved_chain": "未注明受累轻链",
    "refractory_agent_not_in_line": "难治药物不在该线治疗方案中",
    "inconsistent": "数据前后矛盾",
    "model_type": "应为JSON对象",
    "malformed_json": "JSON格式有误",
    "invalid": "数据无效",
}


def problem_lines(problems: Sequence[Any], notes: Sequence[ImportNote], lang: Lang) -> list[str]:
    """The lines of a "record incomplete" card: each problem at its record path, then the import's notes."""
    if lang == "zh":
        lines = [f"- `{p.path}`：{PROBLEM_ZH.get(p.code, PROBLEM_ZH['invalid'])}" for p in problems]
    else:
        lines = [f"- `{p.path}`: {p.message}" for p in problems]
    return lines + [f"- `{n.where}`: {n.message_zh if lang == 'zh' else n.message_en}" for n in notes]


def report_link_labels(lang: Lang) -> tuple[tuple[str, str], tuple[str, str]]:
    """(label, language) of the card's two report links, the card's language first in a Chinese card; an English card
    keeps its labels as they were (the English one names its language in English)."""
    if lang == "zh":
        return (("完整报告（中文）", "zh"), ("完整报告（英文）", "en"))
    return (("Full report (English)", "en"), ("完整报告（中文）", "zh"))


def message_card(summary_text: str, detail_text: str, *, card_uuid: str, lang: Lang = "en") -> Card:
    """An ``info`` card when the patient has myeloma but the data do not allow an assessment (which fields, why)."""
    label = _t(
        lang, "mmemd — MM-EMD evidence (decision support)", "mmemd — 多发性骨髓瘤髓外病变证据（决策支持）"
    )
    return Card(
        uuid=card_uuid,
        summary=summary_text[:SUMMARY_MAX],
        detail=detail_text,
        indicator="info",
        source=Source(label=label),
    )
