"""Evaluate the declarative rule files against one patient: work-up, prognosis and treatment options.

Pure given its inputs (context, rules, knowledge base); the rule files are read once per process.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ValidationError

from mmemd.advice._conditions import CONDITIONS, Check, Outcome, evaluate, verdict
from mmemd.advice._context import PatientContext
from mmemd.advice._models import (
    Bilingual,
    Caution,
    KeyResult,
    OptionRule,
    PrognosisItem,
    PrognosisRule,
    TreatmentOption,
    WorkupItem,
    WorkupRule,
)
from mmemd.advice._score import option_score
from mmemd.knowledge import Claim, KnowledgeBase, load_glossary
from mmemd.knowledge._data import read_yaml

RULES_DIR: Final = Path(__file__).resolve().parent / "data"

#: Spec keys (docs/criteria.md §0 source register) a rule may cite besides knowledge-base claims.
SPEC_CITATIONS: Final = frozenset(
    {
        "GREIPP05",
        "PALUMBO15",
        "DAGOSTINO22",
        "IMS25",
        "ROSINOL21",
        "BLADE22",
        "TOUZEAU16",
        "BHUTANI20",
        "EMD-Tx",
        "PCL21",
    }
)


class RuleError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid decision-support rules:\n" + "\n".join(problems))


@dataclass(frozen=True)
class Rules:
    options: tuple[OptionRule, ...]
    workup: tuple[WorkupRule, ...]
    prognosis: tuple[PrognosisRule, ...]


@dataclass(frozen=True)
class Fired:
    """One rule's evaluation, for ``mmemd explain``."""

    kind: str
    id: str
    outcome: str
    checks: tuple[Check, ...]


def _parse(fname: str, key: str, model: type[BaseModel], problems: list[str]) -> list[Any]:
    doc = read_yaml(RULES_DIR / fname) or {}
    out = []
    for i, raw in enumerate(doc.get(key, [])):
        try:
            out.append(model.model_validate(raw))
        except ValidationError as exc:
            ident = raw.get("id", f"#{i + 1}") if isinstance(raw, dict) else f"#{i + 1}"
            for err in exc.errors():
                problems.append(f"{fname}: {ident}: {'.'.join(map(str, err['loc']))}: {err['msg']}")
    return out


def check_rules(rules: Rules, kb: KnowledgeBase) -> list[str]:
    """Every condition name known, every cited claim in the knowledge base, every agent in the vocabulary."""
    problems: list[str] = []
    vocab = kb.vocabulary

    def conds(where: str, when: dict[str, Any]) -> None:
        for name in when:
            if name not in CONDITIONS:
                problems.append(
                    f"{where}: unknown condition {name!r} (known: {', '.join(sorted(CONDITIONS))})"
                )

    def claims(where: str, ids: Iterable[str]) -> None:
        for cid in ids:
            if cid not in kb:
                problems.append(f"{where}: unknown claim {cid!r}")

    def cites(where: str, keys: Iterable[str]) -> None:
        for key in keys:
            if key not in SPEC_CITATIONS:
                problems.append(
                    f"{where}: unknown citation {key!r} (known: {', '.join(sorted(SPEC_CITATIONS))})"
                )

    seen: set[str] = set()
    for kind, items in (("options", rules.options), ("workup", rules.workup), ("prognosis", rules.prognosis)):
        for rule in items:
            where = f"{kind}.yaml: {rule.id}"
            if rule.id in seen:
                problems.append(f"{where}: duplicate id")
            seen.add(rule.id)
            conds(where, rule.when)
            cites(where, getattr(rule, "citations", ()))
    for opt in rules.options:
        where = f"options.yaml: {opt.id}"
        claims(where, opt.claims)
        for k in opt.key_claims:
            if k not in opt.claims:
                problems.append(f"{where}: key claim {k!r} is not among the option's claims")
        for agent in opt.agents:
            if agent not in vocab.therapy_ids:
                problems.append(f"{where}: unknown agent {agent!r}")
        for caution in opt.cautions:
            conds(f"{where} caution", caution.when)
            claims(f"{where} caution", caution.claims)
    for w in rules.workup:
        claims(f"workup.yaml: {w.id}", w.claims)
    for p in rules.prognosis:
        where = f"prognosis.yaml: {p.id}"
        claims(where, p.claims)
        if (p.figure_claim is None) == (p.figure is None):
            problems.append(f"{where}: give exactly one of figure_claim and figure")
        if p.figure_claim is not None:
            claims(where, [p.figure_claim])
        if p.figure is not None and not p.citations:
            problems.append(f"{where}: a figure not from a claim needs a citation")
    return problems


@lru_cache(maxsize=1)
def load_rules() -> Rules:
    problems: list[str] = []
    rules = Rules(
        options=tuple(_parse("options.yaml", "options", OptionRule, problems)),
        workup=tuple(_parse("workup.yaml", "workup", WorkupRule, problems)),
        prognosis=tuple(_parse("prognosis.yaml", "prognosis", PrognosisRule, problems)),
    )
    if problems:
        raise RuleError(problems)
    return rules


# ---- rendering claims as short results ---------------------------------------------------------------------------
def _num(x: Decimal | None) -> str:
    if x is None:
        return ""
    return format(x.normalize(), "f")


DIRECTION_ZH: Final = {
    "higher": "更高",
    "lower": "更低",
    "similar": "相似",
    "improved": "改善",
    "not_improved": "未改善",
    "worse": "更差",
    "associated": "相关",
    "effective": "有效",
    "limited": "有限",
    "safe": "安全",
    "uncertain": "不确定",
    "recommended": "推荐",
    "upregulated": "上调",
    "downregulated": "下调",
    "increased": "增加",
    "decreased": "降低",
}


def timepoint_zh(tp: str) -> str:
    """'3 years' -> '3年', '12 months' -> '12个月', and the glossary's phrases; other wording is kept."""
    return load_glossary().timepoint(tp, "zh")


_UNIT_EN: Final = {
    "%": "%",
    "months": " months",
    "years": " years",
    "patients": " patients",
    "cycles": " cycles",
}
_UNIT_ZH: Final = {"%": "%", "months": "个月", "years": "年", "patients": "例", "cycles": "个周期"}


def claim_value_text(c: Claim) -> tuple[str, str]:
    """A claim's figure in English and Chinese: '≥81%', '0.5–4.8%', '13.93 vs 9.46 months', or its direction
    ('improved') when no number is printed. Callers add their own context (counts, timepoint, P)."""
    if c.value is None:
        d = c.direction.value if c.direction else ""
        return d.replace("_", " "), DIRECTION_ZH.get(d, d)
    ue, uz = _UNIT_EN.get(c.unit or "", ""), _UNIT_ZH.get(c.unit or "", "")
    if c.unit == "patients" and c.value == 1 and c.value_max is None and c.comparator_value is None:
        ue = " patient"  # "1 patient", not "1 patients"
    q = c.value_qualifier or ""
    rng = f"–{_num(c.value_max)}" if c.value_max is not None else ""
    en, zh = f"{q}{_num(c.value)}{rng}{ue}", f"{q}{_num(c.value)}{rng}{uz}"
    if c.comparator_value is not None:
        en += f" vs {_num(c.comparator_value)}{ue}"
        zh += f" vs {_num(c.comparator_value)}{uz}"
    return en, zh


def _figure(c: Claim) -> tuple[str, str]:
    """'81%' / '13.93 vs 9.46 months' / '3/7 patients' / 'improved' in English and Chinese."""
    if c.value is not None and c.unit == "patients" and c.value_max is None and c.comparator_value is None:
        n = c.n_emd if (c.emd_specific and c.n_emd) else c.n_total
        if n:
            return f"{_num(c.value)}/{n} patient{'s' if n != 1 else ''}", f"{_num(c.value)}/{n}例"
    en, zh = claim_value_text(c)
    if c.value is not None and c.p:
        en += f" (P{c.p})"
        zh += f"（P{c.p}）"
    return en, zh


def key_result(c: Claim, kb: KnowledgeBase) -> KeyResult:
    ep = kb.vocabulary.endpoints.get(c.endpoint)
    ep_en, ep_zh = (ep.en, ep.zh) if ep else (c.endpoint, c.endpoint)
    fig_en, fig_zh = _figure(c)
    if (
        c.unit == "patients"
    ):  # a count: "complete response 2/2 patients", not "complete response rate 2 patients"
        ep_en = ep_en.removesuffix(" rate")
        ep_zh = ep_zh.removesuffix("率")
    who = c.study or ("meta-analysis" if c.design.value == "meta_analysis" else "")
    who_zh = c.study or ("荟萃分析" if c.design.value == "meta_analysis" else "")
    n = c.n_emd if (c.emd_specific and c.n_emd) else c.n_total
    counted = c.unit == "patients" and "/" in fig_en
    n_en = "" if (counted or not n) else f", n={n}" + (" EMD" if c.emd_specific and c.n_emd else "")
    n_zh = "" if (counted or not n) else f"，n={n}" + ("（EMD）" if c.emd_specific and c.n_emd else "")
    arms = (
        f" ({c.arm} vs {c.comparator_arm})"
        if c.arm and c.comparator_arm
        else (f" ({c.arm})" if c.arm else "")
    )
    tp = f" ({c.timepoint})" if c.timepoint else ""
    tp_zh = f"（{timepoint_zh(c.timepoint)}）" if c.timepoint else ""
    en = f"{who + ': ' if who else ''}{ep_en}{tp} {fig_en}{arms}{n_en}"
    # Chinese puts no space between an endpoint and a word (疗效不确定, 无进展生存改善); a number keeps its space.
    gap = " " if c.value is not None else ""
    zh = f"{who_zh + '：' if who_zh else ''}{ep_zh}{tp_zh}{gap}{fig_zh}{n_zh}"
    return KeyResult(claim=c.id, en=en.strip(), zh=zh.strip(), grade=c.grade, emd_specific=c.emd_specific)


# ---- evaluation --------------------------------------------------------------------------------------------------
def _because(checks: Sequence[Check], skip: Iterable[str] = ()) -> list[Bilingual]:
    skip = set(skip)
    return [Bilingual(en=c.en, zh=c.zh) for c in checks if c.outcome == "met" and c.condition not in skip]


#: Classes whose refractoriness says nothing about an option: dexamethasone is part of nearly every line, and
#: transplant and local therapy are not drugs a disease becomes refractory to.
_NO_REFRACTORY_CAUTION: Final = frozenset({"corticosteroid", "transplant", "local_therapy"})


def _refractory_cautions(opt: OptionRule, ctx: PatientContext, kb: KnowledgeBase) -> list[Caution]:
    """Automatic caution for every agent of the option (or its class) the disease is refractory to."""
    out = []
    # An option written for refractory disease (daratumumab re-use after daratumumab) is not cautioned for it.
    intended = set(opt.when.get("refractory_to_any", ()))
    for agent in opt.agents:
        cls = kb.vocabulary.agent_class(agent)
        if cls in _NO_REFRACTORY_CAUTION or agent in intended or cls in intended:
            continue
        if agent in ctx.refractory:
            why = ctx.refractory_because[agent]
            out.append(
                Caution(
                    en=f"Disease refractory to {agent}: response to re-treatment with it is not expected without a new partner class.",
                    zh=f"疾病为{kb.vocabulary.label(agent, 'zh')}难治：单纯再次使用预期难以获益，需联合新类别药物。",
                    severity="major",
                    because=[why],
                    because_zh=[ctx.refractory_because_zh.get(agent, why)],
                )
            )
        elif cls is not None and cls in ctx.refractory:
            why = ctx.refractory_because[cls]
            out.append(
                Caution(
                    en=f"Disease refractory to a drug of the same class ({kb.vocabulary.label(cls, 'en')}) as {agent}.",
                    zh=f"疾病为{kb.vocabulary.label(cls, 'zh')}难治（与{kb.vocabulary.label(agent, 'zh')}同类）。",
                    severity="minor",
                    because=[why],
                    because_zh=[ctx.refractory_because_zh.get(cls, why)],
                )
            )
    return out


_EVIDENCE_CACHE: dict[tuple[str, str], tuple[str, str | None, list[KeyResult]]] = {}


def _option_evidence(opt: OptionRule, kb: KnowledgeBase) -> tuple[str, str | None, list[KeyResult]]:
    """Best grade, best EMD-specific grade and key results of an option: patient-independent, computed once."""
    key = (kb.version, opt.id)  # the version is a content hash: same version, same evidence
    cached = _EVIDENCE_CACHE.get(key)
    if cached is None:
        claims = [kb.get(cid) for cid in opt.claims]
        outcome = [c for c in claims if c.category.value in ("treatment_outcome", "treatment_recommendation")]
        outcome = outcome or claims
        emd_grades = [c.grade for c in outcome if c.emd_specific]
        cached = (
            min(c.grade for c in outcome),
            min(emd_grades) if emd_grades else None,
            [key_result(kb.get(cid), kb) for cid in opt.key_claims],
        )
        _EVIDENCE_CACHE[key] = cached
    return cached


def evaluate_option(
    opt: OptionRule, ctx: PatientContext, kb: KnowledgeBase
) -> tuple[Outcome, tuple[Check, ...], TreatmentOption | None]:
    checks = tuple(evaluate(opt.when, ctx))
    outcome = verdict(checks)
    if outcome != "met":
        return outcome, checks, None
    cautions: list[Caution] = []
    for rule in opt.cautions:
        c_checks = evaluate(rule.when, ctx)
        if verdict(c_checks) == "met":
            cautions.append(
                Caution(
                    en=rule.en,
                    zh=rule.zh,
                    claims=list(rule.claims),
                    severity=rule.severity,
                    because=[c.en for c in c_checks if c.outcome == "met"],
                    because_zh=[c.zh for c in c_checks if c.outcome == "met"],
                )
            )
    cautions += _refractory_cautions(opt, ctx, kb)
    grade, emd_grade, key = _option_evidence(opt, kb)
    applies = _because(checks)
    breakdown = option_score(grade, emd_grade, checks, cautions)
    option = TreatmentOption(
        id=opt.id,
        title_zh=opt.title_zh,
        title_en=opt.title_en,
        agents=list(opt.agents),
        applies_because=applies,
        cautions=cautions,
        claims=list(opt.claims),
        key_results=key,
        grade=grade,
        emd_specific_evidence=emd_grade is not None,
        emd_evidence_grade=emd_grade,
        score=breakdown.evidence + breakdown.emd_specific + breakdown.match + breakdown.cautions,
        score_breakdown=breakdown,
        citations=list(opt.citations),
        note_en=opt.note_en,
        note_zh=opt.note_zh,
    )
    return outcome, checks, option


def _prognosis_item(
    rule: PrognosisRule, checks: Sequence[Check], ctx: PatientContext, kb: KnowledgeBase
) -> PrognosisItem:
    base: dict[str, Any] = {
        "id": rule.id,
        "en": rule.en,
        "zh": rule.zh,
        "claims": list(dict.fromkeys([*([rule.figure_claim] if rule.figure_claim else []), *rule.claims])),
        "citations": list(rule.citations),
        "because": _because(checks),
    }
    if rule.figure_claim is not None:
        c = kb.get(rule.figure_claim)
        g = load_glossary()
        pop = f"{c.population.disease}" + (f", {c.population.subgroup}" if c.population.subgroup else "")
        pop_zh = f"{c.population.disease}" + (
            f"，{g.phrase(c.population.subgroup, 'zh')}" if c.population.subgroup else ""
        )
        if c.arm:
            pop += f" ({c.arm}{' vs ' + c.comparator_arm if c.comparator_arm else ''})"
            versus = f" vs {g.phrase(c.comparator_arm, 'zh')}" if c.comparator_arm else ""
            pop_zh += f"（{g.phrase(c.arm, 'zh')}{versus}）"
        n = c.n_emd if (c.emd_specific and c.n_emd) else c.n_total
        if n:
            pop += f", n={n}"
            pop_zh += f"，n={n}"
        base.update(
            value=c.value,
            value_max=c.value_max,
            value_qualifier=c.value_qualifier,
            unit=c.unit,
            comparator_value=c.comparator_value,
            timepoint=c.timepoint,
            population=pop,
            population_zh=pop_zh,
        )
    else:
        assert rule.figure is not None
        base.update(rule.figure.model_dump())
    return PrognosisItem.model_validate(base)


@dataclass(frozen=True)
class Advice:
    workup: list[WorkupItem]
    prognosis: list[PrognosisItem]
    options: list[TreatmentOption]
    trace: tuple[Fired, ...]


#: Evidence for a situation is thin — and clinical-trial enrolment is offered — when no fired option has
#: EMD-specific evidence graded better than these.
THIN_EVIDENCE_GRADES: Final = frozenset({"C", "D"})


def advise_context(ctx: PatientContext, kb: KnowledgeBase, rules: Rules | None = None) -> Advice:
    rules = rules or load_rules()
    trace: list[Fired] = []
    workup: list[WorkupItem] = []
    for w in rules.workup:
        checks = tuple(evaluate(w.when, ctx))
        outcome = verdict(checks)
        trace.append(Fired("workup", w.id, outcome, checks))
        if outcome == "met":
            workup.append(
                WorkupItem(
                    id=w.id,
                    title_zh=w.title_zh,
                    title_en=w.title_en,
                    because=_because(checks),
                    claims=list(w.claims),
                    citations=list(w.citations),
                    detail_en=w.detail_en,
                    detail_zh=w.detail_zh,
                )
            )
    prognosis: list[PrognosisItem] = []
    for p in rules.prognosis:
        checks = tuple(evaluate(p.when, ctx))
        outcome = verdict(checks)
        trace.append(Fired("prognosis", p.id, outcome, checks))
        if outcome == "met":
            prognosis.append(_prognosis_item(p, checks, ctx, kb))
    options: list[TreatmentOption] = []
    trial_rule: OptionRule | None = None
    for opt in rules.options:
        if opt.id == "clinical_trial":
            trial_rule = opt
            continue
        outcome, checks, option = evaluate_option(opt, ctx, kb)
        trace.append(Fired("option", opt.id, outcome, checks))
        if option is not None:
            options.append(option)
    if trial_rule is not None:
        # Clinical-trial enrolment is offered whenever evidence for this situation is thin: its own conditions, and
        # no fired option with EMD-specific evidence better than grade C.
        outcome, checks, option = evaluate_option(trial_rule, ctx, kb)
        thin = not any(o.emd_evidence_grade not in (None, *THIN_EVIDENCE_GRADES) for o in options)
        thin_check = Check(
            "thin_evidence",
            "met" if thin else "not_met",
            "no option has EMD-specific evidence better than grade C"
            if thin
            else "an option has EMD-specific grade A or B evidence",
            "无任何方案具有高于C级的EMD特异性证据" if thin else "已有A或B级EMD特异性证据支持的方案",
        )
        checks = (*checks, thin_check)
        trace.append(Fired("option", trial_rule.id, "met" if option and thin else verdict(checks), checks))
        if option is not None and thin:
            options.append(
                option.model_copy(
                    update={
                        "applies_because": [
                            *option.applies_because,
                            Bilingual(en=thin_check.en, zh=thin_check.zh),
                        ]
                    }
                )
            )
    options.sort(key=lambda o: (-o.score, o.id))
    return Advice(workup=workup, prognosis=prognosis, options=options, trace=tuple(trace))
