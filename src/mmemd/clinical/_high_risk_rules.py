"""The IMS/IMWG 2025 high-risk criteria (docs/criteria.md §2.4) as plain typed functions.

:func:`mmemd.clinical.risk.high_risk` is the entry point and documents the criteria and the three-valued answer; the
decisions live here, apart from the msgspec settings and results, so that the optional compiled build can compile
them with mypyc (a Struct cannot be compiled). The pure and compiled builds give the same answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from mmemd.clinical.record import Cytogenetics, Labs

if TYPE_CHECKING:
    from mmemd.clinical.risk import HighRiskSettings

#: A deciding feature: a glossary template id and its values (a ``HighRiskFeature``'s fields).
FeatureFacts = tuple[str, tuple[tuple[str, str], ...]]


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


def decide(
    cytogenetics: Cytogenetics | None, labs: Labs | None, settings: HighRiskSettings
) -> tuple[list[FeatureFacts], tuple[str, ...]]:
    """The criteria met, as facts, and, when none is met, why high risk is undecided (empty when it is decided)."""
    cg = cytogenetics if cytogenetics is not None else Cytogenetics()
    features: list[FeatureFacts] = []
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
            features.append(("hr.del17p", (("pct", _fmt(frac)),)))
    elif cg.del_17p is None:
        unknown.append("del(17p) not recorded (cytogenetics.del_17p)")
    if cg.tp53_mutation is True:
        features.append(("hr.tp53", ()))
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
            (
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
        features.append(("hr.biallelic_del1p32", ()))
    elif cg.del_1p32 == "monoallelic":
        if cg.gain_1q is True:
            features.append(("hr.monoallelic_del1p32_with_1q", ()))
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
                (
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
        return features, ()
    return features, tuple(f"high risk undecided: {u if isinstance(u, str) else u()}" for u in unknown)


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
