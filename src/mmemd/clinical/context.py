"""The patient context: facts derived once from a record and its assessment, shared by advice, report and CDS.

Every fact is three-valued — yes, no or unknown (``None``) — and carries its reason, so that a rule or a reader can
see why it holds. Pure: no I/O, and the drug vocabulary (agent → class) is passed in, not looked up.

Derivations (docs/advice.md "Patient context"):

* **Disease entity and pathway** from the EMD classification: solitary plasmacytoma, plasma cell leukaemia (PCL),
  indeterminate diagnosis, myeloma without EMD, with paraskeletal disease, with true EMD. The reviews exclude
  solitary plasmacytoma and PCL from EMD (emdrev §1), so each gets its own pathway.
* **Refractoriness** as recorded on a therapy line, and derived: disease that progresses on therapy is refractory to
  it (IMWG consensus: progression on therapy or within 60 days of the last dose, KUMAR16). A record holds a line's
  start but not its last dose, so only progression dated on or after the start of the *latest* line — the line the
  patient is on — is derived; an earlier line's refractoriness is taken as recorded.
* **Kidney function**: eGFR by the race-free CKD-EPI 2021 creatinine equation (Inker LA et al., N Engl J Med
  2021;385:1737-49), computed in ``Decimal``; renal insufficiency as in the IMWG myeloma-defining event — creatinine
  > 2 mg/dL or creatinine clearance < 40 mL/min (Rajkumar et al., Lancet Oncol 2014). No weight is recorded, so clearance is estimated by
  the eGFR (mL/min/1.73 m²), which the IMWG criteria accept as an estimate of clearance.
* **Frailty** is a named setting: age ≥ 75 or ECOG ≥ 2 (:class:`FitnessSettings`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal, localcontext
from typing import Any, Final, Literal, TypeVar

import msgspec

from mmemd.clinical.units import to_canonical

__all__ = [
    "BCMA_DIRECTED",
    "DEFAULT_FITNESS_SETTINGS",
    "KEY_CLASSES",
    "ClinicalContext",
    "Fact",
    "FitnessSettings",
    "LineSummary",
    "Pathway",
    "derive_context",
    "egfr_ckd_epi_2021",
]

Pathway = Literal[
    "solitary_plasmacytoma",
    "plasma_cell_leukemia",
    "indeterminate",
    "myeloma_without_emd",
    "myeloma_paraskeletal",
    "myeloma_emd",
]

#: The drug classes whose exposure and refractoriness the context tracks (IMWG class definitions).
KEY_CLASSES: Final = (
    "proteasome_inhibitor",
    "imid",
    "anti_cd38_antibody",
    "anti_slamf7_antibody",
    "bcma_directed",
    "xpo1_inhibitor",
)

#: Agents directed at BCMA, whatever their pharmacological class (CAR-T, bispecific antibody, drug conjugate).
BCMA_DIRECTED: Final = frozenset(
    {
        "bcma_car_t",
        "idecabtagene_vicleucel",
        "ciltacabtagene_autoleucel",
        "belantamab_mafodotin",
        "teclistamab",
        "elranatamab",
    }
)
_BCMA_CAR_T: Final = frozenset({"bcma_car_t", "idecabtagene_vicleucel", "ciltacabtagene_autoleucel"})
_ASCT: Final = frozenset({"asct", "tandem_asct"})
#: Not drugs a disease becomes refractory to: steroids are in nearly every line; procedures are not re-exposures.
_NOT_REFRACTORY: Final = frozenset(
    {"dexamethasone", "asct", "tandem_asct", "allogeneic_sct", "radiotherapy", "surgery"}
)

_CKD_EPI_CONSTANT: Final = Decimal("142")
_KAPPA: Final = {"female": Decimal("0.7"), "male": Decimal("0.9")}
_ALPHA: Final = {"female": Decimal("-0.241"), "male": Decimal("-0.302")}
_UPPER_EXPONENT: Final = Decimal("-1.200")
_AGE_BASE: Final = Decimal("0.9938")
_FEMALE_FACTOR: Final = Decimal("1.012")
#: IMWG myeloma-defining renal insufficiency (Rajkumar et al., Lancet Oncol 2014): creatinine > 2 mg/dL or clearance < 40 mL/min.
RENAL_CREATININE_MG_DL: Final = Decimal("2")
RENAL_CLEARANCE_ML_MIN: Final = Decimal("40")


# gc=False: holds numbers, strings, dates and tuples of them only, so never part of a reference cycle
class FitnessSettings(msgspec.Struct, frozen=True, gc=False):
    """Frailty as a documented setting (docs/advice.md): an intensive approach is not offered to a frail patient."""

    frail_age_at_least: int = 75
    frail_ecog_at_least: int = 2
    #: ECOG from which no transplant option is listed among the first three
    transplant_ecog_at_least: int = 3
    #: age from which no transplant option is listed among the first three
    transplant_age_at_least: int = 75
    #: eGFR (mL/min/1.73 m²) below which renally cleared agents get a dose caution (the reviews hold no evidence;
    #: the threshold is the usual start of dose adjustment in prescribing information, [M])
    reduced_egfr_below: Decimal = Decimal("60")


DEFAULT_FITNESS_SETTINGS: Final = FitnessSettings()


# gc=False: holds numbers, strings, dates and tuples of them only, so never part of a reference cycle
class Fact(msgspec.Struct, frozen=True, gc=False):
    """A three-valued fact: ``value`` is True, False or None (unknown), with the reason in English and Chinese."""

    value: bool | None
    en: str
    zh: str


class LineSummary(msgspec.Struct, frozen=True):
    line: int
    agents: tuple[str, ...]
    classes: tuple[str, ...]
    start: date | None
    best_response: str | None
    #: refractory agents (recorded or derived)
    refractory_agents: tuple[str, ...]
    refractory: Fact
    #: "recorded", "derived" or None when not refractory / unknown
    refractory_source: str | None
    #: the refractory agents derived from progression on the line (the others were recorded as refractory)
    derived_agents: tuple[str, ...] = ()


class ClinicalContext(msgspec.Struct, frozen=True):
    pathway: Pathway | None
    pathway_reason: Fact
    pcl_timing: str | None
    cns: Fact
    lines: tuple[LineSummary, ...]
    exposed_agents: frozenset[str]
    exposed_classes: frozenset[str]
    refractory_agents: frozenset[str]
    refractory_classes: frozenset[str]
    #: for each refractory agent or class, why (e.g. "progression on 2025-10-06 during line 3")
    refractory_because: Mapping[str, str]
    double_class_exposed: Fact
    double_class_refractory: Fact
    triple_class_exposed: Fact
    triple_class_refractory: Fact
    prior_asct: Fact
    prior_allogeneic_sct: Fact
    prior_bcma_car_t: Fact
    current_line: LineSummary | None
    current_response: str | None
    age: int | None
    ecog: int | None
    transplant_eligible: Fact
    creatinine_mg_dl: Decimal | None
    egfr: Decimal | None
    renal_insufficiency: Fact
    reduced_kidney_function: Fact
    frail: Fact
    transplant_unsuitable: Fact
    history_known: bool = False

    def facts(self) -> dict[str, Fact]:
        """The named three-valued facts, for ``mmemd explain`` and the report."""
        return {
            "pathway": self.pathway_reason,
            "cns": self.cns,
            "double_class_exposed": self.double_class_exposed,
            "double_class_refractory": self.double_class_refractory,
            "triple_class_exposed": self.triple_class_exposed,
            "triple_class_refractory": self.triple_class_refractory,
            "prior_asct": self.prior_asct,
            "prior_allogeneic_sct": self.prior_allogeneic_sct,
            "prior_bcma_car_t": self.prior_bcma_car_t,
            "transplant_eligible": self.transplant_eligible,
            "renal_insufficiency": self.renal_insufficiency,
            "reduced_kidney_function": self.reduced_kidney_function,
            "frail": self.frail,
            "transplant_unsuitable": self.transplant_unsuitable,
        }


def egfr_ckd_epi_2021(creatinine_mg_dl: Decimal, age: int, sex: str) -> Decimal:
    """eGFR in mL/min/1.73 m² by the CKD-EPI 2021 creatinine equation (Inker et al., NEJM 2021), unrounded:

    142 × min(Scr/κ, 1)^α × max(Scr/κ, 1)^−1.200 × 0.9938^age × 1.012 [female], with κ 0.7 (female) / 0.9 (male)
    and α −0.241 (female) / −0.302 (male); Scr in mg/dL (IDMS-standardised). For adults (age ≥ 18).
    """
    if sex not in _KAPPA:
        raise ValueError(f"sex must be 'female' or 'male', not {sex!r}")
    if creatinine_mg_dl <= 0:
        raise ValueError("creatinine must be positive")
    if age < 18:
        raise ValueError("CKD-EPI 2021 is for adults (age >= 18)")
    with localcontext() as ctx:
        ctx.prec = 28
        ratio = creatinine_mg_dl / _KAPPA[sex]
        one = Decimal(1)
        value = (
            _CKD_EPI_CONSTANT
            * min(ratio, one) ** _ALPHA[sex]
            * max(ratio, one) ** _UPPER_EXPONENT
            * _AGE_BASE ** Decimal(age)
        )
        if sex == "female":
            value *= _FEMALE_FACTOR
        return +value


def _egfr(
    creatinine_mg_dl: Decimal,
    age: int,
    sex: str,
    reduced_below: Decimal = DEFAULT_FITNESS_SETTINGS.reduced_egfr_below,
) -> Decimal:
    """:func:`egfr_ckd_epi_2021`, computed in binary floating point unless the result lies within 1e-6 of a
    threshold, where a rounding error could flip the comparison and the Decimal computation decides. A Decimal
    fractional power costs about 0.15 ms; the float about 1 µs (tests compare the two)."""
    ratio = float(creatinine_mg_dl) / float(_KAPPA[sex])
    value = (
        142.0
        * min(ratio, 1.0) ** float(_ALPHA[sex])
        * max(ratio, 1.0) ** -1.2
        * 0.9938**age
        * (1.012 if sex == "female" else 1.0)
    )
    # the thresholds the context compares with (IMWG 40; dose cautions): near them the exact Decimal value decides
    if any(abs(value - float(t)) < 1e-6 for t in (RENAL_CLEARANCE_ML_MIN, reduced_below)):
        return egfr_ckd_epi_2021(creatinine_mg_dl, age, sex)
    return Decimal(repr(value))


# ---- reading models or plain dicts ---------------------------------------------------------------------------
def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if obj is None:
            return None
        obj = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
    return obj


def _value(x: Any) -> Any:
    """Enum members and pydantic values to plain values."""
    if x is None or type(x) is str:
        return x  # most values read here: no failed attribute lookup for them
    return getattr(x, "value", x)


def _date(x: Any) -> date | None:
    if x is None or isinstance(x, date):
        return x
    return date.fromisoformat(str(x))


def _classes(agent: str, agent_class: Callable[[str], str | None]) -> tuple[str, ...]:
    out = []
    cls = agent_class(agent)
    if cls:
        out.append(cls)
    if agent in BCMA_DIRECTED:
        out.append("bcma_directed")
    return tuple(out)


_T = TypeVar("_T")
_SHARED_KEPT: Final = 2048


def shared(store: dict[tuple[Any, ...], _T], make: Callable[..., _T], *fields: Any) -> _T:
    """``make(*fields)`` for a frozen value class, or the instance made before from the same fields (kept in
    ``store``, emptied when full): one instance serves every patient with that fact, and the rule engine's kept
    results, keyed by facts, compare them by identity first. A patient context holds some fifteen facts, most with
    fixed texts, and a few exposures."""
    hit = store.get(fields)
    if hit is None:
        if len(store) >= _SHARED_KEPT:
            store.clear()
        hit = store[fields] = make(*fields)
    return hit


_FACTS: dict[tuple[Any, ...], Fact] = {}


def _fact(value: bool | None, en: str, zh: str) -> Fact:
    return shared(_FACTS, Fact, value, en, zh)


def _yes_no(value: bool | None, yes: tuple[str, str], no: tuple[str, str], unknown: tuple[str, str]) -> Fact:
    if value is None:
        return _fact(None, *unknown)
    return _fact(value, *(yes if value else no))


def _pathway(assessment: Any) -> tuple[Pathway | None, Fact]:
    category = _value(_get(assessment, "emd", "category"))
    mapping: dict[str, tuple[Pathway, str, str]] = {
        "solitary_bone_plasmacytoma": (
            "solitary_plasmacytoma",
            "solitary bone plasmacytoma (excluded from EMD by the reviews)",
            "孤立性骨浆细胞瘤（综述明确排除于EMD之外）",
        ),
        "solitary_extramedullary_plasmacytoma": (
            "solitary_plasmacytoma",
            "solitary extramedullary plasmacytoma (excluded from EMD by the reviews)",
            "孤立性髓外浆细胞瘤（综述明确排除于EMD之外）",
        ),
        "plasma_cell_leukemia": (
            "plasma_cell_leukemia",
            "plasma cell leukaemia (excluded from EMD by the reviews)",
            "浆细胞白血病（综述明确排除于EMD之外）",
        ),
        "indeterminate": (
            "indeterminate",
            "diagnosis not established (EMD classification indeterminate)",
            "诊断尚未明确（髓外病变分类不确定）",
        ),
        "none": ("myeloma_without_emd", "myeloma without EMD", "无髓外病变的骨髓瘤"),
        "paraskeletal": (
            "myeloma_paraskeletal",
            "myeloma with paraskeletal disease",
            "伴骨旁病变的骨髓瘤",
        ),
        "extramedullary": ("myeloma_emd", "myeloma with extramedullary disease", "伴髓外病变的骨髓瘤"),
    }
    hit = mapping.get(str(category)) if category is not None else None
    if hit is None:
        return None, _fact(None, "disease entity not classified", "疾病类型未分类")
    return hit[0], _fact(True, hit[1], hit[2])


def _lines(
    record: Any, assessment: Any, agent_class: Callable[[str], str | None]
) -> tuple[list[LineSummary], dict[str, str]]:
    raw = sorted(_get(record, "therapy_history") or [], key=lambda ln: int(_get(ln, "line")))
    pd_dates = [
        _date(_get(t, "date"))
        for t in (_get(assessment, "response", "timeline") or [])
        if _value(_get(t, "category")) == "PD"
    ]
    because: dict[str, str] = {}
    out: list[LineSummary] = []
    for i, ln in enumerate(raw):
        number = int(_get(ln, "line"))
        agents = tuple(dict.fromkeys(str(a) for a in (_get(ln, "agents") or [])))
        start = _date(_get(ln, "start"))
        recorded_flag = _get(ln, "refractory")
        recorded_agents = [str(a) for a in (_get(ln, "refractory_agents") or [])]
        recorded: list[str] = []
        if recorded_agents or recorded_flag is True:
            recorded = recorded_agents or [a for a in agents if a not in _NOT_REFRACTORY]
        latest = i == len(raw) - 1
        pd_on = [d for d in pd_dates if d is not None and start is not None and d >= start]
        derived: list[str] = []
        if latest and pd_on:
            derived = [a for a in agents if a not in _NOT_REFRACTORY and a not in recorded]
        texts: list[str] = []
        for agent in recorded:
            _note(because, agent, f"refractory to {agent} (line {number}, as recorded)", agent_class)
        if recorded:
            texts.append(f"refractory to {', '.join(recorded)} (line {number}, as recorded)")
        if derived:
            when = f"progression on {min(pd_on).isoformat()} during line {number} (started {start})"
            for agent in derived:
                _note(
                    because,
                    agent,
                    f"refractory to {agent}: {when}; IMWG: progression on therapy",
                    agent_class,
                )
            texts.append(f"refractory to {', '.join(derived)}: {when}; IMWG: progression on therapy")
        refractory = recorded + derived
        source = (
            ("recorded and derived" if derived else "recorded")
            if recorded
            else ("derived" if derived else None)
        )
        reason = "; ".join(texts)
        if refractory:
            fact = _fact(True, reason, f"第{number}线治疗难治")
        elif recorded_flag is False and not (latest and pd_on):
            fact = _fact(False, f"line {number} recorded as not refractory", f"第{number}线记录为非难治")
        elif latest and not pd_on and start is not None:
            fact = _fact(False, f"no progression since line {number} started", f"第{number}线开始后未见进展")
        else:
            fact = _fact(None, f"line {number}: refractoriness not recorded", f"第{number}线是否难治未记录")
        classes = tuple(dict.fromkeys(c for a in agents for c in _classes(a, agent_class)))
        out.append(
            LineSummary(
                line=number,
                agents=agents,
                classes=classes,
                start=start,
                best_response=_value(_get(ln, "best_response")),
                refractory_agents=tuple(refractory),
                refractory=fact,
                refractory_source=source,
                derived_agents=tuple(derived),
            )
        )
    return out, because


def _note(because: dict[str, str], agent: str, text: str, agent_class: Callable[[str], str | None]) -> None:
    """Remember why an agent — and its classes — is refractory (the first reason found wins)."""
    because.setdefault(agent, text)
    for cls in _classes(agent, agent_class):
        because.setdefault(cls, text)


def _class_fact(wanted: Iterable[str], have: frozenset[str], known: bool, what_en: str, what_zh: str) -> Fact:
    wanted = tuple(wanted)
    if all(w in have for w in wanted):
        return _fact(True, what_en, what_zh)
    if not known:
        return _fact(None, f"{what_en}: therapy history not recorded", f"{what_zh}：既往治疗史未记录")
    return _fact(False, f"not {what_en}", f"非{what_zh}")


def _ever(ids: frozenset[str], exposed: frozenset[str], known: bool, en: str, zh: str) -> Fact:
    if ids & exposed:
        return _fact(True, en, zh)
    if not known:
        return _fact(None, f"{en}: therapy history not recorded", f"{zh}：既往治疗史未记录")
    return _fact(False, f"no {en}", f"无{zh}")


def _creatinine(record: Any) -> Decimal | None:
    for section in ("current_labs", "labs"):
        q = _get(record, section, "creatinine")
        if q is not None and _get(q, "value") is not None:
            value = Decimal(str(_get(q, "value")))
            return to_canonical("creatinine", value, str(_get(q, "unit")))
    return None


def _kidney(
    creatinine: Decimal | None, age: int | None, sex: str | None, settings: FitnessSettings
) -> tuple[Decimal | None, Fact, Fact]:
    egfr = None
    if creatinine is not None and creatinine > 0 and age is not None and age >= 18 and sex in _KAPPA:
        egfr = _egfr(creatinine, age, str(sex), settings.reduced_egfr_below)
    shown = f"{egfr:.0f}" if egfr is not None else "?"
    if creatinine is not None and creatinine > RENAL_CREATININE_MG_DL:
        renal = _fact(
            True,
            f"renal insufficiency: creatinine {creatinine.normalize():f} mg/dL (> 2, IMWG)",
            f"肾功能不全：肌酐{creatinine.normalize():f} mg/dL（>2，IMWG）",
        )
    elif egfr is not None and egfr < RENAL_CLEARANCE_ML_MIN:
        renal = _fact(
            True,
            f"renal insufficiency: eGFR {shown} mL/min/1.73 m² (< 40, IMWG)",
            f"肾功能不全：eGFR {shown} mL/min/1.73 m²（<40，IMWG）",
        )
    elif egfr is not None:
        renal = _fact(
            False,
            f"no renal insufficiency: eGFR {shown} mL/min/1.73 m², creatinine ≤ 2 mg/dL",
            f"无肾功能不全：eGFR {shown} mL/min/1.73 m²，肌酐≤2 mg/dL",
        )
    else:
        renal = _fact(
            None,
            "kidney function unknown (creatinine, age or sex not recorded)",
            "肾功能未知（肌酐、年龄或性别未记录）",
        )
    limit = settings.reduced_egfr_below
    if renal.value is True or (egfr is not None and egfr < limit):
        reduced = _fact(True, f"eGFR {shown} (< {limit})", f"eGFR {shown}（<{limit}）")
    elif egfr is not None:
        reduced = _fact(False, f"eGFR {shown} (≥ {limit})", f"eGFR {shown}（≥{limit}）")
    else:
        reduced = _fact(None, renal.en, renal.zh)
    return egfr, renal, reduced


def _frail(age: int | None, ecog: int | None, s: FitnessSettings) -> Fact:
    if age is not None and age >= s.frail_age_at_least:
        return _fact(
            True,
            f"frail: age {age} (≥ {s.frail_age_at_least})",
            f"体弱：年龄{age}岁（≥{s.frail_age_at_least}）",
        )
    if ecog is not None and ecog >= s.frail_ecog_at_least:
        return _fact(
            True,
            f"frail: ECOG {ecog} (≥ {s.frail_ecog_at_least})",
            f"体弱：ECOG {ecog}（≥{s.frail_ecog_at_least}）",
        )
    if age is None or ecog is None:
        return _fact(None, "frailty unknown (age or ECOG not recorded)", "体能状态未知（年龄或ECOG未记录）")
    return _fact(False, f"not frail: age {age}, ECOG {ecog}", f"非体弱：年龄{age}岁，ECOG {ecog}")


def _transplant_unsuitable(
    eligible: bool | None, age: int | None, ecog: int | None, s: FitnessSettings
) -> Fact:
    if eligible is False:
        return _fact(True, "recorded as transplant-ineligible", "记录为不适合移植")
    if age is not None and age >= s.transplant_age_at_least:
        return _fact(
            True, f"age {age} (≥ {s.transplant_age_at_least})", f"年龄{age}岁（≥{s.transplant_age_at_least}）"
        )
    if ecog is not None and ecog >= s.transplant_ecog_at_least:
        return _fact(
            True,
            f"ECOG {ecog} (≥ {s.transplant_ecog_at_least})",
            f"ECOG {ecog}（≥{s.transplant_ecog_at_least}）",
        )
    if eligible is None:
        return _fact(None, "transplant eligibility not recorded", "是否适合移植未记录")
    return _fact(False, "transplant-eligible", "适合移植")


def derive_context(
    record: Any,
    assessment: Any,
    agent_class: Callable[[str], str | None],
    settings: FitnessSettings = DEFAULT_FITNESS_SETTINGS,
) -> ClinicalContext:
    """Derive the context of a ``mmemd.patient/1`` record and its ``mmemd.assessment/1`` (models or plain dicts).

    ``agent_class`` maps a therapy id to its drug class (the knowledge-base vocabulary's ``agent_class``).
    """
    pathway, pathway_fact = _pathway(assessment)
    lines, because = _lines(record, assessment, agent_class)
    phase = str(_value(_get(record, "phase")))
    known = bool(lines) or phase == "newly_diagnosed"
    exposed_agents = frozenset(a for ln in lines for a in ln.agents)
    exposed_classes = frozenset(c for ln in lines for c in ln.classes)
    refractory_agents = frozenset(a for ln in lines for a in ln.refractory_agents)
    refractory_classes = frozenset(c for a in refractory_agents for c in _classes(a, agent_class))
    double, triple = ("proteasome_inhibitor", "imid"), ("proteasome_inhibitor", "imid", "anti_cd38_antibody")
    age, ecog = _get(record, "age"), _get(record, "ecog")
    eligible = _get(record, "transplant_eligible")
    creatinine = _creatinine(record)
    egfr, renal, reduced = _kidney(creatinine, age, _value(_get(record, "sex")), settings)
    cns = _get(assessment, "emd", "cns")
    return ClinicalContext(
        pathway=pathway,
        pathway_reason=pathway_fact,
        pcl_timing=_value(_get(assessment, "emd", "timing")) if pathway == "plasma_cell_leukemia" else None,
        cns=_yes_no(
            cns,
            ("CNS involvement", "中枢神经系统受累"),
            ("no CNS involvement", "无中枢神经系统受累"),
            ("CNS involvement not determinable", "中枢神经系统受累无法确定"),
        ),
        lines=tuple(lines),
        exposed_agents=exposed_agents,
        exposed_classes=exposed_classes,
        refractory_agents=refractory_agents,
        refractory_classes=refractory_classes,
        refractory_because=because,
        double_class_exposed=_class_fact(
            double, exposed_classes, known, "double-class exposed (PI, IMiD)", "双类药物暴露（PI、IMiD）"
        ),
        double_class_refractory=_class_fact(
            double,
            refractory_classes,
            known,
            "double-class refractory (PI, IMiD)",
            "双类药物难治（PI、IMiD）",
        ),
        triple_class_exposed=_class_fact(
            triple,
            exposed_classes,
            known,
            "triple-class exposed (PI, IMiD, anti-CD38)",
            "三类药物暴露（PI、IMiD、抗CD38）",
        ),
        triple_class_refractory=_class_fact(
            triple,
            refractory_classes,
            known,
            "triple-class refractory (PI, IMiD, anti-CD38)",
            "三类药物难治（PI、IMiD、抗CD38）",
        ),
        prior_asct=_ever(_ASCT, exposed_agents, known, "prior autologous transplant", "既往自体移植"),
        prior_allogeneic_sct=_ever(
            frozenset({"allogeneic_sct"}),
            exposed_agents,
            known,
            "prior allogeneic transplant",
            "既往异基因移植",
        ),
        prior_bcma_car_t=_ever(_BCMA_CAR_T, exposed_agents, known, "prior BCMA CAR-T", "既往BCMA CAR-T治疗"),
        current_line=lines[-1] if lines else None,
        current_response=_value(_get(assessment, "response", "current")),
        age=age,
        ecog=ecog,
        transplant_eligible=_yes_no(
            eligible,
            ("transplant-eligible", "适合移植"),
            ("transplant-ineligible", "不适合移植"),
            ("transplant eligibility not recorded", "是否适合移植未记录"),
        ),
        creatinine_mg_dl=creatinine,
        egfr=egfr,
        renal_insufficiency=renal,
        reduced_kidney_function=reduced,
        frail=_frail(age, ecog, settings),
        transplant_unsuitable=_transplant_unsuitable(eligible, age, ecog, settings),
        history_known=known,
    )
