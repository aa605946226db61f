"""Rule conditions: each evaluates to met / not met / undecided (a needed fact is unknown), with its reason.

A rule's ``when`` is a mapping of condition name to argument; all must be met for the rule to fire. The names and
their meaning are the rule language documented in docs/advice.md; an unknown name is a load-time error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from operator import attrgetter
from typing import Any, Final, Literal, NamedTuple

from mmemd.advice._context import PatientContext

Outcome = Literal["met", "not_met", "undecided"]

#: Staging labs by their Chinese names (labs_missing).
_LAB_ZH: Final = {"beta2_microglobulin": "β2微球蛋白", "albumin": "白蛋白", "ldh": "LDH"}

#: EMD categories in Chinese, as the report names them (emd.category of mmemd.assessment/1).
_EMD_CATEGORY_ZH: Final = {
    "extramedullary": "髓外（EM-E，不与骨相连）",
    "paraskeletal": "骨旁（EM-B，源于骨）",
    "none": "无髓外病变",
    "solitary_bone_plasmacytoma": "孤立性骨浆细胞瘤",
    "solitary_extramedullary_plasmacytoma": "孤立性髓外浆细胞瘤",
    "plasma_cell_leukemia": "浆细胞白血病",
    "indeterminate": "无法确定",
}

#: Ways a lesion can be histologically or cytologically confirmed (docs/record.md `confirmed_by`).
_TISSUE_CONFIRMED: Final = frozenset({"biopsy", "cytology", "csf_flow_cytometry"})


class Check(NamedTuple):
    """One condition's outcome and its reason. A tuple: the compiled rules key what they keep by tuples of checks,
    and a tuple hashes and compares in C."""

    condition: str
    outcome: Outcome
    en: str
    zh: str


def _tri(value: bool | None, want: bool) -> Outcome:
    if value is None:
        return "undecided"
    return "met" if value is want else "not_met"


def _names(ids: Sequence[str]) -> str:
    return ", ".join(ids)


def _names_zh(ids: Sequence[str]) -> str:
    """Agents and classes by their Chinese names (NMPA names where they exist), never by vocabulary id."""
    from mmemd.advice._context import term_label
    from mmemd.knowledge import vocabulary

    vocab = vocabulary()
    return "、".join(term_label(vocab, i, "zh") for i in ids)


#: The clinical context's facts by their Chinese names (a reason when the context could not be derived).
_FACT_ZH: Final = {
    "frail": "体弱",
    "renal_insufficiency": "肾功能不全",
    "reduced_kidney_function": "肾功能减退",
    "transplant_unsuitable": "不适合移植",
    "prior_asct": "既往自体移植",
    "prior_allogeneic_sct": "既往异基因移植",
    "prior_bcma_car_t": "既往BCMA CAR-T治疗",
    "triple_class_refractory": "三类药物难治",
}


def _history_known(ctx: PatientContext) -> bool:
    # A newly diagnosed patient has no prior therapy by definition; a relapsed one without a recorded history has an
    # unknown history.
    return bool(ctx.exposures) or ctx.phase == "newly_diagnosed"


def _phase(ctx: PatientContext, arg: Any) -> Check:
    label = {
        "newly_diagnosed": ("newly diagnosed", "新诊断"),
        "relapsed_refractory": ("relapsed/refractory", "复发难治"),
    }
    en, zh = label.get(str(arg), (str(arg), str(arg)))
    outcome: Outcome = "met" if ctx.phase == arg else "not_met"
    return Check("phase", outcome, f"phase: {en}", f"疾病阶段：{zh}")


def _bool_fact(
    name: str, en: str, zh: str, getter: Callable[[PatientContext], bool | None]
) -> Callable[..., Check]:
    def check(ctx: PatientContext, arg: Any) -> Check:
        want = bool(arg)
        value = getter(ctx)
        neg_en, neg_zh = ("" if want else "no ", "" if want else "无")
        if value is None:
            return Check(name, "undecided", f"{en}: not recorded", f"{zh}：未记录")
        return Check(name, _tri(value, want), f"{neg_en}{en}", f"{neg_zh}{zh}")

    return check


def _age_below(ctx: PatientContext, arg: Any) -> Check:
    if ctx.age is None:
        return Check("age_below", "undecided", "age: not recorded", "年龄：未记录")
    outcome: Outcome = "met" if ctx.age < int(arg) else "not_met"
    return Check("age_below", outcome, f"age {ctx.age} (< {arg})", f"年龄{ctx.age}岁（<{arg}岁）")


def _age_at_least(ctx: PatientContext, arg: Any) -> Check:
    if ctx.age is None:
        return Check("age_at_least", "undecided", "age: not recorded", "年龄：未记录")
    outcome: Outcome = "met" if ctx.age >= int(arg) else "not_met"
    return Check("age_at_least", outcome, f"age {ctx.age} (≥ {arg})", f"年龄{ctx.age}岁（≥{arg}岁）")


def _emd_category(ctx: PatientContext, arg: Any) -> Check:
    wanted = [str(a) for a in arg]
    # "indeterminate" is undecided for a rule about a category, but a fact for a rule written for it (PET-CT to settle).
    if ctx.emd_category is None or (ctx.emd_category == "indeterminate" and "indeterminate" not in wanted):
        return Check("emd_category", "undecided", "EMD category indeterminate", "髓外病变类型不确定")
    outcome: Outcome = "met" if ctx.emd_category in wanted else "not_met"
    return Check(
        "emd_category",
        outcome,
        f"EMD category: {ctx.emd_category}",
        f"髓外病变类型：{_EMD_CATEGORY_ZH.get(ctx.emd_category, ctx.emd_category)}",
    )


def _emd_timing(ctx: PatientContext, arg: Any) -> Check:
    if ctx.emd_timing is None:
        return Check("emd_timing", "undecided", "EMD timing unknown", "髓外病变出现时间未知")
    label = {
        "primary": ("EMD at diagnosis", "初诊时髓外病变"),
        "secondary": ("EMD at relapse", "复发时髓外病变"),
    }
    en, zh = label.get(ctx.emd_timing, (ctx.emd_timing, ctx.emd_timing))
    return Check("emd_timing", "met" if ctx.emd_timing == arg else "not_met", en, zh)


def _needs_history(
    name: str,
) -> Callable[[Callable[[PatientContext, Any], Check]], Callable[[PatientContext, Any], Check]]:
    """Conditions on prior therapy are undecided when the therapy history is unknown (see :func:`_history_known`)."""

    def wrap(check: Callable[[PatientContext, Any], Check]) -> Callable[[PatientContext, Any], Check]:
        def guarded(ctx: PatientContext, arg: Any) -> Check:
            if not _history_known(ctx):
                return Check(name, "undecided", "therapy history not recorded", "既往治疗史未记录")
            return check(ctx, arg)

        return guarded

    return wrap


@_needs_history("exposed_to_all")
def _exposed_to_all(ctx: PatientContext, arg: Any) -> Check:
    ids = [str(a) for a in arg]
    met = all(i in ctx.exposed for i in ids)
    return Check(
        "exposed_to_all",
        "met" if met else "not_met",
        f"previously exposed to {_names(ids)}" if met else f"not exposed to all of {_names(ids)}",
        f"既往接受过{_names_zh(ids)}" if met else f"未全部接受过{_names_zh(ids)}",
    )


@_needs_history("exposed_to_any")
def _exposed_to_any(ctx: PatientContext, arg: Any) -> Check:
    ids = [str(a) for a in arg]
    hit = [i for i in ids if i in ctx.exposed]
    return Check(
        "exposed_to_any",
        "met" if hit else "not_met",
        f"previously exposed to {_names(hit)}" if hit else f"not exposed to {_names(ids)}",
        f"既往接受过{_names_zh(hit)}" if hit else f"未接受过{_names_zh(ids)}",
    )


_NEGATED: Final[dict[Outcome, Outcome]] = {"met": "not_met", "not_met": "met", "undecided": "undecided"}


def _negation(
    name: str, positive: Callable[[PatientContext, Any], Check]
) -> Callable[[PatientContext, Any], Check]:
    """``not_<x>``: the opposite outcome with the same reason (an unknown stays undecided)."""

    def check(ctx: PatientContext, arg: Any) -> Check:
        c = positive(ctx, arg)
        return Check(name, _NEGATED[c.outcome], c.en, c.zh)

    return check


@_needs_history("refractory_to_any")
def _refractory_to_any(ctx: PatientContext, arg: Any) -> Check:
    ids = [str(a) for a in arg]
    hit = [i for i in ids if i in ctx.refractory]
    return Check(
        "refractory_to_any",
        "met" if hit else "not_met",
        f"refractory to {_names(hit)}" if hit else f"not refractory to {_names(ids)}",
        f"{_names_zh(hit)}难治" if hit else f"非{_names_zh(ids)}难治",
    )


def _lesion_not_tissue_confirmed(ctx: PatientContext, arg: Any) -> Check:
    unconfirmed = [
        str(les.get("id"))
        for les in ctx.lesions
        if les.get("biopsy_proven") is not True and les.get("confirmed_by") not in _TISSUE_CONFIRMED
    ]
    outcome: Outcome = "met" if bool(unconfirmed) is bool(arg) else "not_met"
    if unconfirmed:
        return Check(
            "lesion_not_tissue_confirmed",
            outcome,
            f"lesion(s) {_names(unconfirmed)} without biopsy or cytology",
            f"病灶{'、'.join(unconfirmed)}未经活检或细胞学证实",
        )
    return Check(
        "lesion_not_tissue_confirmed", outcome, "every lesion tissue-confirmed", "所有病灶均经病理证实"
    )


def _lesion_near_spine(ctx: PatientContext, arg: Any) -> Check:
    near = [
        str(les.get("id"))
        for les in ctx.lesions
        if les.get("site") == "paravertebral" or les.get("relation_to_bone") == "arising_from_bone"
    ]
    outcome: Outcome = "met" if bool(near) is bool(arg) else "not_met"
    return Check(
        "lesion_near_spine",
        outcome,
        f"lesion(s) {_names(near)} paravertebral or arising from bone" if near else "no paraskeletal lesion",
        f"病灶{'、'.join(near)}位于椎旁或起源于骨" if near else "无骨旁病灶",
    )


def _no_pet_ct(ctx: PatientContext, arg: Any) -> Check:
    pet = any(les.get("modality") == "PET-CT" for les in ctx.lesions)
    outcome: Outcome = "met" if (not pet) is bool(arg) else "not_met"
    if pet:
        return Check("no_pet_ct", outcome, "lesions staged by PET-CT", "病灶已行PET-CT评估")
    return Check("no_pet_ct", outcome, "no lesion imaged by PET-CT", "无病灶经PET-CT评估")


def _cytogenetics_missing(ctx: PatientContext, arg: Any) -> Check:
    missing = [
        n
        for n, v in (("del(17p)", ctx.del_17p), ("t(4;14)", ctx.t_4_14), ("t(14;16)", ctx.t_14_16))
        if v is None
    ]
    outcome: Outcome = "met" if bool(missing) is bool(arg) else "not_met"
    return Check(
        "cytogenetics_missing",
        outcome,
        f"FISH result missing: {_names(missing)}" if missing else "high-risk FISH results recorded",
        f"缺少FISH结果：{'、'.join(missing)}" if missing else "高危FISH结果已记录",
    )


def _labs_missing(ctx: PatientContext, arg: Any) -> Check:
    outcome: Outcome = "met" if bool(ctx.labs_missing) is bool(arg) else "not_met"
    names = _names(list(ctx.labs_missing))
    return Check(
        "labs_missing",
        outcome,
        f"staging labs missing: {names}" if ctx.labs_missing else "staging labs recorded",
        f"分期所需检验缺失：{'、'.join(_LAB_ZH.get(x, x) for x in ctx.labs_missing)}"
        if ctx.labs_missing
        else "分期所需检验已记录",
    )


def _stage(field: str, label: str) -> Callable[..., Check]:
    def check(ctx: PatientContext, arg: Any) -> Check:
        value = getattr(ctx, field)
        if value is None:
            return Check(field, "undecided", f"{label} not determinable", f"{label}无法确定")
        wanted = [str(a) for a in (arg if isinstance(arg, list) else [arg])]
        return Check(field, "met" if value in wanted else "not_met", f"{label} {value}", f"{label} {value}期")

    return check


_PATHWAY_LABEL: Final = {
    "solitary_plasmacytoma": ("solitary plasmacytoma", "孤立性浆细胞瘤"),
    "plasma_cell_leukemia": ("plasma cell leukaemia", "浆细胞白血病"),
    "indeterminate": ("diagnosis not established", "诊断尚未明确"),
    "myeloma_without_emd": ("myeloma without EMD", "无髓外病变的骨髓瘤"),
    "myeloma_paraskeletal": ("myeloma with paraskeletal disease", "伴骨旁病变的骨髓瘤"),
    "myeloma_emd": ("myeloma with extramedullary disease", "伴髓外病变的骨髓瘤"),
}


def _pathway(ctx: PatientContext, arg: Any) -> Check:
    # every option rule carries this condition: its checks are cached by (pathway, wanted)
    return _pathway_check(ctx.pathway, tuple(arg) if isinstance(arg, list) else (arg,))


@lru_cache(maxsize=256)
def _pathway_check(pathway: str | None, wanted: tuple[str, ...]) -> Check:
    if pathway is None:
        return Check("pathway", "undecided", "disease entity not classified", "疾病类型未分类")
    en, zh = _PATHWAY_LABEL.get(pathway, (pathway, pathway))
    return Check("pathway", "met" if pathway in wanted else "not_met", f"entity: {en}", f"疾病类型：{zh}")


#: IMWG 2016 response levels, lowest to highest (PD below SD).
_RESPONSE_ORDER: Final = {"PD": 0, "SD": 1, "MR": 2, "PR": 3, "VGPR": 4, "CR": 5, "sCR": 6}


def _response_at_least(ctx: PatientContext, arg: Any) -> Check:
    current = ctx.response_current
    if current not in _RESPONSE_ORDER:
        return Check("response_at_least", "undecided", "current response not evaluable", "当前疗效无法评估")
    met = _RESPONSE_ORDER[current] >= _RESPONSE_ORDER[str(arg)]
    return Check(
        "response_at_least",
        "met" if met else "not_met",
        f"current response {current} ({'≥' if met else '<'} {arg})",
        f"当前疗效{current}（{'≥' if met else '<'}{arg}）",
    )


def _clinical_fact(name: str) -> Callable[[PatientContext, Any], Check]:
    """A three-valued fact of the shared patient context (clinical/context.py), with its own reason."""

    zh = _FACT_ZH[name]  # a fact without a Chinese name fails at import, not in a clinician's output

    def check(ctx: PatientContext, arg: Any) -> Check:
        if ctx.clinical is None:
            return Check(name, "undecided", f"{name.replace('_', ' ')}: not derived", f"{zh}：未推导")
        fact = getattr(ctx.clinical, name)
        return Check(name, _tri(fact.value, bool(arg)), fact.en, fact.zh)

    return check


def _on_current_regimen(ctx: PatientContext, arg: Any) -> Check:
    agents = [str(a) for a in arg]
    current = ctx.current_agents
    if not current:
        return Check("on_current_regimen", "not_met", "no current regimen recorded", "未记录当前治疗方案")
    hit = [a for a in agents if a in current]
    line = ctx.clinical.current_line.line if ctx.clinical and ctx.clinical.current_line else "?"
    return Check(
        "on_current_regimen",
        "met" if hit else "not_met",
        f"current line {line} includes {_names(hit)}"
        if hit
        else f"current line {line} has none of {_names(agents)}",
        f"当前第{line}线方案包含{_names_zh(hit)}" if hit else f"当前第{line}线方案不含{_names_zh(agents)}",
    )


CONDITIONS: Final[dict[str, Callable[[PatientContext, Any], Check]]] = {
    "pathway": _pathway,
    "response_at_least": _response_at_least,
    "not_response_at_least": _negation("not_response_at_least", _response_at_least),
    "frail": _clinical_fact("frail"),
    "renal_insufficiency": _clinical_fact("renal_insufficiency"),
    "reduced_kidney_function": _clinical_fact("reduced_kidney_function"),
    "transplant_unsuitable": _clinical_fact("transplant_unsuitable"),
    "prior_asct": _clinical_fact("prior_asct"),
    "prior_allogeneic_sct": _clinical_fact("prior_allogeneic_sct"),
    "prior_bcma_car_t": _clinical_fact("prior_bcma_car_t"),
    "triple_class_refractory": _clinical_fact("triple_class_refractory"),
    "on_current_regimen": _on_current_regimen,
    "phase": _phase,
    "transplant_eligible": _bool_fact(
        "transplant_eligible", "transplant-eligible", "适合移植", lambda c: c.transplant_eligible
    ),
    "age_below": _age_below,
    "age_at_least": _age_at_least,
    "emd_present": _bool_fact("emd_present", "extramedullary disease", "伴髓外病变", lambda c: c.emd_present),
    "emd_category": _emd_category,
    "emd_timing": _emd_timing,
    "cns": _bool_fact("cns", "CNS involvement", "中枢神经系统受累", lambda c: c.cns),
    "multiple_sites": _bool_fact(
        "multiple_sites", "EMD at more than one site", "多部位髓外病变", lambda c: c.multiple_sites
    ),
    "high_risk": _bool_fact(
        "high_risk", "high-risk disease (IMS/IMWG 2025)", "高危（IMS/IMWG 2025）", lambda c: c.high_risk
    ),
    "t_11_14": _bool_fact("t_11_14", "t(11;14)", "t(11;14)", lambda c: c.t_11_14),
    "del_17p": _bool_fact("del_17p", "del(17p)", "del(17p)", lambda c: c.del_17p),
    "progressive_disease": _bool_fact(
        "progressive_disease", "progressive disease", "疾病进展", lambda c: c.progressive_disease
    ),
    "exposed_to_all": _exposed_to_all,
    "exposed_to_any": _exposed_to_any,
    "not_exposed_to_any": _negation("not_exposed_to_any", _exposed_to_any),
    "refractory_to_any": _refractory_to_any,
    "not_refractory_to_any": _negation("not_refractory_to_any", _refractory_to_any),
    "lesion_not_tissue_confirmed": _lesion_not_tissue_confirmed,
    "lesion_near_spine": _lesion_near_spine,
    "no_pet_ct": _no_pet_ct,
    "cytogenetics_missing": _cytogenetics_missing,
    "labs_missing": _labs_missing,
    "iss": _stage("iss", "ISS"),
    "r_iss": _stage("r_iss", "R-ISS"),
    "r2_iss": _stage("r2_iss", "R2-ISS"),
}


def evaluate(when: dict[str, Any], ctx: PatientContext) -> list[Check]:
    # A rule for another disease entity is reported by its pathway alone: the entity gates everything else.
    if "pathway" in when:
        gate = _pathway(ctx, when["pathway"])
        if gate.outcome == "not_met":
            return [gate]
        # the gate is the pathway condition's own check: not evaluated twice
        return [gate if name == "pathway" else CONDITIONS[name](ctx, arg) for name, arg in when.items()]
    return [CONDITIONS[name](ctx, arg) for name, arg in when.items()]


def verdict(checks: Sequence[Check]) -> Outcome:
    """All met → met; any not met → not_met; otherwise undecided."""
    # One pass (this runs for every rule of every patient).
    undecided = False
    for c in checks:
        if c.outcome == "not_met":
            return "not_met"
        if c.outcome == "undecided":
            undecided = True
    return "undecided" if undecided else "met"


# ---- compiled conditions -----------------------------------------------------------------------------------------
# The rule files are compiled once (advice/_engine.py) into closures, one per (condition, argument): a condition's
# check is a pure function of the few patient facts it reads, so each closure keeps the checks it has made by those
# facts and hands back the same Check for the same facts. ``evaluate`` above stays the reference interpreter of the
# rule language (tests compare the two over generated patients).

CompiledCheck = Callable[[PatientContext], Check]
CompiledWhen = Callable[[PatientContext], tuple[Check, ...]]

#: Checks kept per compiled condition before its store is emptied (bounds memory over any number of patients; the
#: facts a condition reads take few values, so the store rarely fills).
_CHECKS_KEPT: Final = 256


def _current_line_number(ctx: PatientContext) -> int | None:
    line = ctx.clinical.current_line if ctx.clinical is not None else None
    return line.line if line is not None else None


def _clinical_fact_key(name: str) -> Callable[[PatientContext], Any]:
    fields = attrgetter("value", "en", "zh")

    def key(ctx: PatientContext) -> Any:
        # the fact's fields as a plain tuple (everything the check reads), hashed and compared in C
        return None if ctx.clinical is None else fields(getattr(ctx.clinical, name))

    return key


def _attr_key(name: str) -> Callable[[PatientContext], Any]:
    # attrgetter reads the fact without a Python frame: these keys are read for every condition of every rule.
    return attrgetter(name)


def _membership_key(attr: str, arg: Any) -> Callable[[PatientContext], Any]:
    """History known, and which of the argument's ids are in the patient's ``exposed`` or ``refractory`` set."""
    ids = tuple(str(a) for a in arg)

    def key(ctx: PatientContext) -> Any:
        have = getattr(ctx, attr)
        return _history_known(ctx), tuple(i in have for i in ids)

    return key


def _fact_key(name: str, arg: Any) -> Callable[[PatientContext], Any] | None:
    """The facts a condition's check depends on (everything its outcome and reason text read), or None when they are
    as costly to gather as the check itself (the lesion conditions)."""
    if name in ("phase", "emd_category", "emd_timing", "age_below", "age_at_least", "iss", "r_iss", "r2_iss"):
        return _attr_key("age" if name.startswith("age_") else name)
    if name in ("pathway", "transplant_eligible", "emd_present", "cns", "multiple_sites", "high_risk"):
        return _attr_key(name)
    if name in ("t_11_14", "del_17p", "progressive_disease", "labs_missing"):
        return _attr_key(name)
    if name in ("response_at_least", "not_response_at_least"):
        return _attr_key("response_current")
    if name in _FACT_ZH:
        return _clinical_fact_key(name)
    if name == "on_current_regimen":
        return lambda ctx: (ctx.current_agents, _current_line_number(ctx))
    if name in ("exposed_to_all", "exposed_to_any", "not_exposed_to_any"):
        return _membership_key("exposed", arg)
    if name in ("refractory_to_any", "not_refractory_to_any"):
        return _membership_key("refractory", arg)
    if name == "cytogenetics_missing":
        return lambda ctx: (ctx.del_17p is None, ctx.t_4_14 is None, ctx.t_14_16 is None)
    return None


def compile_condition(name: str, arg: Any) -> CompiledCheck:
    """One condition of a rule with its argument bound; an unknown name fails when evaluated, as in ``evaluate``."""
    fn = CONDITIONS.get(name)
    if fn is None:

        def unknown(ctx: PatientContext) -> Check:
            raise KeyError(name)

        return unknown
    key = _fact_key(name, arg)
    if key is None:
        return lambda ctx: fn(ctx, arg)
    kept: dict[Any, Check] = {}

    def check(ctx: PatientContext) -> Check:
        k = key(ctx)
        hit = kept.get(k)
        if hit is None:
            if len(kept) >= _CHECKS_KEPT:
                kept.clear()
            hit = kept[k] = fn(ctx, arg)
        return hit

    return check


def compile_when(when: dict[str, Any]) -> CompiledWhen:
    """A rule's ``when`` as one closure giving the same checks, in the same order, as ``evaluate(when, ctx)``."""
    parts = tuple((name, compile_condition(name, arg)) for name, arg in when.items())
    if "pathway" not in when:

        def run(ctx: PatientContext) -> tuple[Check, ...]:
            return tuple([f(ctx) for _, f in parts])

        return run
    gate = next(f for name, f in parts if name == "pathway")
    rest = tuple((name == "pathway", f) for name, f in parts)

    def gated(ctx: PatientContext) -> tuple[Check, ...]:
        # A rule for another disease entity is reported by its pathway alone: the entity gates everything else.
        g = gate(ctx)
        if g.outcome == "not_met":
            return (g,)
        return tuple([g if is_gate else f(ctx) for is_gate, f in rest])

    return gated
