"""IMS/IMWG 2025 definition of high-risk myeloma — docs/criteria.md §2.4 (IMS25).

High risk if at least one of:

1. del(17p) in ≥20% of clonal cells (cancer clonal fraction; the ≥ vs > reading is a setting, ⚠ in the spec)
   and/or a TP53 mutation;
2. t(4;14), t(14;16) or t(14;20) together with 1q+ and/or del(1p32);
3. monoallelic del(1p32) with 1q+, or biallelic del(1p32);
4. β2-microglobulin ≥5.5 mg/L with normal creatinine (<1.2 mg/dL).

Three-valued: ``True`` with the features that decided it; ``False`` when every criterion is known false; ``None`` when
nothing known makes it true and an unknown datum could (the reasons name the missing data). Computed from the
record's ``labs`` and ``cytogenetics``, i.e. at diagnosis (docs/record.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Final, Literal

import msgspec

from mmemd.clinical.record import Cytogenetics, Labs

if TYPE_CHECKING:
    from mmemd.knowledge import Glossary

HIGH_RISK_DEFINITION: Final = "IMS-IMWG-2025"


# gc=False: holds numbers, strings, dates and tuples of them only, so never part of a reference cycle
class HighRiskSettings(msgspec.Struct, frozen=True, gc=False):
    """Readings of the IMS/IMWG 2025 high-risk definition (docs/criteria.md §2.4)."""

    # del(17p) cancer clonal fraction threshold — docs/criteria.md §2.4 and §7 item 2 [I/⚠]: HealthTree and the
    # calculators say "≥20%", some summaries ">20%"; the spec's default is ≥20%.
    del17p_clonal_fraction_threshold_pct: Decimal = Decimal(20)
    # True: a fraction equal to the threshold counts (≥20%); False: strictly above (>20%). §2.4 [I/⚠].
    del17p_threshold_inclusive: bool = True
    # β2-microglobulin ≥5.5 mg/L (inclusive) — docs/criteria.md §2.4 criterion 4 [V-secondary].
    b2m_min_mg_l: Decimal = Decimal("5.5")
    # "normal creatinine (<1.2 mg/dL)", strict — docs/criteria.md §2.4 criterion 4 [V-secondary].
    creatinine_normal_below_mg_dl: Decimal = Decimal("1.2")


DEFAULT_HIGH_RISK_SETTINGS: Final = HighRiskSettings()


# gc=False: holds numbers, strings, dates and tuples of them only, so never part of a reference cycle
class HighRiskFeature(msgspec.Struct, frozen=True, gc=False):
    """A deciding feature as a structured fact: a glossary template id and its values (rendered in either language
    by :func:`feature_text`)."""

    template: str
    facts: tuple[tuple[str, str], ...] = ()


class HighRiskResult(msgspec.Struct, frozen=True):
    high_risk: bool | None
    features: tuple[str, ...]
    reasons: tuple[str, ...]
    #: the same features as structured facts, in the same order as ``features``
    feature_facts: tuple[HighRiskFeature, ...] = ()


#: Feature texts already rendered, by (template, facts, language), each with the glossary it was rendered from; the
#: features take few distinct values over a batch (a template and a handful of lab values). Emptied when full.
_TEXTS: dict[tuple[str, tuple[tuple[str, str], ...], str], tuple[object, str]] = {}
_TEXTS_KEPT: Final = 1024


def feature_text(feature: HighRiskFeature, lang: Literal["en", "zh"] = "en") -> str:
    """A high-risk feature in English or Chinese, from its facts (the English text is the engine's own wording)."""
    from mmemd.knowledge import load_glossary

    glossary = load_glossary()
    key = (feature.template, feature.facts, lang)
    hit = _TEXTS.get(key)
    if hit is not None and hit[0] is glossary:
        return hit[1]
    text = _render(glossary, feature, lang)
    if len(_TEXTS) >= _TEXTS_KEPT:
        _TEXTS.clear()
    _TEXTS[key] = (glossary, text)
    return text


def _render(glossary: Glossary, feature: HighRiskFeature, lang: Literal["en", "zh"]) -> str:
    facts = dict(feature.facts)
    if feature.template == "hr.translocation_with_1q_or_1p":
        partners = []
        for p in facts["partners"].split(","):
            if p == "gain_1q":
                partners.append(glossary.render("hr.gain_1q", lang))
            else:
                allele = glossary.render(f"allele.{p}", lang) if lang == "zh" else p
                partners.append(glossary.render("hr.del1p32", lang, allele=allele))
        sep = glossary.term("and", lang)
        facts = {
            "translocations": sep.join(facts["translocations"].split(",")),
            "partners": sep.join(partners),
        }
    return glossary.render(feature.template, lang, **facts)


def _fmt(d: Decimal) -> str:
    return format(d.normalize(), "f")


def _any(values: Iterable[bool | None]) -> bool | None:
    """Kleene OR: true if any is true, false if all are false, else unknown."""
    unknown = False
    for v in values:
        if v is True:
            return True
        if v is None:
            unknown = True
    return None if unknown else False


_TRANSLOCATIONS: Final = (("t_4_14", "t(4;14)"), ("t_14_16", "t(14;16)"), ("t_14_20", "t(14;20)"))


def high_risk(
    cytogenetics: Cytogenetics | None,
    labs: Labs | None,
    settings: HighRiskSettings = DEFAULT_HIGH_RISK_SETTINGS,
) -> HighRiskResult:
    """IMS/IMWG 2025 high-risk status (docs/criteria.md §2.4), with the deciding features."""
    cg = cytogenetics if cytogenetics is not None else Cytogenetics()
    features: list[HighRiskFeature] = []
    unknown: list[str | Callable[[], str]] = []

    # 1. del(17p) ≥ threshold CCF and/or TP53 mutation (§2.4 criterion 1).
    thr = settings.del17p_clonal_fraction_threshold_pct
    sign = "≥" if settings.del17p_threshold_inclusive else ">"
    if cg.del_17p is True:
        frac = cg.del_17p_clonal_fraction_pct
        if frac is None:
            unknown.append(
                f"del(17p) present but its clonal fraction is not recorded (cytogenetics.del_17p_clonal_fraction_pct;"
                f" high risk needs {sign}{_fmt(thr)}%)"
            )
        elif frac >= thr if settings.del17p_threshold_inclusive else frac > thr:
            features.append(HighRiskFeature("hr.del17p", (("pct", _fmt(frac)),)))
    elif cg.del_17p is None:
        unknown.append("del(17p) not recorded (cytogenetics.del_17p)")
    if cg.tp53_mutation is True:
        features.append(HighRiskFeature("hr.tp53"))
    elif cg.tp53_mutation is None:
        unknown.append("TP53 mutation status not recorded (cytogenetics.tp53_mutation)")

    # 2. t(4;14), t(14;16) or t(14;20) with 1q+ and/or del(1p32) (§2.4 criterion 2).
    trans = {label: getattr(cg, name) for name, label in _TRANSLOCATIONS}
    del1p = None if cg.del_1p32 is None else cg.del_1p32 != "none"
    partners = {"gain_1q": cg.gain_1q, str(cg.del_1p32): del1p}
    any_trans = _any(trans.values())
    any_partner = _any(partners.values())
    if any_trans is True and any_partner is True:
        t_true = [k for k, v in trans.items() if v is True]
        p_true = [k for k, v in partners.items() if v is True]
        features.append(
            HighRiskFeature(
                "hr.translocation_with_1q_or_1p",
                (("translocations", ",".join(t_true)), ("partners", ",".join(p_true))),
            )
        )
    elif any_trans is not False and any_partner is not False:
        # written only when no feature decides (the undecided reasons are then reported)
        unknown.append(
            lambda: (
                "IgH translocation with 1q gain/del(1p32) undecided: "
                + ", ".join(_cyto_missing(cg, any_trans, any_partner))
                + " not recorded"
            )
        )

    # 3. monoallelic del(1p32) with 1q+, or biallelic del(1p32) (§2.4 criterion 3).
    if cg.del_1p32 == "biallelic":
        features.append(HighRiskFeature("hr.biallelic_del1p32"))
    elif cg.del_1p32 == "monoallelic":
        if cg.gain_1q is True:
            features.append(HighRiskFeature("hr.monoallelic_del1p32_with_1q"))
        elif cg.gain_1q is None:
            unknown.append("monoallelic del(1p32) with 1q status not recorded (cytogenetics.gain_1q)")
    elif cg.del_1p32 is None:
        unknown.append("del(1p32) not recorded (cytogenetics.del_1p32)")

    # 4. β2M ≥5.5 mg/L with creatinine <1.2 mg/dL (§2.4 criterion 4).
    b2m = labs.beta2_microglobulin if labs else None
    creat = labs.creatinine if labs else None
    if b2m is None:
        unknown.append("beta2-microglobulin at diagnosis not recorded (labs.beta2_microglobulin)")
    elif b2m.canonical() >= settings.b2m_min_mg_l:
        if creat is None:
            unknown.append(
                f"beta2-microglobulin {b2m.value} {b2m.unit} is ≥{_fmt(settings.b2m_min_mg_l)} mg/L but "
                "creatinine at diagnosis is not recorded (labs.creatinine)"
            )
        elif creat.canonical() < settings.creatinine_normal_below_mg_dl:
            features.append(
                HighRiskFeature(
                    "hr.b2m_normal_creatinine",
                    (
                        ("b2m", str(b2m.value)),
                        ("b2m_unit", str(b2m.unit)),
                        ("creat", str(creat.value)),
                        ("creat_unit", str(creat.unit)),
                        ("creat_limit", _fmt(settings.creatinine_normal_below_mg_dl)),
                    ),
                )
            )

    if features:
        return HighRiskResult(True, tuple(feature_text(f) for f in features), (), tuple(features))
    if unknown:
        return HighRiskResult(
            None, (), tuple(f"high risk undecided: {u if isinstance(u, str) else u()}" for u in unknown)
        )
    return HighRiskResult(False, (), ())


def _cyto_missing(cg: Cytogenetics, any_trans: bool | None, any_partner: bool | None) -> list[str]:
    out: list[str] = []
    if any_trans is None:
        out += [f"cytogenetics.{name}" for name, _ in _TRANSLOCATIONS if getattr(cg, name) is None]
    if any_partner is None:
        if cg.gain_1q is None:
            out.append("cytogenetics.gain_1q")
        if cg.del_1p32 is None:
            out.append("cytogenetics.del_1p32")
    return out
