"""Evaluate the declarative rule files against one patient: work-up, prognosis and treatment options.

Pure given its inputs (context, rules, knowledge base); the rule files are read once per process.
"""

from __future__ import annotations

import marshal
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, TypeVar, cast

import msgspec
from pydantic import VERSION as PYDANTIC_VERSION
from pydantic import BaseModel, ValidationError

from mmemd import _validated
from mmemd._validated import plain, rebuilder
from mmemd.advice import _models
from mmemd.advice._conditions import CONDITIONS, Check, CompiledWhen, Outcome, compile_when, evaluate, verdict
from mmemd.advice._context import PatientContext, term_label
from mmemd.advice._models import (
    Bilingual,
    Caution,
    EvidenceStatement,
    KeyResult,
    NotSuitable,
    OptionRule,
    PrognosisItem,
    PrognosisRule,
    StatementRule,
    TreatmentOption,
    WorkupItem,
    WorkupRule,
)
from mmemd.advice._score import option_score
from mmemd.clinical.context import BCMA_DIRECTED
from mmemd.knowledge import Claim, KnowledgeBase, load_glossary
from mmemd.knowledge._data import kept_validated, read_yaml, stamp_name

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
        "CAERS18",
        "KUMAR16",
    }
)


class RuleError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid decision-support rules:\n" + "\n".join(problems))


class Rules(msgspec.Struct, frozen=True, dict=True):
    options: tuple[OptionRule, ...]
    workup: tuple[WorkupRule, ...]
    prognosis: tuple[PrognosisRule, ...]
    statements: tuple[StatementRule, ...] = ()


class Fired(msgspec.Struct, frozen=True):
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
    for kind, items in (
        ("options", rules.options),
        ("workup", rules.workup),
        ("prognosis", rules.prognosis),
        ("statements", rules.statements),
    ):
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
        for ex in opt.exclude:
            conds(f"{where} exclude", ex.when)
            claims(f"{where} exclude", ex.claims)
    for st in rules.statements:
        claims(f"statements.yaml: {st.id}", st.claims)
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


#: (file, key in the file and field of :class:`Rules`, rule model) of the four rule files
_RULE_FILES: Final[tuple[tuple[str, str, type[BaseModel]], ...]] = (
    ("options.yaml", "options", OptionRule),
    ("workup.yaml", "workup", WorkupRule),
    ("prognosis.yaml", "prognosis", PrognosisRule),
    ("statements.yaml", "statements", StatementRule),
)


def _validated_rules() -> Rules:
    """The rule files validated, every problem listed at once (:class:`RuleError`)."""
    problems: list[str] = []
    parsed: dict[str, Any] = {
        key: tuple(_parse(fname, key, model, problems)) for fname, key, model in _RULE_FILES
    }
    if problems:
        raise RuleError(problems)
    return Rules(**parsed)


def _validated_values(rules: Rules) -> bytes:
    """Every rule as validated values (:func:`mmemd._validated.plain`), by kind, as marshal."""
    return marshal.dumps({key: [plain(r) for r in getattr(rules, key)] for _, key, _ in _RULE_FILES})


def _from_validated(blob: bytes) -> Rules:
    kept = marshal.loads(blob)
    rebuilt: dict[str, Any] = {key: tuple(map(rebuilder(model), kept[key])) for _, key, model in _RULE_FILES}
    return Rules(**rebuilt)


def _kept_name() -> str:
    # per checkout and pydantic version: pydantic decides what validated values are
    return stamp_name(f"rules-pydantic-{PYDANTIC_VERSION}", RULES_DIR)


@lru_cache(maxsize=1)
def load_rules() -> Rules:
    """The packaged decision-support rules (read once per process).

    Validating them is a function of the rule files, the rule models and pydantic: the result is kept by the files'
    ``stat`` (:func:`~mmemd.knowledge._data.stamped`) as the rules' validated values, and while none changed the
    rules are rebuilt from those (:mod:`mmemd._validated`) — equal to validated ones, without building the rule
    models' validators (they are ``defer_build``). A file written, added or removed means validating, and reporting
    its problems, as before; a damaged entry means validating too.
    """
    files = [RULES_DIR / fname for fname, _, _ in _RULE_FILES]
    return kept_validated(
        _kept_name(),
        [*files, Path(_models.__file__), Path(_validated.__file__)],
        lambda: _validated_rules(),  # looked up when called: tests count the validations
        _validated_values,
        _from_validated,
    )


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
    return [_reason(c) for c in checks if c.outcome == "met" and c.condition not in skip]


#: A met check's reason by the check (shared; ``Bilingual`` is frozen): the same check recurs across rules and patients.
_REASONS: dict[Check, Bilingual] = {}


def _reason(c: Check) -> Bilingual:
    hit = _REASONS.get(c)
    if hit is None:
        hit = _keep(_REASONS, c, Bilingual(en=c.en, zh=c.zh), _REASONS_KEPT)
    return hit


#: Classes whose refractoriness says nothing about an option: dexamethasone is part of nearly every line, and
#: transplant and local therapy are not drugs a disease becomes refractory to.
_NO_REFRACTORY_CAUTION: Final = frozenset({"corticosteroid", "transplant", "local_therapy"})

#: Pathways whose disease is EMD in the reviews' sense; elsewhere EMD-specific evidence does not apply.
_EMD_PATHWAYS: Final = frozenset({"myeloma_emd", "myeloma_paraskeletal"})


_CLASSES: dict[tuple[str, str], tuple[str, ...]] = {}
_KEY_AGENTS: dict[tuple[str, str], tuple[str, ...]] = {}


def _classes(agent: str, kb: KnowledgeBase) -> tuple[str, ...]:
    key = (kb.version, agent)  # patient-independent: computed once per knowledge-base version
    hit = _CLASSES.get(key)
    if hit is None:
        cls = kb.vocabulary.agent_class(agent)
        out = (cls,) if cls else ()
        hit = _CLASSES[key] = (*out, "bcma_directed") if agent in BCMA_DIRECTED else out
    return hit


def _key_agents(opt: OptionRule, kb: KnowledgeBase) -> tuple[str, ...]:
    """The option's anti-myeloma drugs: not dexamethasone, not a procedure."""
    key = (kb.version, opt.id)
    hit = _KEY_AGENTS.get(key)
    if hit is None:
        hit = _KEY_AGENTS[key] = tuple(
            a for a in opt.agents if kb.vocabulary.agent_class(a) not in _NO_REFRACTORY_CAUTION
        )
    return hit


#: ``_intended`` by the rule's identity (the rule is held in the entry): a function of the rule alone.
_INTENDED: dict[int, tuple[OptionRule, frozenset[str]]] = {}


def _intended(opt: OptionRule) -> frozenset[str]:
    """Agents or classes an option is written for refractory disease to (daratumumab re-use with a new class)."""
    hit = _INTENDED.get(id(opt))
    if hit is None or hit[0] is not opt:
        hit = _keep(
            _INTENDED, id(opt), (opt, frozenset(str(x) for x in opt.when.get("refractory_to_any", ())))
        )
    return hit[1]


def new_classes(opt: OptionRule, ctx: PatientContext, kb: KnowledgeBase) -> list[str]:
    """Drug classes of the option the patient has never received (empty when the history is unknown)."""
    if not ctx.exposures and ctx.phase != "newly_diagnosed":
        return []
    return sorted({c for a in _key_agents(opt, kb) for c in _classes(a, kb) if c not in ctx.exposed})


#: The drug classes of an option's key agents, by (knowledge-base version, option id): patient-independent.
_KEY_CLASSES: dict[tuple[str, str], frozenset[str]] = {}


def _adds_class(opt: OptionRule, ctx: PatientContext, kb: KnowledgeBase) -> bool:
    """``bool(new_classes(opt, ctx, kb))`` without building the sorted list (read for every option ranked)."""
    if not ctx.exposures and ctx.phase != "newly_diagnosed":
        return False
    key = (kb.version, opt.id)
    classes = _KEY_CLASSES.get(key)
    if classes is None:
        classes = _KEY_CLASSES[key] = frozenset(c for a in _key_agents(opt, kb) for c in _classes(a, kb))
    return not classes <= ctx.exposed


def _refractory_cautions(opt: OptionRule, ctx: PatientContext, kb: KnowledgeBase) -> list[Caution]:
    """Automatic major caution for every key agent of the option (or its class) the disease is refractory to."""
    out = []
    intended = _intended(opt)
    for agent in _key_agents(opt, kb):
        classes = _classes(agent, kb)
        if agent in intended or any(c in intended for c in classes):
            continue
        if agent in ctx.refractory:
            why = ctx.refractory_because.get(agent, f"refractory to {agent}")
            out.append(
                Caution(
                    en=f"Disease refractory to {agent}: re-treatment is offered only because the option adds a drug class not given before.",
                    zh=f"疾病为{kb.vocabulary.label(agent, 'zh')}难治：仅因本方案加入既往未用过的新类别药物而列出。",
                    severity="major",
                    because=[why],
                    because_zh=[ctx.refractory_because_zh.get(agent, why)],
                )
            )
            continue
        for cls in classes:
            if cls in ctx.refractory:
                why = ctx.refractory_because.get(cls, f"refractory to {cls}")
                out.append(
                    Caution(
                        en=f"Disease refractory to a drug of the same class ({term_label(kb.vocabulary, cls, 'en')}) as {agent}: response is less likely.",
                        zh=f"疾病为{term_label(kb.vocabulary, cls, 'zh')}难治（与{kb.vocabulary.label(agent, 'zh')}同类），疗效可能下降。",
                        severity="major",
                        because=[why],
                        because_zh=[ctx.refractory_because_zh.get(cls, why)],
                    )
                )
                break
    return out


def _not_suitable_reasons(
    opt: OptionRule,
    ctx: PatientContext,
    kb: KnowledgeBase,
    exclude_checks: Sequence[Sequence[Check]] | None = None,
) -> tuple[list[Bilingual], list[str], list[Check], list[Bilingual]]:
    """Why a fired option is not offered: an exclusion rule, refractoriness to a key agent without a new class,
    or the option is the regimen the patient is on now. ``exclude_checks``: each exclusion's checks when already
    made (the compiled rules), else they are evaluated here."""
    reasons: list[Bilingual] = []
    short: list[Bilingual] = []
    claims: list[str] = []
    checks: list[Check] = []
    for i, ex in enumerate(opt.exclude):
        ex_checks = exclude_checks[i] if exclude_checks is not None else evaluate(ex.when, ctx)
        if verdict(ex_checks) == "met":
            checks += ex_checks
            met = "; ".join(c.en for c in ex_checks if c.outcome == "met")
            met_zh = "；".join(c.zh for c in ex_checks if c.outcome == "met")
            reasons.append(Bilingual(en=f"{ex.en} ({met})", zh=f"{ex.zh}（{met_zh}）"))
            short.append(Bilingual(en=met, zh=met_zh))
            claims += ex.claims
    key = _key_agents(opt, kb)
    intended = _intended(opt)
    refractory = [a for a in key if a in ctx.refractory and a not in intended]
    if refractory and not _adds_class(opt, ctx, kb):
        why = "; ".join(ctx.refractory_because.get(a, a) for a in refractory)
        names_zh = "、".join(kb.vocabulary.label(a, "zh") for a in refractory)
        reasons.append(
            Bilingual(
                en=f"Disease refractory to {', '.join(refractory)} and the option adds no drug class not given before ({why}).",
                zh=f"疾病为{names_zh}难治，且本方案未加入既往未用过的新类别药物。",
            )
        )
        short.append(Bilingual(en=f"refractory to {', '.join(refractory)}", zh=f"{names_zh}难治"))
    current = ctx.current_agents
    line_refractory = bool(
        ctx.clinical and ctx.clinical.current_line and ctx.clinical.current_line.refractory.value
    )
    if key and all(a in current for a in key) and not refractory and not line_refractory:
        line = ctx.clinical.current_line.line if ctx.clinical and ctx.clinical.current_line else "?"
        resp = ctx.response_current if ctx.response_current != "not_evaluable" else None
        reasons.append(
            Bilingual(
                en=f"Already the current regimen (line {line}; current response {resp or 'not evaluable'}): "
                "not a new option.",
                zh=f"即当前正在使用的方案（第{line}线；当前疗效{resp or '无法评估'}），并非新的选择。",
            )
        )
        short.append(Bilingual(en=f"current regimen (line {line})", zh=f"当前方案（第{line}线）"))
    return reasons, claims, checks, short


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


_NOT_APPLICABLE: Final = Bilingual(
    en="EMD-specific evidence not applicable: no EMD in the reviews' sense; only general-myeloma evidence counts.",
    zh="髓外病变专属证据不适用：患者无综述所定义的髓外病变，仅计入骨髓瘤总体证据。",
)


OptionResult = tuple[Outcome, tuple[Check, ...], TreatmentOption | NotSuitable | None]


def evaluate_option(opt: OptionRule, ctx: PatientContext, kb: KnowledgeBase) -> OptionResult:
    """``met`` with a :class:`TreatmentOption` (offered) or a :class:`NotSuitable` (fired but not offered)."""
    return _evaluate_option(opt, tuple(evaluate(opt.when, ctx)), ctx, kb)


def _evaluate_option(
    opt: OptionRule,
    checks: tuple[Check, ...],
    ctx: PatientContext,
    kb: KnowledgeBase,
    exclude_checks: Sequence[Sequence[Check]] | None = None,
    caution_checks: Sequence[Sequence[Check]] | None = None,
) -> OptionResult:
    """``exclude_checks``, ``caution_checks``: the exclusions' and cautions' checks when already made (the compiled
    rules); else they are evaluated here with the reference interpreter."""
    outcome = verdict(checks)
    if outcome != "met":
        return outcome, checks, None
    reasons, ex_claims, ex_checks, short = _not_suitable_reasons(opt, ctx, kb, exclude_checks)
    if reasons:
        return (
            outcome,
            (*checks, *ex_checks),
            NotSuitable(
                id=opt.id,
                title_zh=opt.title_zh,
                title_en=opt.title_en,
                reasons=reasons,
                claims=ex_claims,
                summary=short[0],
            ),
        )
    cautions: list[Caution] = []
    never_first = opt.never_first
    for i, rule in enumerate(opt.cautions):
        c_checks = caution_checks[i] if caution_checks is not None else evaluate(rule.when, ctx)
        if verdict(c_checks) == "met":
            never_first = never_first or rule.never_first
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
    # re-treatment with a refractory agent (offered only because a new class is added) is never listed first
    if any(a in ctx.refractory for a in _key_agents(opt, kb)):
        never_first = True
    grade, emd_grade, key = _option_evidence(opt, kb)
    note = None
    if emd_grade is not None and ctx.pathway is not None and ctx.pathway not in _EMD_PATHWAYS:
        emd_grade, note = None, _NOT_APPLICABLE
    applies = _because(checks)
    breakdown = option_score(grade, emd_grade, checks, cautions)
    tier = 2 if never_first else (1 if any(c.severity == "major" for c in cautions) else 0)
    option = _treatment_option(
        opt.id,
        opt.title_zh,
        opt.title_en,
        list(opt.agents),
        applies,
        cautions,
        list(opt.claims),
        list(key),
        grade,
        emd_grade is not None,
        emd_grade,
        breakdown.evidence + breakdown.applicability + breakdown.penalties,
        breakdown,
        list(opt.citations),
        opt.note_en,
        opt.note_zh,
        0,  # rank: set when ranked
        tier,
        opt.role,
        None,  # rank_reason: set when ranked
        note,
    )
    return outcome, checks, option


def _in_field_order(cls: type[_M]) -> Callable[..., _M]:
    """``cls.model_construct`` with every field given, positionally in declaration order (clinical/response.py)."""
    from mmemd.clinical.response import _fields_in_order

    return _fields_in_order(cls)


_M = TypeVar("_M", bound=BaseModel)
#: Every value below already has its type (strings and ints from the validated rule files and claims, models built
#: here): what ``model_construct`` gives, without validation or its per-call walk over the fields — an option is
#: built for each distinct patient situation that meets its rule.
_treatment_option = _in_field_order(TreatmentOption)


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


class Advice(msgspec.Struct, frozen=True):
    workup: list[WorkupItem]
    prognosis: list[PrognosisItem]
    options: list[TreatmentOption]
    trace: tuple[Fired, ...]
    not_suitable: list[NotSuitable] = msgspec.field(default_factory=list)
    statements: list[EvidenceStatement] = msgspec.field(default_factory=list)
    context: PatientContext | None = None


#: Evidence for a situation is thin — and clinical-trial enrolment is offered — when no fired option has
#: EMD-specific evidence graded better than these.
THIN_EVIDENCE_GRADES: Final = frozenset({"C", "D"})

#: The clinical order that breaks ties between options of equal tier and score (docs/advice.md "Score and ranking"):
#: newly diagnosed — induction, then consolidation; relapsed — a drug class not given before, CAR-T, a trial. Local
#: radiotherapy comes first for a mass that is not responding (SD, MR or PD), else after these.
ROLE_ORDER: Final[dict[str, tuple[str, ...]]] = {
    "newly_diagnosed": (
        "induction",
        "consolidation",
        "new_class",
        "car_t",
        "trial",
        "local",
        "other",
        "intensive",
    ),
    "relapsed_refractory": (
        "new_class",
        "car_t",
        "trial",
        "local",
        "induction",
        "consolidation",
        "other",
        "intensive",
    ),
}
_NOT_RESPONDING: Final = frozenset({"SD", "MR", "PD"})
#: Entities the reviews hold no evidence for (emdrev §1 excludes them from EMD): the score cannot order their
#: options, so the pathway's clinical order does (PCL: induction, then a trial, then consolidation after response).
ORDER_ONLY_PATHWAYS: Final = frozenset({"plasma_cell_leukemia", "solitary_plasmacytoma"})
ROLE_LABEL: Final = {
    "induction": ("induction first", "先行诱导治疗"),
    "consolidation": ("consolidation after induction", "诱导后巩固"),
    "new_class": ("adds a drug class not given before", "加入既往未用过的新类别药物"),
    "car_t": ("CAR-T", "CAR-T治疗"),
    "trial": ("clinical trial", "临床试验"),
    "local": ("local control of the mass", "局部病灶控制"),
    "intensive": ("intensive approach", "强化治疗策略"),
    "other": ("other systemic therapy", "其他全身治疗"),
}
TIER_LABEL: Final = {
    0: ("no major caution", "无重大注意事项"),
    1: (
        "a major caution: ranked below options without one",
        "存在重大注意事项：排在无重大注意事项的方案之后",
    ),
    2: ("never listed first", "不作为首选列出"),
}


def _effective_role(o: TreatmentOption, rule: OptionRule, ctx: PatientContext, kb: KnowledgeBase) -> str:
    if ctx.phase == "relapsed_refractory" and o.role in ("other", "induction") and _adds_class(rule, ctx, kb):
        return "new_class"
    return o.role


def rank_options(
    options: list[TreatmentOption], by_id: dict[str, OptionRule], ctx: PatientContext, kb: KnowledgeBase
) -> list[TreatmentOption]:
    """Order: tier (0 no major caution, 1 a major caution, 2 never first), then — newly diagnosed — induction first
    and consolidation after it, then score, then the clinical role order, then the documented order of the rule
    file — never the option's name."""
    # PCL and solitary plasmacytoma follow their own pathway whatever the phase: induction (or local therapy) first
    phase = "newly_diagnosed" if ctx.pathway in ORDER_ONLY_PATHWAYS else ctx.phase
    order = ROLE_ORDER.get(phase, ROLE_ORDER["newly_diagnosed"])
    local_first = ctx.response_current in _NOT_RESPONDING and ctx.emd_present is True
    position = _positions(by_id)
    roles = {o.id: _effective_role(o, by_id[o.id], ctx, kb) for o in options}

    def role_rank(role: str) -> int:
        return -1 if (role == "local" and local_first) else order.index(role)

    # Sequence of a newly diagnosed patient's treatment (emdrev §6.2; ROSINOL21): induction first, then the other
    # options by score, and consolidation (transplant) after induction while an induction option is listed.
    induction_listed = any(roles[o.id] == "induction" for o in options)

    def after_induction(o: TreatmentOption) -> int:
        if ctx.phase != "newly_diagnosed" or not induction_listed:
            return 1
        return {"induction": 0, "consolidation": 2}.get(roles[o.id], 1)

    if ctx.pathway in ORDER_ONLY_PATHWAYS:
        ranked = sorted(options, key=lambda o: (o.tier, role_rank(roles[o.id]), position[o.id]))
    else:
        ranked = sorted(
            options,
            key=lambda o: (o.tier, after_induction(o), -o.score, role_rank(roles[o.id]), position[o.id]),
        )
    return [_ranked(o, i, roles[o.id]) for i, o in enumerate(ranked, 1)]


#: The documented order of the rule file (position of each option id) by the identity of its ``by_id`` map; the entry
#: holds the map, so that an id cannot be reused while it lives.
_POSITIONS: dict[int, tuple[dict[str, OptionRule], dict[str, int]]] = {}


def _positions(by_id: dict[str, OptionRule]) -> dict[str, int]:
    hit = _POSITIONS.get(id(by_id))
    if hit is not None and hit[0] is by_id and len(hit[1]) == len(by_id):
        return hit[1]
    position = {r.id: i for i, r in enumerate(by_id.values())}
    _keep(_POSITIONS, id(by_id), (by_id, position), _RANKED_KEPT)
    return position


#: Ranked copies of kept options by (option, rank, role): the copy is a function of the three. Keyed by the option's
#: identity, with the option held in the entry so that the identity cannot be reused while the entry lives.
_RANKED: dict[tuple[int, int, str], tuple[TreatmentOption, TreatmentOption]] = {}


def _ranked(o: TreatmentOption, i: int, role: str) -> TreatmentOption:
    key = (id(o), i, role)
    hit = _RANKED.get(key)
    if hit is not None and hit[0] is o:
        return hit[1]
    out = o.model_copy(update={"rank": i, "role": role, "rank_reason": _rank_reason(o, i, role)})
    _keep(_RANKED, key, (o, out), _RANKED_KEPT)
    return out


#: Rank reasons by what they print: far fewer distinct lines than ranked options (shared; ``Bilingual`` is frozen).
_RANK_REASONS: dict[tuple[int, int, int, int, int, int, str], Bilingual] = {}


def _rank_reason(o: TreatmentOption, i: int, role: str) -> Bilingual:
    sb = o.score_breakdown
    key = (i, o.tier, o.score, sb.evidence, sb.applicability, sb.penalties, role)
    hit = _RANK_REASONS.get(key)
    if hit is None:
        t_en, t_zh = TIER_LABEL[o.tier]
        r_en, r_zh = ROLE_LABEL[role]
        # the score's parts in the order evidence + applicability − penalties (docs/advice.md "Score and ranking")
        parts = f"{sb.evidence} + {sb.applicability} − {abs(sb.penalties)}"
        en = f"#{i} · {t_en} · score {o.score} = {parts} · {r_en}"
        zh = f"第{i}位 · {t_zh} · 评分{o.score} = {parts} · {r_zh}"
        hit = _keep(_RANK_REASONS, key, Bilingual(en=en, zh=zh), _RANKED_KEPT)
    return hit


# ---- compiled rules ----------------------------------------------------------------------------------------------
# The rule files are compiled once per knowledge-base version: each ``when`` into a closure of compiled conditions
# (advice/_conditions.py), and each rule keeps the items it has made by the facts they were made from. An item is a
# pure function of its rule's checks and, for an option, of the few further facts its cautions, exclusions and
# refractoriness read (listed in ``_CompiledOption.evaluate``); the same facts give the same item, so a batch of
# patients builds each distinct item once. Items are shared between assessments: read them, never mutate them.

#: Items kept per rule (and ranked copies kept in all) before the store is emptied: bounds memory whatever the number
#: of patients — an option item is a few kB, so all options' stores together stay within a few tens of MB per process
#: (the batch's memory budget covers two workers). Facts that take many values (an eGFR, an age in a reason) make
#: distinct items, and emptying a full store costs only their rebuilding.
_ITEMS_KEPT: Final = 128
_RANKED_KEPT: Final = 512
_REASONS_KEPT: Final = 1024


def _keep(store: dict[Any, Any], key: Any, value: Any, most: int = _ITEMS_KEPT) -> Any:
    if len(store) >= most:
        store.clear()
    store[key] = value
    return value


def _if_met(checks: tuple[Check, ...]) -> tuple[Check, ...] | None:
    """The checks of a met exclusion or caution; None for one not met, whatever its reasons say."""
    return checks if verdict(checks) == "met" else None


def _current_line_facts(ctx: PatientContext) -> tuple[int, bool | None] | None:
    line = ctx.clinical.current_line if ctx.clinical is not None else None
    return (line.line, line.refractory.value) if line is not None else None


def _patient_key(ctx: PatientContext) -> tuple[Any, ...]:
    """The facts every option's outcome reads besides its own checks (part of each option's key; the same for all
    options of one patient, so gathered once per patient)."""
    return (
        bool(ctx.exposures),
        ctx.phase,
        ctx.current_agents,
        _current_line_facts(ctx),
        ctx.response_current,
        ctx.pathway,
    )


class _CompiledRule(msgspec.Struct, frozen=True):
    rule: Any
    kind: str
    when: CompiledWhen
    #: (trace entry, item or None) by the rule's checks
    kept: dict[tuple[Check, ...], tuple[Fired, Any]] = msgspec.field(default_factory=dict)

    def evaluate(
        self, ctx: PatientContext, make: Callable[[Any, tuple[Check, ...]], Any]
    ) -> tuple[Fired, Any]:
        """The rule's trace entry, and its item (``make(rule, checks)``) when it fires."""
        checks = self.when(ctx)
        hit = self.kept.get(checks)
        if hit is None:
            outcome = verdict(checks)
            item = make(self.rule, checks) if outcome == "met" else None
            hit = _keep(self.kept, checks, (Fired(self.kind, self.rule.id, outcome, checks), item))
        return hit


class _CompiledOption(msgspec.Struct, frozen=True):
    rule: OptionRule
    when: CompiledWhen
    exclude: tuple[CompiledWhen, ...]
    cautions: tuple[CompiledWhen, ...]
    #: the key agents and their classes: refractoriness and its reasons (cautions, not suitable)
    watched: tuple[str, ...]
    #: the key agents' classes: exposure (does the option add a class not given before)
    classes: tuple[str, ...]
    kept: dict[Any, OptionResult] = msgspec.field(default_factory=dict)
    #: trace entries by (outcome shown, checks)
    fired: dict[tuple[str, tuple[Check, ...]], Fired] = msgspec.field(default_factory=dict)

    def trace(self, outcome: str, checks: tuple[Check, ...]) -> Fired:
        hit = self.fired.get((outcome, checks))
        if hit is None:
            hit = _keep(self.fired, (outcome, checks), Fired("option", self.rule.id, outcome, checks))
        return hit

    def evaluate(
        self, ctx: PatientContext, kb: KnowledgeBase, shared: tuple[Any, ...] | None = None
    ) -> OptionResult:
        """``shared``: :func:`_patient_key` of ``ctx``, when the caller has it (the same for every option)."""
        checks = self.when(ctx)
        outcome = verdict(checks)
        if outcome != "met":
            return outcome, checks, None
        # everything ``_evaluate_option`` reads of the patient besides the option's own checks; of an exclusion or a
        # caution only a met one's checks are read (its reasons), so one not met keys by nothing but that
        excluded = [w(ctx) for w in self.exclude]
        cautioned = [w(ctx) for w in self.cautions]
        key = (
            checks,
            tuple([_if_met(c) for c in excluded]),
            tuple([_if_met(c) for c in cautioned]),
            tuple(
                [
                    # the reasons are read only for what the disease is refractory to
                    (ctx.refractory_because.get(x), ctx.refractory_because_zh.get(x))
                    if x in ctx.refractory
                    else None
                    for x in self.watched
                ]
            ),
            tuple([c in ctx.exposed for c in self.classes]),
            _patient_key(ctx) if shared is None else shared,
        )
        hit = self.kept.get(key)
        if hit is None:
            hit = _keep(self.kept, key, _evaluate_option(self.rule, checks, ctx, kb, excluded, cautioned))
        return cast(OptionResult, hit)


class _CompiledRules(msgspec.Struct, frozen=True):
    workup: tuple[_CompiledRule, ...]
    prognosis: tuple[_CompiledRule, ...]
    statements: tuple[_CompiledRule, ...]
    options: tuple[_CompiledOption, ...]
    trial: _CompiledOption | None
    by_id: dict[str, OptionRule]


def _compile_option(opt: OptionRule, kb: KnowledgeBase) -> _CompiledOption:
    key = _key_agents(opt, kb)
    classes = tuple(dict.fromkeys(c for a in key for c in _classes(a, kb)))
    return _CompiledOption(
        rule=opt,
        when=compile_when(opt.when),
        exclude=tuple(compile_when(ex.when) for ex in opt.exclude),
        cautions=tuple(compile_when(c.when) for c in opt.cautions),
        watched=tuple(dict.fromkeys((*key, *classes))),
        classes=classes,
    )


def _compile(rules: Rules, kb: KnowledgeBase) -> _CompiledRules:
    options = [_compile_option(o, kb) for o in rules.options]
    trial = next((o for o in options if o.rule.id == "clinical_trial"), None)
    return _CompiledRules(
        workup=tuple(_CompiledRule(w, "workup", compile_when(w.when)) for w in rules.workup),
        prognosis=tuple(_CompiledRule(p, "prognosis", compile_when(p.when)) for p in rules.prognosis),
        statements=tuple(_CompiledRule(st, "statement", compile_when(st.when)) for st in rules.statements),
        options=tuple(o for o in options if o is not trial),
        trial=trial,
        by_id={r.id: r for r in rules.options},
    )


def compiled_rules(rules: Rules, kb: KnowledgeBase) -> _CompiledRules:
    """The compiled form of ``rules`` for ``kb``'s vocabulary and claims, built on first use and kept with the rules
    (one per knowledge-base version: the version is a content hash)."""
    store: dict[str, _CompiledRules] | None = rules.__dict__.get("_compiled")
    if store is None:
        store = {}
        rules.__dict__["_compiled"] = store  # beside the fields (the rules are frozen)
    hit = store.get(kb.version)
    if hit is None:
        hit = store[kb.version] = _compile(rules, kb)
    return hit


def _workup_item(w: WorkupRule, checks: tuple[Check, ...]) -> WorkupItem:
    return WorkupItem(
        id=w.id,
        title_zh=w.title_zh,
        title_en=w.title_en,
        because=_because(checks),
        claims=list(w.claims),
        citations=list(w.citations),
        detail_en=w.detail_en,
        detail_zh=w.detail_zh,
    )


def _statement(st: StatementRule, checks: tuple[Check, ...]) -> EvidenceStatement:
    return EvidenceStatement(
        id=st.id,
        en=st.en,
        zh=st.zh,
        claims=list(st.claims),
        citations=list(st.citations),
        because=_because(checks),
    )


_THIN: dict[int, tuple[TreatmentOption, TreatmentOption]] = {}


def _with_thin_evidence(trial: TreatmentOption, thin_check: Check) -> TreatmentOption:
    """The kept trial option with the thin-evidence reason added (kept by the option's identity, as ``_RANKED``)."""
    hit = _THIN.get(id(trial))
    if hit is not None and hit[0] is trial:
        return hit[1]
    because = [*trial.applies_because, Bilingual(en=thin_check.en, zh=thin_check.zh)]
    out = trial.model_copy(update={"applies_because": because})
    _keep(_THIN, id(trial), (trial, out))
    return out


def advise_context(ctx: PatientContext, kb: KnowledgeBase, rules: Rules | None = None) -> Advice:
    compiled = compiled_rules(rules or load_rules(), kb)
    trace: list[Fired] = []
    workup: list[WorkupItem] = []
    for w in compiled.workup:
        fired, item = w.evaluate(ctx, _workup_item)
        trace.append(fired)
        if item is not None:
            workup.append(item)
    prognosis: list[PrognosisItem] = []

    def make_prognosis(
        rule: PrognosisRule, checks: tuple[Check, ...]
    ) -> PrognosisItem:  # once, not once a rule
        return _prognosis_item(rule, checks, ctx, kb)

    for p in compiled.prognosis:
        fired, item = p.evaluate(ctx, make_prognosis)
        trace.append(fired)
        if item is not None:
            prognosis.append(item)
    statements: list[EvidenceStatement] = []
    for st in compiled.statements:
        fired, item = st.evaluate(ctx, _statement)
        trace.append(fired)
        if item is not None:
            statements.append(item)
    options: list[TreatmentOption] = []
    not_suitable: list[NotSuitable] = []
    shared = _patient_key(ctx)
    for opt in compiled.options:
        outcome, checks, result = opt.evaluate(ctx, kb, shared)
        if isinstance(result, NotSuitable):
            trace.append(opt.trace("not suitable", checks))
            not_suitable.append(result)
            continue
        trace.append(opt.trace(outcome, checks))
        if result is not None:
            options.append(result)
    if compiled.trial is not None:
        # Clinical-trial enrolment is offered whenever evidence for this situation is thin: its own conditions, and
        # no fired option with EMD-specific evidence better than grade C.
        outcome, checks, result = compiled.trial.evaluate(ctx, kb, shared)
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
        offered = isinstance(result, TreatmentOption) and thin
        trace.append(compiled.trial.trace("met" if offered else verdict(checks), checks))
        if isinstance(result, TreatmentOption) and thin:
            options.append(_with_thin_evidence(result, thin_check))
    return Advice(
        workup=workup,
        prognosis=prognosis,
        options=rank_options(options, compiled.by_id, ctx, kb),
        trace=tuple(trace),
        not_suitable=not_suitable,
        statements=statements,
        context=ctx,
    )
