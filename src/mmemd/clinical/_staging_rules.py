"""ISS, R-ISS and R2-ISS rules (docs/criteria.md §2.1-§2.3) as plain typed functions.

:func:`mmemd.clinical.staging.stage` is the entry point and documents how unknown data are handled (every possibility
enumerated, a stage only when all agree); the rules and the R2-ISS points live here, apart from the pydantic result
models and the msgspec settings, so that the optional compiled build can compile them with mypyc (a model or a Struct
cannot be compiled). The pure and compiled builds give the same answers.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import product
from typing import TYPE_CHECKING, Final, Literal

from mmemd.clinical.record import Cytogenetics, Labs

if TYPE_CHECKING:
    from mmemd.clinical.staging import StagingSettings

Stage = Literal["I", "II", "III"]
R2Group = Literal["I", "II", "III", "IV"]
STAGES: Final[tuple[Stage, ...]] = ("I", "II", "III")

# R2-ISS points — docs/criteria.md §2.3 (DAGOSTINO22) [V-secondary]. t(14;16) is not scored.
R2_POINTS_ISS: Final[dict[Stage, Decimal]] = {"I": Decimal(0), "II": Decimal(1), "III": Decimal("1.5")}
R2_POINTS_DEL17P: Final = Decimal(1)
R2_POINTS_HIGH_LDH: Final = Decimal(1)
R2_POINTS_T_4_14: Final = Decimal(1)
R2_POINTS_GAIN_1Q: Final = Decimal("0.5")
# R2-ISS groups by total score — docs/criteria.md §2.3: I = 0, II = 0.5-1, III = 1.5-2.5, IV = 3-5.
# Scores move in steps of 0.5, so the upper bounds below are inclusive and exhaustive.
R2_GROUP_UPPER: Final[tuple[tuple[Decimal, R2Group], ...]] = (
    (Decimal(0), "I"),
    (Decimal(1), "II"),
    (Decimal("2.5"), "III"),
    (Decimal(5), "IV"),
)

#: iss, r_iss, r_iss_possible, R2-ISS points, group, points_min and points_max, reasons, iss_possible — the fields
#: of a ``StagingResult`` apart from high risk (flat: one tuple a call)
StagingFields = tuple[
    Stage | None,
    Stage | None,
    list[Stage],
    float | None,
    R2Group | None,
    float,
    float,
    list[str],
    list[Stage],
]


def iss_stages(
    b2m_mg_l: Decimal | None, albumin_g_dl: Decimal | None, settings: StagingSettings
) -> tuple[Stage, ...]:
    """ISS stages compatible with the known values (docs/criteria.md §2.1)."""
    if b2m_mg_l is not None:
        if b2m_mg_l >= settings.iss_b2m_stage_iii_min_mg_l:
            return ("III",)  # albumin irrelevant
        if b2m_mg_l >= settings.iss_b2m_stage_i_below_mg_l:
            return ("II",)  # β2M 3.5-<5.5
        if albumin_g_dl is None:
            return ("I", "II")
        return ("I",) if albumin_g_dl >= settings.iss_albumin_stage_i_min_g_dl else ("II",)
    if albumin_g_dl is not None and albumin_g_dl < settings.iss_albumin_stage_i_min_g_dl:
        return ("II", "III")
    return STAGES


def ldh_is_high(labs: Labs | None, settings: StagingSettings) -> bool | None:
    """High LDH (> ULN, docs/criteria.md §2.2); None when LDH or its upper limit of normal is not recorded."""
    ldh = labs.ldh if labs else None
    if ldh is None or ldh.upper_limit_normal is None:
        return None
    if settings.ldh_high_strictly_above_uln:
        return ldh.value > ldh.upper_limit_normal
    return ldh.value >= ldh.upper_limit_normal


def _r_iss(iss: Stage, high_risk_ca: bool, high_ldh: bool) -> Stage:
    # docs/criteria.md §2.2: I = ISS I + standard-risk CA + normal LDH; III = ISS III + (HR CA or high LDH).
    if iss == "I" and not high_risk_ca and not high_ldh:
        return "I"
    if iss == "III" and (high_risk_ca or high_ldh):
        return "III"
    return "II"


def _r2_group(points: Decimal) -> R2Group:
    for upper, group in R2_GROUP_UPPER:
        if points <= upper:
            return group
    return "IV"


def _options(v: bool | None) -> tuple[bool, ...]:
    return (False, True) if v is None else (v,)


def _fmt(d: Decimal) -> str:
    return format(d.normalize(), "f")


def staging_fields(labs: Labs | None, cg: Cytogenetics | None, settings: StagingSettings) -> StagingFields:
    """ISS, R-ISS and R2-ISS from the values at diagnosis, each undetermined one with its reason."""
    reasons: list[str] = []

    b2m = labs.beta2_microglobulin.canonical() if labs and labs.beta2_microglobulin else None
    alb = labs.albumin.canonical() if labs and labs.albumin else None
    iss_set = iss_stages(b2m, alb, settings)
    iss = iss_set[0] if len(iss_set) == 1 else None
    if iss is None:
        missing = [
            name for name, v in (("labs.beta2_microglobulin", b2m), ("labs.albumin", alb)) if v is None
        ]
        reasons.append(f"ISS undetermined ({' or '.join(iss_set)}): {', '.join(missing)} not recorded")

    del17p = cg.del_17p if cg else None
    t_4_14 = cg.t_4_14 if cg else None
    t_14_16 = cg.t_14_16 if cg else None
    gain_1q = cg.gain_1q if cg else None
    hr_flags = (del17p, t_4_14, t_14_16)
    hr_ca: bool | None = True if True in hr_flags else (False if all(f is False for f in hr_flags) else None)
    high_ldh = ldh_is_high(labs, settings)
    ldh_note = None
    if high_ldh is None:
        if labs is None or labs.ldh is None:
            ldh_note = "LDH at diagnosis not recorded (labs.ldh): LDH status unknown"
        else:
            ldh_note = (
                "LDH upper limit of normal not recorded (labs.ldh.upper_limit_normal): LDH status unknown"
            )

    # R-ISS (docs/criteria.md §2.2): every combination the unknowns allow.
    r_set = sorted(
        {_r_iss(s, ca, ldh) for s, ca, ldh in product(iss_set, _options(hr_ca), _options(high_ldh))},
        key=STAGES.index,
    )
    r_iss = r_set[0] if len(r_set) == 1 else None
    if r_iss is None:
        missing = []
        if iss is None:
            missing.append("ISS")
        if hr_ca is None:
            missing.append(
                "high-risk CA ("
                + ", ".join(
                    f"cytogenetics.{n}"
                    for n, v in (("del_17p", del17p), ("t_4_14", t_4_14), ("t_14_16", t_14_16))
                    if v is None
                )
                + ")"
            )
        if high_ldh is None:
            missing.append("LDH status")
        reasons.append(f"R-ISS undetermined ({' or '.join(r_set)}): {', '.join(missing)} unknown")

    # R2-ISS (docs/criteria.md §2.3): additive score; the group is known when min and max fall in one group.
    pts_min = min(R2_POINTS_ISS[s] for s in iss_set)
    pts_max = max(R2_POINTS_ISS[s] for s in iss_set)
    unknown_r2: list[str] = ["ISS"] if iss is None else []
    for name, v, w in (
        ("del(17p)", del17p, R2_POINTS_DEL17P),
        ("LDH status", high_ldh, R2_POINTS_HIGH_LDH),
        ("t(4;14)", t_4_14, R2_POINTS_T_4_14),
        ("1q gain", gain_1q, R2_POINTS_GAIN_1Q),
    ):
        if v is True:
            pts_min += w
            pts_max += w
        elif v is None:
            pts_max += w
            unknown_r2.append(name)
    g_min, g_max = _r2_group(pts_min), _r2_group(pts_max)
    group = g_min if g_min == g_max else None
    points = pts_min if pts_min == pts_max else None
    if group is None:
        reasons.append(
            f"R2-ISS group undetermined (score {_fmt(pts_min)}-{_fmt(pts_max)}, groups {g_min}-{g_max}): "
            f"{', '.join(unknown_r2)} unknown"
        )
    elif points is None:
        reasons.append(
            f"R2-ISS score {_fmt(pts_min)}-{_fmt(pts_max)} ({', '.join(unknown_r2)} unknown), "
            f"group {group} either way"
        )

    if ldh_note and (r_iss is None or points is None):
        reasons.append(ldh_note)

    return (
        iss,
        r_iss,
        r_set,
        float(points) if points is not None and group is not None else None,
        group,
        float(pts_min),
        float(pts_max),
        reasons,
        list(iss_set),
    )
